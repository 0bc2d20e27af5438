// The HTTPS server's identity: a certificate and private key in PEM files. Created
// self-signed (ECDSA P-256, SAN localhost/127.0.0.1/::1) when missing, so that a fresh
// installation serves HTTPS at once; a hospital replaces them with its PKI's.
#pragma once

#include <filesystem>

#include "vigie/core/result.h"

namespace vigie::api {

// Creates the pair when either file is missing; the key file is mode 0600. Returns true
// when it created them.
core::Result<bool> ensure_tls_identity(const std::filesystem::path& cert,
                                       const std::filesystem::path& key);

}  // namespace vigie::api
