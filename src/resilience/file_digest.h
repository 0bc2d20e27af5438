// Checksums of whole files, streamed: a store is too large to read into memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "vigie/core/result.h"

namespace vigie::resilience::internal {

// SHA-256, lower-case hex. For what must resist forgery on its own (a notice's document).
core::Result<std::string> file_sha256(const std::filesystem::path& path, std::int64_t& size);

// XXH3-128 in xxhsum's canonical form (32 hex digits, `xxhsum -H2` prints the same). For the
// files of a snapshot: it detects corruption at memory speed, while restic's authenticated
// encryption is what stops forgery.
core::Result<std::string> file_xxh128(const std::filesystem::path& path, std::int64_t& size);

}  // namespace vigie::resilience::internal
