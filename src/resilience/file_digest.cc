#include "file_digest.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <memory>

#include "vigie/core/ids.h"

namespace vigie::resilience::internal {
namespace {

using core::ErrorCode;

// Feeds `update` the whole file, mapped: no copy through a buffer (a store of hundreds of
// megabytes is read from the page cache at memory speed). Its size in `size`.
template <typename Update>
core::Status read_mapped(const std::filesystem::path& path, std::int64_t& size, Update update) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core::fail(ErrorCode::kIo, "cannot read", path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return core::fail(ErrorCode::kIo, "not a regular file", path.string());
  }
  size = st.st_size;
  if (size == 0) {
    ::close(fd);
    return {};
  }
  const auto length = static_cast<size_t>(size);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return core::fail(ErrorCode::kIo, "cannot map", path.string());
  ::madvise(map, length, MADV_SEQUENTIAL);
  update(static_cast<const char*>(map), length);
  ::munmap(map, length);
  return {};
}

}  // namespace

core::Result<std::string> file_sha256(const std::filesystem::path& path, std::int64_t& size) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return core::fail(ErrorCode::kInternal, "SHA-256 is not available", path.string());
  }
  VIGIE_TRY(read_mapped(
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
  VIGIE_TRY(read_mapped(path, size, [&state](const char* data, size_t n) {
    XXH3_128bits_update(state.get(), data, n);
  }));
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state.get()));
  return core::to_hex(canonical.digest, sizeof(canonical.digest));
}

}  // namespace vigie::resilience::internal
