// Identifiers and secrets drawn from the operating system's CSPRNG (OpenSSL RAND_bytes).
#pragma once

#include <string>

namespace vigie::core {

// A random RFC 4122 version-4 UUID in its canonical lower-case text form.
std::string new_uuid();

// `bytes` random bytes as lower-case hex: tokens, one-time passwords, nonces.
std::string random_hex(size_t bytes);

}  // namespace vigie::core
