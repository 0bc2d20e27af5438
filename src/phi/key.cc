#include "vigie/phi/key.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include "vigie/core/file.h"

namespace vigie::phi {
namespace {

using core::ErrorCode;

// The decimal digits of a big-endian unsigned integer (long division by 10).
std::string to_decimal(std::array<std::uint8_t, 16> n) {
  std::string digits;
  while (std::any_of(n.begin(), n.end(), [](std::uint8_t b) { return b != 0; })) {
    unsigned remainder = 0;
    for (auto& byte : n) {
      unsigned cur = (remainder << 8) | byte;
      byte = static_cast<std::uint8_t>(cur / 10);
      remainder = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + remainder));
  }
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::optional<std::array<std::uint8_t, Key::kSize>> from_hex(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.size() != Key::kSize * 2) return std::nullopt;
  std::array<std::uint8_t, Key::kSize> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    for (char c : text.substr(i * 2, 2)) {
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else {
        return std::nullopt;
      }
    }
    out.at(i) = static_cast<std::uint8_t>(v);
  }
  return out;
}

}  // namespace

Key Key::from_passphrase(std::string_view passphrase) {
  std::array<std::uint8_t, kSize> bytes{};
  SHA256(reinterpret_cast<const unsigned char*>(passphrase.data()), passphrase.size(),
         bytes.data());
  return Key(bytes);
}

std::array<std::uint8_t, 32> Key::mac(std::string_view message) const {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  return out;
}

std::string Key::map_uid(std::string_view uid) const {
  std::string message = "uid:";
  message += uid;
  auto digest = mac(message);
  std::array<std::uint8_t, 16> first{};
  std::copy_n(digest.begin(), first.size(), first.begin());
  return "2.25." + to_decimal(first);
}

int Key::date_offset_days(std::string_view patient) const {
  std::string message = "date-offset:";
  message += patient;
  auto digest = mac(message);
  std::uint32_t v = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
                    (std::uint32_t{digest[2]} << 8) | digest[3];
  return 1 + static_cast<int>(v % 3652U);
}

std::filesystem::path key_path(const std::filesystem::path& home) {
  return home / "phi" / "secret.key";
}

core::Result<Key> load_or_create_key(const std::filesystem::path& home) {
  auto path = key_path(home);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return core::fail(ErrorCode::kIo, "cannot create the key directory: " + ec.message(),
                        path.parent_path().string());
    }
    ::chmod(path.parent_path().c_str(), 0700);
    std::array<std::uint8_t, Key::kSize> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return core::fail(ErrorCode::kInternal, "no randomness for the hospital key");
    }
    std::string hex;
    for (auto b : bytes) hex += fmt::format("{:02x}", b);
    hex += '\n';
    VIGIE_TRY(core::write_file_durably(path, hex, 0600));
    return Key(bytes);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return core::fail(ErrorCode::kIo, "cannot stat the hospital key", path.string());
  }
  if ((st.st_mode & 077) != 0) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("the hospital key is readable by others (mode {:o}); "
                                  "chmod 600 it",
                                  st.st_mode & 0777),
                      path.string());
  }
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  auto bytes = from_hex(*text);
  if (!bytes) {
    return core::fail(ErrorCode::kInvalidInput, "not 64 lower-case hex digits", path.string());
  }
  return Key(*bytes);
}

}  // namespace vigie::phi
