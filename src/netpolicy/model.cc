#include "vigie/netpolicy/model.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "vigie/core/text.h"

namespace vigie::netpolicy {
namespace {

// A closed set of names for an enumeration, parsed case-insensitively with '_' for '-'.
template <class E, size_t N>
struct Names {
  std::array<std::pair<E, std::string_view>, N> entries;

  [[nodiscard]] std::string_view name(E value) const {
    for (const auto& [e, n] : entries) {
      if (e == value) return n;
    }
    return "?";
  }
  [[nodiscard]] std::optional<E> parse(std::string_view text) const {
    std::string key = core::ascii_lower(core::trim(text));
    std::replace(key.begin(), key.end(), '_', '-');
    for (const auto& [e, n] : entries) {
      if (n == key) return e;
    }
    return std::nullopt;
  }
};

constexpr Names<Direction, 2> kDirections{
    {{{Direction::kToDevice, "to-device"}, {Direction::kFromDevice, "from-device"}}}};
constexpr Names<Protocol, 4> kProtocols{{{{Protocol::kAny, "any"},
                                          {Protocol::kTcp, "tcp"},
                                          {Protocol::kUdp, "udp"},
                                          {Protocol::kIcmp, "icmp"}}}};
constexpr Names<PeerKind, 9> kPeerKinds{{{{PeerKind::kAny, "any"},
                                          {PeerKind::kRole, "role"},
                                          {PeerKind::kCidr, "cidr"},
                                          {PeerKind::kDnsName, "dns"},
                                          {PeerKind::kLocalNetworks, "local-networks"},
                                          {PeerKind::kSameManufacturer, "same-manufacturer"},
                                          {PeerKind::kManufacturer, "manufacturer"},
                                          {PeerKind::kController, "controller"},
                                          {PeerKind::kMyController, "my-controller"}}}};
constexpr Names<ZoneKind, 7> kZoneKinds{{{{ZoneKind::kMedical, "medical"},
                                          {ZoneKind::kClinical, "clinical"},
                                          {ZoneKind::kOffice, "office"},
                                          {ZoneKind::kServers, "servers"},
                                          {ZoneKind::kDmz, "dmz"},
                                          {ZoneKind::kInternet, "internet"},
                                          {ZoneKind::kOther, "other"}}}};
constexpr Names<Action, 3> kActions{
    {{{Action::kAccept, "accept"}, {Action::kDrop, "drop"}, {Action::kReject, "reject"}}}};

std::optional<std::uint16_t> parse_port(std::string_view text) {
  text = core::trim(text);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

Result<PortRange> parse_one_range(std::string_view item) {
  item = core::trim(item);
  if (item == "any" || item == "*") return PortRange{};
  if (item.starts_with(">=") || item.starts_with('>')) {
    const bool inclusive = item.starts_with(">=");
    auto port = parse_port(item.substr(inclusive ? 2 : 1));
    if (!port || (!inclusive && *port == 65535)) {
      return core::fail(core::ErrorCode::kInvalidInput, fmt::format("bad port bound '{}'", item));
    }
    return PortRange{static_cast<std::uint16_t>(*port + (inclusive ? 0 : 1)), 65535};
  }
  if (item.starts_with("<=") || item.starts_with('<')) {
    const bool inclusive = item.starts_with("<=");
    auto port = parse_port(item.substr(inclusive ? 2 : 1));
    if (!port || (!inclusive && *port == 0)) {
      return core::fail(core::ErrorCode::kInvalidInput, fmt::format("bad port bound '{}'", item));
    }
    return PortRange{0, static_cast<std::uint16_t>(*port - (inclusive ? 0 : 1))};
  }
  const auto dash = item.find('-');
  auto first = parse_port(item.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : parse_port(item.substr(dash + 1));
  if (!first || !last || *first > *last) {
    return core::fail(core::ErrorCode::kInvalidInput,
                      fmt::format("'{}' is not a port or a port range", item));
  }
  return PortRange{*first, *last};
}

}  // namespace

std::string_view to_string(Direction d) { return kDirections.name(d); }
std::string_view to_string(Protocol p) { return kProtocols.name(p); }
std::string_view to_string(PeerKind k) { return kPeerKinds.name(k); }
std::string_view to_string(ZoneKind k) { return kZoneKinds.name(k); }
std::string_view to_string(Action a) { return kActions.name(a); }
std::optional<Direction> parse_direction(std::string_view text) { return kDirections.parse(text); }
std::optional<Protocol> parse_protocol(std::string_view text) { return kProtocols.parse(text); }
std::optional<PeerKind> parse_peer_kind(std::string_view text) { return kPeerKinds.parse(text); }
std::optional<ZoneKind> parse_zone_kind(std::string_view text) { return kZoneKinds.parse(text); }
std::optional<Action> parse_action(std::string_view text) { return kActions.parse(text); }

int protocol_number(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return 6;
    case Protocol::kUdp:
      return 17;
    case Protocol::kIcmp:
      return 1;
    case Protocol::kAny:
      break;
  }
  return 0;
}

std::string PortRange::to_string() const {
  if (any()) return "any";
  if (first == last) return std::to_string(first);
  return fmt::format("{}-{}", first, last);
}

Result<std::vector<PortRange>> parse_ports(std::string_view text) {
  std::vector<PortRange> ranges;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find_first_of(",;", start);
    const auto item =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (core::trim(item).empty()) {
      return core::fail(core::ErrorCode::kInvalidInput,
                        fmt::format("empty item in port list '{}'", text));
    }
    auto range = parse_one_range(item);
    if (!range) return tl::unexpected(range.error());
    ranges.push_back(*range);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<PortRange> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::string format_ports(const std::vector<PortRange>& ports) {
  if (ports.empty() || (ports.size() == 1 && ports.front().any())) return "any";
  std::string out;
  for (const auto& r : ports) {
    if (!out.empty()) out += ',';
    out += r.to_string();
  }
  return out;
}

const std::vector<RiskyPort>& default_risky_ports() {
  static const std::vector<RiskyPort> kPorts = {
      {Protocol::kTcp, 21, "FTP"},      {Protocol::kTcp, 23, "Telnet"},
      {Protocol::kTcp, 139, "NetBIOS"}, {Protocol::kTcp, 445, "SMB"},
      {Protocol::kTcp, 3389, "RDP"},    {Protocol::kTcp, 5900, "VNC"},
  };
  return kPorts;
}

}  // namespace vigie::netpolicy
