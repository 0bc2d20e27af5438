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

// The same for a live SQLite store, computed by `xxhsum` in a child process. This process
// must not open and close the store's file itself: on Linux, closing any descriptor of a file
// drops every POSIX lock the process holds on it, SQLite's included, and another process could
// then checkpoint into the file while restic reads it.
core::Result<std::string> live_file_xxh128(const std::filesystem::path& path, std::int64_t& size);

}  // namespace vigie::resilience::internal
