#include "vigie/core/file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vigie/core/ids.h"

namespace vigie::core {
namespace {

Error io_error(const std::filesystem::path& path, std::string_view what) {
  return {ErrorCode::kIo, fmt::format("cannot {}: {}", what, std::strerror(errno)), path.string()};
}

// A descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path) {
  FilePtr f = open_file(path, "rb");
  if (!f) return tl::unexpected(io_error(path, "open"));
  std::string out;
  char buffer[1 << 16];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, f.get())) out.append(buffer, n);
  if (std::ferror(f.get()) != 0) return tl::unexpected(io_error(path, "read"));
  return out;
}

Status write_file_durably(const std::filesystem::path& path, std::string_view data, int mode) {
  std::filesystem::path temp = path;
  temp += ".tmp-" + random_hex(6);
  {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.fd < 0) return tl::unexpected(io_error(temp, "create"));
    for (size_t done = 0; done < data.size();) {
      ssize_t n = ::write(fd.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Error e = io_error(temp, "write");
        ::unlink(temp.c_str());
        return tl::unexpected(e);
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.fd) != 0) {
      Error e = io_error(temp, "fsync");
      ::unlink(temp.c_str());
      return tl::unexpected(e);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Error e = io_error(path, "rename into place");
    ::unlink(temp.c_str());
    return tl::unexpected(e);
  }
  // The rename itself is durable only once the directory is synced.
  Fd dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0 || ::fsync(dir.fd) != 0) return tl::unexpected(io_error(path, "sync directory"));
  return {};
}

}  // namespace vigie::core
