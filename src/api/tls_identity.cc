#include "vigie/api/tls_identity.h"

#include "vigie/core/file.h"
#include "vigie/core/openssl_ptr.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace vigie::api {
namespace {

using core::ErrorCode;
using core::fail;

template <auto Free>
using Deleter = core::OpenSslFree<Free>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

constexpr long kValiditySeconds = 825L * 24 * 3600;  // the CA/Browser Forum maximum

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

core::Result<bool> ensure_tls_identity(const std::filesystem::path& cert_path,
                                       const std::filesystem::path& key_path) {
  std::error_code ec;
  if (std::filesystem::exists(cert_path, ec) && std::filesystem::exists(key_path, ec)) return false;
  std::filesystem::create_directories(cert_path.parent_path(), ec);
  std::filesystem::create_directories(key_path.parent_path(), ec);

  PKeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return fail(ErrorCode::kInternal, "cannot create a key pair");
  X509_set_version(cert.get(), 2);
  std::unique_ptr<BIGNUM, Deleter<BN_free>> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return fail(ErrorCode::kInternal, "cannot draw a certificate serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Vigie"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_extension(cert.get(), NID_subject_alt_name,
                     "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1") ||
      !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return fail(ErrorCode::kInternal, "cannot sign the server certificate");
  }
  // The key file is created 0600 before any byte is written.
  mode_t old = umask(077);
  core::FilePtr kf = core::open_file(key_path, "wb");
  umask(old);
  if (!kf ||
      PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(ErrorCode::kIo, "cannot write the private key", key_path.string());
  }
  core::FilePtr cf = core::open_file(cert_path, "wb");
  if (!cf || PEM_write_X509(cf.get(), cert.get()) != 1) {
    return fail(ErrorCode::kIo, "cannot write the certificate", cert_path.string());
  }
  return true;
}

}  // namespace vigie::api
