// The hospital's secret for pseudonyms: UIDs are replaced by HMAC-SHA-256 of the original
// under this key, dates shifted by a keyed per-patient offset. The same study sent twice maps
// to the same values; without the key, nobody (the vendor included) can reverse or link them.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::phi {

class Key {
 public:
  static constexpr size_t kSize = 32;
  explicit Key(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  // A key derived from a passphrase (tests, benchmarks): SHA-256 of it.
  static Key from_passphrase(std::string_view passphrase);

  // HMAC-SHA-256(key, message).
  [[nodiscard]] std::array<std::uint8_t, 32> mac(std::string_view message) const;

  // "2.25.<decimal of the first 128 bits of HMAC(key, "uid:" + uid)>": at most 44 characters,
  // a valid UID (digits, no leading zero in a component).
  [[nodiscard]] std::string map_uid(std::string_view uid) const;

  // Days (1..3652) every date of a patient is moved back by under the modified-dates option.
  [[nodiscard]] int date_offset_days(std::string_view patient) const;

 private:
  std::array<std::uint8_t, kSize> bytes_;
};

// <home>/phi/secret.key: 32 random bytes in hex, created at first use with mode 0600 in a
// directory of mode 0700. A key file readable by group or others is refused.
std::filesystem::path key_path(const std::filesystem::path& home);
core::Result<Key> load_or_create_key(const std::filesystem::path& home);

}  // namespace vigie::phi
