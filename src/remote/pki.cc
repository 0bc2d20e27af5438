#include "vigie/remote/pki.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <initializer_list>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/openssl_ptr.h"
#include "vigie/core/time.h"

namespace vigie::remote {
namespace {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;
using core::fail;
using core::TimePoint;

template <auto Free>
using Deleter = core::OpenSslFree<Free>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

// OPENSSL_free is a macro, so it cannot be a Deleter argument.
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

constexpr const char* kCaCommonName = "Vigie remote-service CA";
constexpr const char* kClientOrganisation = "Vigie connector";
constexpr int kCaValidityYears = 10;
constexpr int kMaxValidityDays = 3650;  // nothing Vigie issues outlives its CA
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxCommonNameBytes = 64;  // ub-common-name, RFC 5280
constexpr size_t kMaxDnsNameBytes = 253;
constexpr int kMinSecurityBits = 112;  // refuses RSA-1024 and the like in requests
// Clocks of connectors and browsers drift; a certificate valid from "now" fails on a slow one.
constexpr std::chrono::minutes kBackdate{5};

struct Extension {
  int nid;
  const char* value;
};

// The subject key identifier comes first: the authority key identifier of a self-signed
// certificate is read from it.
constexpr std::array kCaExtensions{
    Extension{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
    Extension{NID_key_usage, "critical,keyCertSign,cRLSign"},
    Extension{NID_subject_key_identifier, "hash"},
    Extension{NID_authority_key_identifier, "keyid:always"},
};
constexpr std::array kServerExtensions{
    Extension{NID_basic_constraints, "critical,CA:FALSE"},
    Extension{NID_key_usage, "critical,digitalSignature"},
    Extension{NID_ext_key_usage, "serverAuth"},
    Extension{NID_subject_key_identifier, "hash"},
    Extension{NID_authority_key_identifier, "keyid:always"},
};
constexpr std::array kClientExtensions{
    Extension{NID_basic_constraints, "critical,CA:FALSE"},
    Extension{NID_key_usage, "critical,digitalSignature"},
    Extension{NID_ext_key_usage, "clientAuth"},
    Extension{NID_subject_key_identifier, "hash"},
    Extension{NID_authority_key_identifier, "keyid:always"},
};

// The reason of the last OpenSSL error, and an empty queue for whoever comes next.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  std::string out = reason != nullptr ? reason : "no detail from OpenSSL";
  ERR_clear_error();
  return out;
}

// Keys are never encrypted here; without this callback OpenSSL would prompt on the terminal.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return 0; }

template <class Ptr, auto Read>
Result<Ptr> read_pem(std::string_view pem, std::string_view what, const std::string& where) {
  if (pem.size() > kMaxPemBytes) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the {} is larger than {} bytes", what, kMaxPemBytes), where);
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr object(bio ? Read(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  if (!object) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("cannot read the {} (PEM): {}", what, openssl_reason()), where);
  }
  return object;
}

Result<X509Ptr> read_cert(std::string_view pem, const std::string& where) {
  return read_pem<X509Ptr, PEM_read_bio_X509>(pem, "certificate", where);
}

template <class Write>
Result<std::string> to_pem(Write write, std::string_view what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) {
    return fail(ErrorCode::kInternal,
                fmt::format("cannot encode the {}: {}", what, openssl_reason()));
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> cert_to_pem(X509* cert) {
  return to_pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "certificate");
}

Status write_cert(const fs::path& path, X509* cert) {
  auto pem = cert_to_pem(cert);
  if (!pem) return tl::unexpected(pem.error());
  return core::write_file_durably(path, *pem, 0644);
}

// Created 0600 by write_file_durably before any byte lands in it.
Status write_key(const fs::path& path, EVP_PKEY* key) {
  auto pem = to_pem(
      [key](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "private key");
  if (!pem) return tl::unexpected(pem.error());
  Status written = core::write_file_durably(path, *pem, 0600);
  OPENSSL_cleanse(pem->data(), pem->size());
  return written;
}

Result<PKeyPtr> new_key() {
  PKeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return fail(ErrorCode::kInternal, "cannot generate an EC P-256 key: " + openssl_reason());
  }
  return key;
}

Status create_parent(const fs::path& path) {
  if (!path.has_parent_path()) return {};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return fail(ErrorCode::kIo, "cannot create the directory: " + ec.message(),
                path.parent_path().string());
  }
  return {};
}

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

Result<NamePtr> make_name(std::initializer_list<std::pair<const char*, std::string_view>> rdns) {
  NamePtr name(X509_NAME_new());
  for (const auto& [field, value] : rdns) {
    if (!name || X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                            reinterpret_cast<const unsigned char*>(value.data()),
                                            static_cast<int>(value.size()), -1, 0) != 1) {
      return fail(ErrorCode::kInternal,
                  fmt::format("cannot set the subject's {}: {}", field, openssl_reason()));
    }
  }
  return name;
}

Status check_common_name(std::string_view cn) {
  bool printable = std::all_of(cn.begin(), cn.end(),
                               [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
  if (cn.empty() || cn.size() > kMaxCommonNameBytes || !printable) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("a common name has 1 to {} characters and no control character, "
                            "not '{}'",
                            kMaxCommonNameBytes, cn));
  }
  return {};
}

Status check_validity_days(int days) {
  if (days < 1 || days > kMaxValidityDays) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("a validity of {} days is outside 1 to {}", days, kMaxValidityDays));
  }
  return {};
}

std::time_t to_time_t(TimePoint t) {
  return std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
}

Result<TimePoint> to_time_point(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return fail(ErrorCode::kInvalidInput, "the certificate has an unreadable validity time");
  }
  using namespace std::chrono;
  auto date = sys_days{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                       day{static_cast<unsigned>(tm.tm_mday)}};
  return time_point_cast<milliseconds>(date + hours{tm.tm_hour} + minutes{tm.tm_min} +
                                       seconds{tm.tm_sec});
}

// What a certificate says about itself, before it is put into a CertInfo.
struct Validity {
  TimePoint not_before;
  TimePoint not_after;
};

Result<Validity> validity_of(const X509* cert) {
  auto not_before = to_time_point(X509_get0_notBefore(cert));
  if (!not_before) return tl::unexpected(not_before.error());
  auto not_after = to_time_point(X509_get0_notAfter(cert));
  if (!not_after) return tl::unexpected(not_after.error());
  return Validity{*not_before, *not_after};
}

std::string common_name_of(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::unique_ptr<unsigned char, OpenSslFree> owned(utf8);
  return {reinterpret_cast<const char*>(owned.get()), static_cast<size_t>(length)};
}

Result<std::string> serial_of(const X509* cert) {
  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  std::unique_ptr<char, OpenSslFree> hex(serial ? BN_bn2hex(serial.get()) : nullptr);
  if (!hex) return fail(ErrorCode::kInternal, "cannot read the serial: " + openssl_reason());
  std::string out(hex.get());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::string> fingerprint_of(const X509* cert) {
  int size = i2d_X509(cert, nullptr);
  if (size <= 0) return fail(ErrorCode::kInternal, "cannot encode the certificate as DER");
  std::string der(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert, &out) != size) {
    return fail(ErrorCode::kInternal, "cannot encode the certificate as DER");
  }
  return core::sha256_hex(der);
}

Result<CertInfo> info_of(const X509* cert) {
  auto serial = serial_of(cert);
  if (!serial) return tl::unexpected(serial.error());
  auto validity = validity_of(cert);
  if (!validity) return tl::unexpected(validity.error());
  auto fingerprint = fingerprint_of(cert);
  if (!fingerprint) return tl::unexpected(fingerprint.error());
  return CertInfo{*serial, common_name_of(cert), core::format_utc(validity->not_before),
                  core::format_utc(validity->not_after), *fingerprint};
}

// What a new certificate is made of. `issuer` null means self-signed.
struct CertSpec {
  const X509_NAME* subject = nullptr;
  EVP_PKEY* public_key = nullptr;
  X509* issuer = nullptr;
  EVP_PKEY* signing_key = nullptr;
  TimePoint now;  // read once by the caller: not_after is counted from it too
  TimePoint not_after;
  std::span<const Extension> extensions;
  std::string alt_names;  // a subjectAltName value ("DNS:a,IP:1.2.3.4"), empty for none
};

bool set_serial(X509* cert) {
  BnPtr serial(BN_new());
  return serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result<X509Ptr> issue(const CertSpec& spec) {
  X509Ptr cert(X509_new());
  if (!cert) return fail(ErrorCode::kInternal, "cannot allocate a certificate");
  X509* issuer = spec.issuer != nullptr ? spec.issuer : cert.get();
  bool built =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && set_serial(cert.get()) &&
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), to_time_t(spec.now - kBackdate)) != nullptr &&
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), to_time_t(spec.not_after)) != nullptr &&
      X509_set_subject_name(cert.get(), spec.subject) == 1 &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) == 1 &&
      X509_set_pubkey(cert.get(), spec.public_key) == 1;
  for (const Extension& ext : spec.extensions) {
    built = built && add_extension(cert.get(), issuer, ext.nid, ext.value);
  }
  if (built && !spec.alt_names.empty()) {
    built = add_extension(cert.get(), issuer, NID_subject_alt_name, spec.alt_names.c_str());
  }
  if (!built || X509_sign(cert.get(), spec.signing_key, EVP_sha256()) == 0) {
    return fail(ErrorCode::kInternal, "cannot build the certificate: " + openssl_reason());
  }
  return cert;
}

struct Ca {
  X509Ptr cert;
  PKeyPtr key;
};

Result<X509Ptr> load_ca_cert(const fs::path& dir) {
  fs::path path = ca_cert_path(dir);
  if (!is_file(path)) {
    return fail(ErrorCode::kNotFound, "no CA certificate here (ensure_ca creates one)",
                path.string());
  }
  auto pem = core::read_file(path);
  if (!pem) return tl::unexpected(pem.error());
  return read_cert(*pem, path.string());
}

Result<Ca> load_ca(const fs::path& dir) {
  auto cert = load_ca_cert(dir);
  if (!cert) return tl::unexpected(cert.error());
  fs::path path = ca_key_path(dir);
  if (!is_file(path)) {
    return fail(ErrorCode::kNotFound, "no CA private key here (ensure_ca creates one)",
                path.string());
  }
  auto pem = core::read_file(path);
  if (!pem) return tl::unexpected(pem.error());
  auto key = read_pem<PKeyPtr, PEM_read_bio_PrivateKey>(*pem, "private key", path.string());
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key) return tl::unexpected(key.error());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kInvalidInput, "the CA private key does not match ca.pem",
                path.string());
  }
  return Ca{std::move(*cert), std::move(*key)};
}

// A subjectAltName entry in two forms: as OpenSSL's configuration syntax wants it, and as a
// key that compares equal for equal names whatever their spelling ("::1" and "0:0::1").
struct AltName {
  std::string config;
  std::string key;
};

std::string ip_key(const unsigned char* bytes, size_t size) {
  return "IP:" + core::to_hex(bytes, size);
}

std::string dns_key(std::string_view name) {
  std::string out = "DNS:";
  for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<AltName> alt_name(const std::string& name) {
  std::array<unsigned char, sizeof(in6_addr)> bytes{};
  std::array<char, INET6_ADDRSTRLEN> text{};
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, name.c_str(), bytes.data()) != 1) continue;
    size_t size = family == AF_INET ? sizeof(in_addr) : sizeof(in6_addr);
    inet_ntop(family, bytes.data(), text.data(), text.size());
    return AltName{std::string("IP:") + text.data(), ip_key(bytes.data(), size)};
  }
  // Only these characters: a name can then never inject more entries into the config syntax.
  bool hostname = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
  });
  if (name.empty() || name.size() > kMaxDnsNameBytes || !hostname) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is neither an IP address nor a DNS name", name));
  }
  return AltName{"DNS:" + name, dns_key(name)};
}

std::set<std::string> alt_name_keys(const X509* cert) {
  std::set<std::string> keys;
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* dns = name->d.dNSName;
      keys.insert(dns_key({reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                           static_cast<size_t>(ASN1_STRING_length(dns))}));
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* ip = name->d.iPAddress;
      keys.insert(ip_key(ASN1_STRING_get0_data(ip), static_cast<size_t>(ASN1_STRING_length(ip))));
    } else {
      keys.insert(fmt::format("other:{}", name->type));
    }
  }
  return keys;
}

// Whether the server certificate at cert_path/key_path can stay. Unreadable files, or a key
// that is not the certificate's (a crash between the two writes), count as missing.
bool server_cert_current(const Ca& ca, const fs::path& cert_path, const fs::path& key_path,
                         const std::set<std::string>& wanted, std::string_view first_name) {
  if (!is_file(cert_path) || !is_file(key_path)) return false;
  auto cert_pem = core::read_file(cert_path);
  auto key_pem = core::read_file(key_path);
  if (!cert_pem || !key_pem) return false;
  auto cert = read_cert(*cert_pem, cert_path.string());
  auto key = read_pem<PKeyPtr, PEM_read_bio_PrivateKey>(*key_pem, "private key", {});
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!cert || !key) return false;
  bool current = X509_check_private_key(cert->get(), key->get()) == 1 &&
                 X509_verify(cert->get(), X509_get0_pubkey(ca.cert.get())) == 1 &&
                 alt_name_keys(cert->get()) == wanted && common_name_of(cert->get()) == first_name;
  ERR_clear_error();
  auto validity = validity_of(cert->get());
  if (!current || !validity) return false;
  // Renewed once less than a third of its validity remains.
  return (validity->not_after - core::utc_now()) * 3 > validity->not_after - validity->not_before;
}

}  // namespace

fs::path ca_cert_path(const fs::path& dir) { return dir / "ca.pem"; }
fs::path ca_key_path(const fs::path& dir) { return dir / "ca.key"; }

Result<bool> ensure_ca(const fs::path& dir) {
  if (is_file(ca_cert_path(dir)) && is_file(ca_key_path(dir))) return false;
  VIGIE_TRY(create_parent(ca_cert_path(dir)));
  auto key = new_key();
  if (!key) return tl::unexpected(key.error());
  auto subject = make_name({{"CN", kCaCommonName}});
  if (!subject) return tl::unexpected(subject.error());
  using namespace std::chrono;
  TimePoint now = core::utc_now();
  year_month_day today{floor<days>(now)};
  year_month_day expiry = today + years{kCaValidityYears};
  if (!expiry.ok()) expiry = expiry.year() / expiry.month() / last;  // from 29 February
  auto cert = issue(CertSpec{.subject = subject->get(),
                             .public_key = key->get(),
                             .issuer = nullptr,
                             .signing_key = key->get(),
                             .now = now,
                             .not_after = sys_days{expiry} + (now - floor<days>(now)),
                             .extensions = kCaExtensions,
                             .alt_names = {}});
  if (!cert) return tl::unexpected(cert.error());
  // The key first: a crash before the certificate is written leaves no ca.pem, so the next
  // call creates both again.
  VIGIE_TRY(write_key(ca_key_path(dir), key->get()));
  VIGIE_TRY(write_cert(ca_cert_path(dir), cert->get()));
  return true;
}

Result<CertInfo> cert_info(std::string_view pem) {
  auto cert = read_cert(pem, {});
  if (!cert) return tl::unexpected(cert.error());
  return info_of(cert->get());
}

Result<CertInfo> cert_info_file(const fs::path& pem_path) {
  auto pem = core::read_file(pem_path);
  if (!pem) return tl::unexpected(pem.error());
  auto cert = read_cert(*pem, pem_path.string());
  if (!cert) return tl::unexpected(cert.error());
  auto info = info_of(cert->get());
  if (!info) {
    Error error = info.error();
    error.where = pem_path.string();
    return tl::unexpected(error);
  }
  return info;
}

Result<bool> ensure_server_cert(const fs::path& ca_dir, const fs::path& cert_path,
                                const fs::path& key_path, const std::vector<std::string>& names,
                                int validity_days) {
  VIGIE_TRY(check_validity_days(validity_days));
  if (names.empty()) {
    return fail(ErrorCode::kInvalidInput, "a server certificate needs at least one name");
  }
  VIGIE_TRY(check_common_name(names.front()));
  std::set<std::string> wanted;
  std::string alt_names;
  for (const std::string& name : names) {
    auto alt = alt_name(name);
    if (!alt) return tl::unexpected(alt.error());
    if (!wanted.insert(alt->key).second) continue;
    alt_names += (alt_names.empty() ? "" : ",") + alt->config;
  }
  auto ca = load_ca(ca_dir);
  if (!ca) return tl::unexpected(ca.error());
  if (server_cert_current(*ca, cert_path, key_path, wanted, names.front())) return false;

  auto key = new_key();
  if (!key) return tl::unexpected(key.error());
  auto subject = make_name({{"CN", names.front()}});
  if (!subject) return tl::unexpected(subject.error());
  TimePoint now = core::utc_now();
  auto cert = issue(CertSpec{.subject = subject->get(),
                             .public_key = key->get(),
                             .issuer = ca->cert.get(),
                             .signing_key = ca->key.get(),
                             .now = now,
                             .not_after = now + std::chrono::days{validity_days},
                             .extensions = kServerExtensions,
                             .alt_names = alt_names});
  if (!cert) return tl::unexpected(cert.error());
  VIGIE_TRY(create_parent(key_path));
  VIGIE_TRY(create_parent(cert_path));
  VIGIE_TRY(write_key(key_path, key->get()));
  VIGIE_TRY(write_cert(cert_path, cert->get()));
  return true;
}

Result<std::string> make_key_and_csr(const fs::path& key_path, std::string_view common_name) {
  VIGIE_TRY(check_common_name(common_name));
  auto key = new_key();
  if (!key) return tl::unexpected(key.error());
  auto subject = make_name({{"CN", common_name}});
  if (!subject) return tl::unexpected(subject.error());
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject->get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key->get()) != 1 ||
      X509_REQ_sign(req.get(), key->get(), EVP_sha256()) == 0) {
    return fail(ErrorCode::kInternal, "cannot build the certificate request: " + openssl_reason());
  }
  auto pem = to_pem([&req](BIO* bio) { return PEM_write_bio_X509_REQ(bio, req.get()); },
                    "certificate request");
  if (!pem) return tl::unexpected(pem.error());
  VIGIE_TRY(create_parent(key_path));
  VIGIE_TRY(write_key(key_path, key->get()));
  return pem;
}

Result<IssuedCert> sign_client_csr(const fs::path& ca_dir, std::string_view csr_pem,
                                   std::string_view common_name, int validity_days) {
  VIGIE_TRY(check_common_name(common_name));
  VIGIE_TRY(check_validity_days(validity_days));
  auto req = read_pem<ReqPtr, PEM_read_bio_X509_REQ>(csr_pem, "certificate request", {});
  if (!req) return tl::unexpected(req.error());
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req->get());
  if (public_key == nullptr) {
    return fail(ErrorCode::kInvalidInput,
                "the certificate request has an unreadable public key: " + openssl_reason());
  }
  if (X509_REQ_verify(req->get(), public_key) != 1) {
    return fail(ErrorCode::kInvalidInput,
                "the certificate request's signature does not verify with its own key: " +
                    openssl_reason());
  }
  if (EVP_PKEY_get_security_bits(public_key) < kMinSecurityBits) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the certificate request's key is too weak ({} bits of security, {} "
                            "needed)",
                            EVP_PKEY_get_security_bits(public_key), kMinSecurityBits));
  }
  auto ca = load_ca(ca_dir);
  if (!ca) return tl::unexpected(ca.error());
  auto subject = make_name({{"O", kClientOrganisation}, {"CN", common_name}});
  if (!subject) return tl::unexpected(subject.error());
  TimePoint now = core::utc_now();
  auto cert = issue(CertSpec{.subject = subject->get(),
                             .public_key = public_key,
                             .issuer = ca->cert.get(),
                             .signing_key = ca->key.get(),
                             .now = now,
                             .not_after = now + std::chrono::days{validity_days},
                             .extensions = kClientExtensions,
                             .alt_names = {}});
  if (!cert) return tl::unexpected(cert.error());
  auto pem = cert_to_pem(cert->get());
  if (!pem) return tl::unexpected(pem.error());
  auto info = info_of(cert->get());
  if (!info) return tl::unexpected(info.error());
  return IssuedCert{std::move(*pem), std::move(*info)};
}

Status verify_issued(const fs::path& ca_dir, std::string_view cert_pem) {
  auto ca_cert = load_ca_cert(ca_dir);
  if (!ca_cert) return tl::unexpected(ca_cert.error());
  auto cert = read_cert(cert_pem, {});
  if (!cert) return tl::unexpected(cert.error());
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca_cert->get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return fail(ErrorCode::kInternal, "cannot set up verification: " + openssl_reason());
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the certificate was not issued by this CA or is not valid now: {}",
                            X509_verify_cert_error_string(code)));
  }
  return {};
}

}  // namespace vigie::remote
