#include "file_digest.h"

#include "child_process.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <vector>

#include "vigie/core/ids.h"

namespace vigie::resilience::internal {
namespace {

using core::ErrorCode;

// Feeds `update` every block of the file; its size in `size`. Read, not mapped: a file cut
// short while it is read is an error, not a SIGBUS that would take vigied down.
template <typename Update>
core::Status read_blocks(const std::filesystem::path& path, std::int64_t& size, Update update) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core::fail(ErrorCode::kIo, "cannot read", path.string());
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buffer(std::size_t{4} << 20);
  size = 0;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return core::fail(ErrorCode::kIo, "read error", path.string());
    }
    if (n == 0) break;
    update(buffer.data(), static_cast<size_t>(n));
    size += n;
  }
  ::close(fd);
  return {};
}

}  // namespace

core::Result<std::string> file_sha256(const std::filesystem::path& path, std::int64_t& size) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return core::fail(ErrorCode::kInternal, "SHA-256 is not available", path.string());
  }
  VIGIE_TRY(read_blocks(
      path, size, [&ctx](const char* data, size_t n) { EVP_DigestUpdate(ctx.get(), data, n); }));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  return core::to_hex(digest.data(), length);
}

core::Result<std::string> file_xxh128(const std::filesystem::path& path, std::int64_t& size) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) {
    return core::fail(ErrorCode::kInternal, "cannot start an XXH3 checksum", path.string());
  }
  VIGIE_TRY(read_blocks(path, size, [&state](const char* data, size_t n) {
    XXH3_128bits_update(state.get(), data, n);
  }));
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state.get()));
  return core::to_hex(canonical.digest, sizeof(canonical.digest));
}

core::Result<std::string> live_file_xxh128(const std::filesystem::path& path, std::int64_t& size) {
  std::string digest;
  ChildSpec spec;
  spec.argv = {"xxhsum", "-H2", "--", path.string()};
  spec.on_stdout_line = [&digest](std::string_view line) {
    if (digest.empty()) digest = std::string(line.substr(0, line.find(' ')));
  };
  auto exit = run_child(spec);
  if (!exit) return tl::unexpected(exit.error());
  if (exit->exit_code != 0 || digest.size() != 32 ||
      digest.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return core::fail(ErrorCode::kIo, "xxhsum failed: " + exit->stderr_text, path.string());
  }
  std::error_code ec;
  size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return core::fail(ErrorCode::kIo, "cannot stat: " + ec.message(), path.string());
  return digest;
}

}  // namespace vigie::resilience::internal
