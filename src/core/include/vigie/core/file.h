// Files: C stdio handles as owned values (closed when they go out of scope), whole-file reads,
// and durable writes (an acknowledged file survives kill -9 and a power cut).
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::core {

struct FileCloser {
  // The one place Vigie closes a FILE* it owns.
  void operator()(std::FILE* f) const {
    std::fclose(f);  // NOLINT(cppcoreguidelines-owning-memory): FILE* is owned by FilePtr
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// fopen() as an owned handle; null on failure (errno tells why).
inline FilePtr open_file(const std::filesystem::path& path, const char* mode) {
  return FilePtr(std::fopen(path.c_str(), mode));
}

// The whole content of a file; kIo naming the path on failure.
Result<std::string> read_file(const std::filesystem::path& path);

// Writes `data` to a temporary file beside `path`, fsyncs it, renames it into place and syncs
// the directory: readers see the old file or the whole new one, never a part.
Status write_file_durably(const std::filesystem::path& path, std::string_view data,
                          int mode = 0600);

}  // namespace vigie::core
