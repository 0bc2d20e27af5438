// C stdio files as owned values: closed when they go out of scope.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>

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

}  // namespace vigie::core
