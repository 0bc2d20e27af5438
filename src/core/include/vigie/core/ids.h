// Identifiers and secrets drawn from the operating system's CSPRNG (OpenSSL RAND_bytes), and
// content digests.
#pragma once

#include <string>
#include <string_view>

namespace vigie::core {

// A random RFC 4122 version-4 UUID in its canonical lower-case text form.
std::string new_uuid();

// `bytes` random bytes as lower-case hex: tokens, one-time passwords, nonces.
std::string random_hex(size_t bytes);

// `n` bytes as lower-case hex (digests).
std::string to_hex(const unsigned char* data, size_t n);

// SHA-256 of `data` as lower-case hex (documents attached to notices, imported advisories).
std::string sha256_hex(std::string_view data);

}  // namespace vigie::core
