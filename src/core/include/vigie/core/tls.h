// Vigie's one TLS policy, for every context it makes (the API server, the offline sync
// client, the SMTP client): TLS 1.2 or later, AEAD suites only (TLS 1.2: ECDHE with AES-GCM or
// ChaCha20-Poly1305; TLS 1.3 suites are all AEAD), no compression, no renegotiation.
#pragma once

#include <openssl/ssl.h>

#include "vigie/core/result.h"

namespace vigie::core {

// Applies the policy to `ctx` (kInternal when OpenSSL refuses it).
Status apply_tls_policy(SSL_CTX* ctx);

}  // namespace vigie::core
