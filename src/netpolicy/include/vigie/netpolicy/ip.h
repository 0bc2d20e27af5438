// IP addresses and prefixes as the network-policy module needs them: IPv4 and IPv6 in one
// 16-byte form (IPv4 as ::ffff:a.b.c.d) so that one comparison, one hash and one prefix
// test serve both families on hot paths (conformance at millions of flows per second).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigie::netpolicy {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 mapped as ::ffff:a.b.c.d

  [[nodiscard]] bool is_v4() const;
  // Canonical text: dotted quad for IPv4, RFC 5952 for IPv6.
  [[nodiscard]] std::string to_string() const;
  // From the 32-bit host-order value of an IPv4 address.
  static IpAddress v4(std::uint32_t host_order);
  [[nodiscard]] std::uint32_t v4_value() const;  // host order; 0 unless is_v4()

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  auto operator<=>(const IpAddress&) const = default;
};

// "10.1.2.3", "fe80::1"; nullopt when the text is not an address.
std::optional<IpAddress> parse_ip(std::string_view text);

struct IpPrefix {
  IpAddress address;  // host bits are zero
  int length = 0;     // in bits of the 128-bit form (an IPv4 /24 is 96 + 24)

  [[nodiscard]] bool contains(const IpAddress& ip) const;
  [[nodiscard]] bool contains(const IpPrefix& other) const;
  [[nodiscard]] bool overlaps(const IpPrefix& other) const;
  // "10.1.0.0/16", "2001:db8::/32"; a host prefix prints without the length.
  [[nodiscard]] std::string to_string() const;
  // The first and last address of the prefix.
  [[nodiscard]] IpAddress first() const { return address; }
  [[nodiscard]] IpAddress last() const;

  static IpPrefix host(const IpAddress& ip) { return {ip, 128}; }

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  auto operator<=>(const IpPrefix&) const = default;
};

// "10.1.0.0/16", "10.1.2.3" (a host), "fe80::/10". Host bits set in the address are refused
// ("10.1.2.3/16" is a typo more often than an intent).
std::optional<IpPrefix> parse_prefix(std::string_view text);

struct IpAddressHash {
  size_t operator()(const IpAddress& ip) const noexcept;
};

}  // namespace vigie::netpolicy
