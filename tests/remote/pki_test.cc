// Vigie's remote-service CA with real keys and certificates generated per run: the CA is made
// once, the broker's certificate is renewed only when it must be, client requests are checked
// and signed with Vigie's own subject and extensions, and foreign or damaged input is refused.
#include "vigie/remote/pki.h"
#include "vigie/core/openssl_ptr.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "test_support.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/time.h"

namespace vigie::remote {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;
using std::chrono::days;

template <auto Free>
using Deleter = core::OpenSslFree<Free>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
struct ExtStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using ExtStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtStackFree>;

std::string slurp(const fs::path& path) {
  auto text = core::read_file(path);
  EXPECT_TRUE(text) << path;
  return text.value_or("");
}

X509Ptr parse_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PKeyPtr parse_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PKeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

ReqPtr parse_csr(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return ReqPtr(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
}

std::string subject_field(const X509* cert, int nid) {
  std::string out(256, '\0');
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, out.data(),
                                    static_cast<int>(out.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool is_critical(const X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

fs::perms permissions(const fs::path& path) { return fs::status(path).permissions(); }

constexpr fs::perms kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

// A PKCS#10 request for `subject_key` with CN `cn`, asking for `extensions`, signed by `signer`
// (another key than `subject_key` makes a request whose signature does not verify).
std::string make_csr(EVP_PKEY* subject_key, EVP_PKEY* signer, const char* cn,
                     const std::vector<std::pair<int, const char*>>& extensions = {}) {
  ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), subject_key);
  if (!extensions.empty()) {
    ExtStackPtr stack(sk_X509_EXTENSION_new_null());
    for (const auto& [nid, value] : extensions) {
      ExtPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value));
      EXPECT_TRUE(ext) << value;
      // The stack owns the extension once pushed.
      if (ext && sk_X509_EXTENSION_push(stack.get(), ext.get()) > 0) {
        static_cast<void>(ext.release());
      }
    }
    EXPECT_EQ(X509_REQ_add_extensions(req.get(), stack.get()), 1);
  }
  EXPECT_NE(X509_REQ_sign(req.get(), signer, EVP_sha256()), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(size)};
}

// The PEM with one base64 character changed near the end, where the ECDSA signature's last
// integer is encoded: the request still parses, its signature no longer verifies.
std::string tamper_signature(std::string pem) {
  size_t pos = pem.find("-----END");
  for (int skipped = 0; skipped < 8;) {
    --pos;
    if (pem[pos] != '\n' && pem[pos] != '=') ++skipped;
  }
  pem[pos] = pem[pos] == 'A' ? 'B' : 'A';
  return pem;
}

// A server certificate signed by the CA in `ca_dir` for the key in `key_path`, valid from
// now + `from` to now + `to`: what ensure_server_cert would find after time has passed.
std::string forge_server_cert(const fs::path& ca_dir, const fs::path& key_path, const char* cn,
                              const char* alt_names, days from, days to) {
  X509Ptr ca = parse_cert(slurp(ca_cert_path(ca_dir)));
  PKeyPtr ca_key = parse_key(slurp(ca_key_path(ca_dir)));
  PKeyPtr key = parse_key(slurp(key_path));
  X509Ptr cert(X509_new());
  EXPECT_TRUE(ca && ca_key && key && cert);
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 42);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), static_cast<int>(from.count()), 0, nullptr);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(to.count()), 0, nullptr);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  ExtPtr san(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, alt_names));
  EXPECT_TRUE(san);
  X509_add_ext(cert.get(), san.get(), -1);
  EXPECT_NE(X509_sign(cert.get(), ca_key.get(), EVP_sha256()), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(size)};
}

bool is_lower_hex(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

const std::regex kIsoUtc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = ensure_ca(ca_dir_);
    ASSERT_TRUE(created) << created.error().to_string();
  }

  vigie::testing::TempDir dir_;
  fs::path ca_dir_ = dir_ / "ca";
  fs::path cert_path_ = dir_ / "broker" / "server.pem";
  fs::path key_path_ = dir_ / "broker" / "server.key";
};

// --- The CA -----------------------------------------------------------------------------

TEST(PkiCa, CreatedOnceThenLeftUnchanged) {
  vigie::testing::TempDir dir;
  auto created = ensure_ca(dir / "ca");
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_TRUE(*created);
  EXPECT_EQ(permissions(ca_key_path(dir / "ca")), kOwnerOnly);
  std::string cert = slurp(ca_cert_path(dir / "ca"));
  std::string key = slurp(ca_key_path(dir / "ca"));

  auto again = ensure_ca(dir / "ca");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_FALSE(*again);
  EXPECT_EQ(slurp(ca_cert_path(dir / "ca")), cert);
  EXPECT_EQ(slurp(ca_key_path(dir / "ca")), key);
}

TEST(PkiCa, RecreatedWhenItsKeyIsMissing) {
  vigie::testing::TempDir dir;
  ASSERT_TRUE(ensure_ca(dir.path()));
  std::string first = slurp(ca_cert_path(dir.path()));
  fs::remove(ca_key_path(dir.path()));

  auto created = ensure_ca(dir.path());
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_TRUE(*created);
  EXPECT_NE(slurp(ca_cert_path(dir.path())), first);
  X509Ptr cert = parse_cert(slurp(ca_cert_path(dir.path())));
  PKeyPtr key = parse_key(slurp(ca_key_path(dir.path())));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(PkiTest, CaIsSelfSignedCaTrueWithPathLenZeroForTenYears) {
  X509Ptr cert = parse_cert(slurp(ca_cert_path(ca_dir_)));
  PKeyPtr key = parse_key(slurp(ca_key_path(ca_dir_)));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_self_signed(cert.get(), 1), 1);
  EXPECT_GE(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  EXPECT_TRUE(is_critical(cert.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_TRUE(is_critical(cert.get(), NID_key_usage));
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);

  auto info = cert_info_file(ca_cert_path(ca_dir_));
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->subject_cn, "Vigie remote-service CA");
  EXPECT_TRUE(std::regex_match(info->not_before, kIsoUtc)) << info->not_before;
  EXPECT_TRUE(std::regex_match(info->not_after, kIsoUtc)) << info->not_after;
  auto not_before = core::parse_utc(info->not_before);
  auto not_after = core::parse_utc(info->not_after);
  ASSERT_TRUE(not_before && not_after);
  // Ten calendar years (two or three leap days) plus the five minutes of backdating.
  EXPECT_GE(*not_after - *not_before, days(3652));
  EXPECT_LE(*not_after - *not_before, days(3654));
}

// --- The broker's server certificate ----------------------------------------------------

TEST_F(PkiTest, ServerCertHasTheNamesAsAltNamesAndVerifiesAgainstTheCa) {
  auto issued =
      ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example", "10.0.0.5", "::1"}, 90);
  ASSERT_TRUE(issued) << issued.error().to_string();
  EXPECT_TRUE(*issued);
  EXPECT_EQ(permissions(key_path_), kOwnerOnly);

  std::string pem = slurp(cert_path_);
  X509Ptr cert = parse_cert(pem);
  PKeyPtr key = parse_key(slurp(key_path_));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(subject_field(cert.get(), NID_commonName), "broker.example");
  EXPECT_EQ(X509_check_host(cert.get(), "broker.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.5", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "other.example", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.6", 0), 0);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_SERVER));

  Status verified = verify_issued(ca_dir_, pem);
  EXPECT_TRUE(verified) << verified.error().to_string();
  auto info = cert_info(pem);
  ASSERT_TRUE(info) << info.error().to_string();
  auto not_before = core::parse_utc(info->not_before);
  auto not_after = core::parse_utc(info->not_after);
  ASSERT_TRUE(not_before && not_after);
  EXPECT_EQ(*not_after - *not_before, days(90) + std::chrono::minutes(5));
}

TEST_F(PkiTest, ServerCertNotReissuedWhenItsNamesAreUnchanged) {
  ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example", "::1"}, 90));
  std::string cert = slurp(cert_path_);
  std::string key = slurp(key_path_);

  // The same addresses spelled differently are the same names.
  for (const std::vector<std::string>& names : std::vector<std::vector<std::string>>{
           {"broker.example", "::1"}, {"broker.example", "0:0:0:0:0:0:0:1"}}) {
    auto issued = ensure_server_cert(ca_dir_, cert_path_, key_path_, names, 90);
    ASSERT_TRUE(issued) << issued.error().to_string();
    EXPECT_FALSE(*issued) << names.back();
  }
  EXPECT_EQ(slurp(cert_path_), cert);
  EXPECT_EQ(slurp(key_path_), key);
}

TEST_F(PkiTest, ServerCertReissuedWithANewKeyWhenItsNamesChange) {
  ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90));
  std::string old_key = slurp(key_path_);

  auto issued =
      ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example", "10.0.0.6"}, 90);
  ASSERT_TRUE(issued) << issued.error().to_string();
  EXPECT_TRUE(*issued);
  EXPECT_NE(slurp(key_path_), old_key);
  X509Ptr cert = parse_cert(slurp(cert_path_));
  PKeyPtr key = parse_key(slurp(key_path_));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.0.0.6", 0), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);

  // A name removed is a change too.
  auto fewer = ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90);
  ASSERT_TRUE(fewer);
  EXPECT_TRUE(*fewer);
}

TEST_F(PkiTest, ServerCertReissuedWhenSignedByAnotherCa) {
  ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90));
  fs::path other_ca = dir_ / "other-ca";
  ASSERT_TRUE(ensure_ca(other_ca));
  EXPECT_FALSE(verify_issued(other_ca, slurp(cert_path_)));

  auto issued = ensure_server_cert(other_ca, cert_path_, key_path_, {"broker.example"}, 90);
  ASSERT_TRUE(issued) << issued.error().to_string();
  EXPECT_TRUE(*issued);
  Status verified = verify_issued(other_ca, slurp(cert_path_));
  EXPECT_TRUE(verified) << verified.error().to_string();
}

TEST_F(PkiTest, ServerCertReissuedWhenItsKeyIsNotTheCertificates) {
  ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90));
  ASSERT_TRUE(make_key_and_csr(key_path_, "stray"));  // another key in the key's place

  auto issued = ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90);
  ASSERT_TRUE(issued) << issued.error().to_string();
  EXPECT_TRUE(*issued);
  X509Ptr cert = parse_cert(slurp(cert_path_));
  PKeyPtr key = parse_key(slurp(key_path_));
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(PkiTest, ServerCertReissuedOnlyOnceLessThanAThirdOfItsValidityRemains) {
  struct Case {
    days from;
    days to;
    bool reissued;
  };
  // 90 days in all: 10 left is under a third, 50 left is over.
  for (const Case& c : {Case{days(-80), days(10), true}, Case{days(-40), days(50), false}}) {
    ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90));
    std::string aged =
        forge_server_cert(ca_dir_, key_path_, "broker.example", "DNS:broker.example", c.from, c.to);
    ASSERT_TRUE(core::write_file_durably(cert_path_, aged, 0644));

    auto issued = ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90);
    ASSERT_TRUE(issued) << issued.error().to_string();
    EXPECT_EQ(*issued, c.reissued) << c.to.count() << " days left";
    EXPECT_EQ(slurp(cert_path_) != aged, c.reissued);
  }
}

TEST_F(PkiTest, ServerCertRefusesNamesThatAreNeitherAddressesNorHostnames) {
  const std::vector<std::vector<std::string>> refused = {
      {}, {""}, {"broker.example,DNS:evil.example"}, {"broker.example", "bad name"}};
  for (const auto& names : refused) {
    auto issued = ensure_server_cert(ca_dir_, cert_path_, key_path_, names, 90);
    ASSERT_FALSE(issued);
    EXPECT_EQ(issued.error().code, ErrorCode::kInvalidInput) << issued.error().to_string();
  }
  auto no_days = ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 0);
  ASSERT_FALSE(no_days);
  EXPECT_EQ(no_days.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(fs::exists(cert_path_));
  EXPECT_FALSE(fs::exists(key_path_));
}

TEST_F(PkiTest, ServerCertNeedsTheCa) {
  auto issued = ensure_server_cert(dir_ / "no-ca", cert_path_, key_path_, {"broker.example"}, 90);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(issued.error().where, ca_cert_path(dir_ / "no-ca").string());
}

// --- Client certificates from connectors' requests ---------------------------------------

TEST_F(PkiTest, ClientCsrRoundTripGivesACertificateForTheKeyFile) {
  fs::path key_path = dir_ / "connector" / "client.key";
  auto csr = make_key_and_csr(key_path, "connector-7");
  ASSERT_TRUE(csr) << csr.error().to_string();
  EXPECT_EQ(permissions(key_path), kOwnerOnly);
  ReqPtr req = parse_csr(*csr);
  PKeyPtr key = parse_key(slurp(key_path));
  ASSERT_TRUE(req && key);
  EXPECT_EQ(X509_REQ_verify(req.get(), key.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), key.get()), 1);

  core::TimePoint before = core::utc_now();
  auto issued = sign_client_csr(ca_dir_, *csr, "connector-7", 365);
  core::TimePoint after = core::utc_now();
  ASSERT_TRUE(issued) << issued.error().to_string();

  X509Ptr cert = parse_cert(issued->pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(issued->info.subject_cn, "connector-7");
  EXPECT_EQ(subject_field(cert.get(), NID_organizationName), "Vigie connector");

  std::unique_ptr<BIGNUM, Deleter<BN_free>> serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  ASSERT_TRUE(serial);
  EXPECT_LE(BN_num_bits(serial.get()), 127);
  EXPECT_TRUE(is_lower_hex(issued->info.serial)) << issued->info.serial;
  std::unique_ptr<BIGNUM, Deleter<BN_free>> parsed(nullptr);
  BIGNUM* raw = nullptr;
  ASSERT_GT(BN_hex2bn(&raw, issued->info.serial.c_str()), 0);
  parsed.reset(raw);
  EXPECT_EQ(BN_cmp(parsed.get(), serial.get()), 0);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  ASSERT_EQ(X509_digest(cert.get(), EVP_sha256(), digest.data(), &digest_size), 1);
  EXPECT_EQ(issued->info.fingerprint.size(), 64U);
  EXPECT_EQ(issued->info.fingerprint, core::to_hex(digest.data(), digest_size));

  auto not_after = core::parse_utc(issued->info.not_after);
  auto not_before = core::parse_utc(issued->info.not_before);
  ASSERT_TRUE(not_after && not_before);
  // Certificates hold whole seconds.
  EXPECT_GE(*not_after, std::chrono::floor<std::chrono::seconds>(before) + days(365));
  EXPECT_LE(*not_after, after + days(365));
  EXPECT_LE(*not_before, before - std::chrono::minutes(4));

  auto info = cert_info(issued->pem);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->serial, issued->info.serial);
  EXPECT_EQ(info->fingerprint, issued->info.fingerprint);
  Status verified = verify_issued(ca_dir_, issued->pem);
  EXPECT_TRUE(verified) << verified.error().to_string();
}

TEST_F(PkiTest, ClientCertsFromTheSameRequestHaveDistinctSerials) {
  auto csr = make_key_and_csr(dir_ / "client.key", "connector-7");
  ASSERT_TRUE(csr);
  auto first = sign_client_csr(ca_dir_, *csr, "connector-7", 30);
  auto second = sign_client_csr(ca_dir_, *csr, "connector-7", 30);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->info.serial, second->info.serial);
  EXPECT_NE(first->info.fingerprint, second->info.fingerprint);
}

TEST_F(PkiTest, ClientCertHasVigiesSubjectAndExtensionsWhateverTheRequestAsks) {
  PKeyPtr key(EVP_EC_gen("P-256"));
  ASSERT_TRUE(key);
  std::string csr = make_csr(key.get(), key.get(), "evil",
                             {{NID_basic_constraints, "critical,CA:TRUE"},
                              {NID_ext_key_usage, "serverAuth,clientAuth"},
                              {NID_subject_alt_name, "DNS:evil.example"}});

  auto issued = sign_client_csr(ca_dir_, csr, "connector-7", 30);
  ASSERT_TRUE(issued) << issued.error().to_string();
  X509Ptr cert = parse_cert(issued->pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(issued->info.subject_cn, "connector-7");
  EXPECT_EQ(subject_field(cert.get(), NID_commonName), "connector-7");
  EXPECT_EQ(subject_field(cert.get(), NID_organizationName), "Vigie connector");
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(is_critical(cert.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_TRUE(is_critical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_LT(X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1), 0);
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  X509Ptr ca = parse_cert(slurp(ca_cert_path(ca_dir_)));
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())), 0);
  ASSERT_NE(X509_get0_authority_key_id(cert.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()),
                                  X509_get0_subject_key_id(ca.get())),
            0);
}

TEST_F(PkiTest, ClientCsrSignedByAnotherKeyIsRefused) {
  PKeyPtr claimed(EVP_EC_gen("P-256"));
  PKeyPtr signer(EVP_EC_gen("P-256"));
  ASSERT_TRUE(claimed && signer);
  std::string csr = make_csr(claimed.get(), signer.get(), "connector-7");
  ASSERT_TRUE(parse_csr(csr));

  auto issued = sign_client_csr(ca_dir_, csr, "connector-7", 30);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(issued.error().message.find("signature"), std::string::npos) << issued.error().message;
}

TEST_F(PkiTest, ClientCsrWithATamperedSignatureIsRefused) {
  auto csr = make_key_and_csr(dir_ / "client.key", "connector-7");
  ASSERT_TRUE(csr);
  std::string tampered = tamper_signature(*csr);
  ASSERT_NE(tampered, *csr);
  ASSERT_TRUE(parse_csr(tampered)) << "the tampering must leave a readable request";

  auto issued = sign_client_csr(ca_dir_, tampered, "connector-7", 30);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(issued.error().message.find("signature"), std::string::npos) << issued.error().message;
}

TEST_F(PkiTest, ClientCsrThatIsNotPemIsRefused) {
  auto issued = sign_client_csr(ca_dir_, "not a certificate request", "connector-7", 30);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(issued.error().message.find("certificate request"), std::string::npos)
      << issued.error().message;
}

TEST_F(PkiTest, ClientCommonNameMustBeUsable) {
  auto csr = make_key_and_csr(dir_ / "client.key", "connector-7");
  ASSERT_TRUE(csr);
  for (const std::string& cn : {std::string(), std::string(65, 'x'), std::string("a\nb")}) {
    auto issued = sign_client_csr(ca_dir_, *csr, cn, 30);
    ASSERT_FALSE(issued);
    EXPECT_EQ(issued.error().code, ErrorCode::kInvalidInput);
  }
  auto no_csr = make_key_and_csr(dir_ / "other.key", "");
  ASSERT_FALSE(no_csr);
  EXPECT_EQ(no_csr.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(fs::exists(dir_ / "other.key"));
}

// --- Reading and verifying -------------------------------------------------------------

TEST_F(PkiTest, VerifyRefusesACertificateFromAnotherCa) {
  fs::path other_ca = dir_ / "other-ca";
  ASSERT_TRUE(ensure_ca(other_ca));
  auto csr = make_key_and_csr(dir_ / "client.key", "connector-7");
  ASSERT_TRUE(csr);
  auto foreign = sign_client_csr(other_ca, *csr, "connector-7", 30);
  ASSERT_TRUE(foreign) << foreign.error().to_string();

  Status verified = verify_issued(ca_dir_, foreign->pem);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::kInvalidInput);
  // Both CAs have the same name, but the authority key identifier points at the other one:
  // OpenSSL finds no issuer among ours, and says so.
  EXPECT_NE(verified.error().message.find(
                X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)),
            std::string::npos)
      << verified.error().message;
}

TEST_F(PkiTest, VerifyRefusesAnExpiredCertificate) {
  ASSERT_TRUE(ensure_server_cert(ca_dir_, cert_path_, key_path_, {"broker.example"}, 90));
  std::string expired = forge_server_cert(ca_dir_, key_path_, "broker.example",
                                          "DNS:broker.example", days(-90), days(-1));
  Status verified = verify_issued(ca_dir_, expired);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(verified.error().message.find("expired"), std::string::npos)
      << verified.error().message;
}

TEST_F(PkiTest, GarbagePemIsInvalidInputSayingWhatCouldNotBeRead) {
  auto info =
      cert_info("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(info.error().message.find("certificate"), std::string::npos);

  auto empty = cert_info("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidInput);

  Status verified = verify_issued(ca_dir_, "garbage");
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::kInvalidInput);
}

TEST_F(PkiTest, CertFileErrorsNameTheFile) {
  fs::path garbage = dir_ / "garbage.pem";
  ASSERT_TRUE(core::write_file_durably(garbage, "garbage\n", 0644));
  auto info = cert_info_file(garbage);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(info.error().where, garbage.string());

  auto missing = cert_info_file(dir_ / "missing.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_EQ(missing.error().where, (dir_ / "missing.pem").string());

  ASSERT_TRUE(core::write_file_durably(ca_key_path(ca_dir_), "garbage\n"));
  auto csr = make_key_and_csr(dir_ / "client.key", "connector-7");
  ASSERT_TRUE(csr);
  auto signed_with_bad_key = sign_client_csr(ca_dir_, *csr, "connector-7", 30);
  ASSERT_FALSE(signed_with_bad_key);
  EXPECT_EQ(signed_with_bad_key.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(signed_with_bad_key.error().where, ca_key_path(ca_dir_).string());
}

}  // namespace
}  // namespace vigie::remote
