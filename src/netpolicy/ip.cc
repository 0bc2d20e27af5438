#include "vigie/netpolicy/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

namespace vigie::netpolicy {
namespace {

constexpr std::array<std::uint8_t, 12> kV4Mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress masked(const IpAddress& ip, int length) {
  IpAddress out = ip;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(length - (i * 8), 0, 8);
    out.bytes[static_cast<size_t>(i)] &= static_cast<std::uint8_t>(0xff00U >> keep);
  }
  return out;
}

}  // namespace

bool IpAddress::is_v4() const {
  return std::equal(kV4Mapped.begin(), kV4Mapped.end(), bytes.begin());
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress ip;
  std::copy(kV4Mapped.begin(), kV4Mapped.end(), ip.bytes.begin());
  ip.bytes[12] = static_cast<std::uint8_t>(host_order >> 24);
  ip.bytes[13] = static_cast<std::uint8_t>(host_order >> 16);
  ip.bytes[14] = static_cast<std::uint8_t>(host_order >> 8);
  ip.bytes[15] = static_cast<std::uint8_t>(host_order);
  return ip;
}

std::uint32_t IpAddress::v4_value() const {
  if (!is_v4()) return 0;
  return (std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) |
         (std::uint32_t{bytes[14]} << 8) | std::uint32_t{bytes[15]};
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  IpAddress ip;
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    std::copy(kV4Mapped.begin(), kV4Mapped.end(), ip.bytes.begin());
    std::memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

bool IpPrefix::contains(const IpAddress& ip) const { return masked(ip, length) == address; }

bool IpPrefix::contains(const IpPrefix& other) const {
  return other.length >= length && contains(other.address);
}

bool IpPrefix::overlaps(const IpPrefix& other) const {
  return contains(other) || other.contains(*this);
}

IpAddress IpPrefix::last() const {
  IpAddress out = address;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(length - (i * 8), 0, 8);
    out.bytes[static_cast<size_t>(i)] |= static_cast<std::uint8_t>(0xffU >> keep);
  }
  return out;
}

std::string IpPrefix::to_string() const {
  if (length == 128) return address.to_string();
  const int shown = address.is_v4() && length >= 96 ? length - 96 : length;
  return address.to_string() + "/" + std::to_string(shown);
}

std::optional<IpPrefix> parse_prefix(std::string_view text) {
  const auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  if (slash == std::string_view::npos) return IpPrefix::host(*ip);
  const auto digits = text.substr(slash + 1);
  int bits = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  const int max_bits = ip->is_v4() ? 32 : 128;
  if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > max_bits) {
    return std::nullopt;
  }
  const int length = bits + (ip->is_v4() ? 96 : 0);
  if (masked(*ip, length) != *ip) return std::nullopt;
  return IpPrefix{*ip, length};
}

size_t IpAddressHash::operator()(const IpAddress& ip) const noexcept {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, ip.bytes.data(), 8);
  std::memcpy(&low, ip.bytes.data() + 8, 8);
  // Mix both halves; IPv4 addresses differ only in the low one.
  return static_cast<size_t>((low ^ (high * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL);
}

}  // namespace vigie::netpolicy
