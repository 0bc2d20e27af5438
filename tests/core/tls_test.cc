// The one TLS policy: TLS 1.2 at least, AEAD suites only, whatever the context is for.
#include "vigie/core/tls.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <string_view>

namespace vigie::core {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

TEST(TlsPolicy, ClientAndServerContextsOfferOnlyAeadFromTls12) {
  for (const SSL_METHOD* method : {TLS_client_method(), TLS_server_method()}) {
    std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(method));
    ASSERT_TRUE(ctx);
    ASSERT_TRUE(apply_tls_policy(ctx.get()));
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
    EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_COMPRESSION, 0U);
    EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_RENEGOTIATION, 0U);
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
    ASSERT_NE(ciphers, nullptr);
    int tls12 = 0;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
      EXPECT_EQ(SSL_CIPHER_is_aead(c), 1) << SSL_CIPHER_get_name(c);
      EXPECT_EQ(SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa, false) << SSL_CIPHER_get_name(c);
      if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.2") ++tls12;
    }
    EXPECT_EQ(tls12, 6);  // ECDHE x {AES-128-GCM, AES-256-GCM, ChaCha20} x {ECDSA, RSA}
  }
}

}  // namespace
}  // namespace vigie::core
