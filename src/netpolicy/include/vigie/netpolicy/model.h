// The network-policy model: what a device is meant to talk to (a profile of intents, from a
// vendor's port table or a MUD file), where the hospital's zones and firewall rules are, and
// the allow-list that results once a site says which addresses play which role. Every other
// part of the module (import, exposure, nftables generation, conformance) speaks these types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"

namespace vigie::netpolicy {

using core::Result;
using core::Status;

// Who opens the connection: the peer towards the device (the device listens), or the device
// towards the peer.
enum class Direction { kToDevice, kFromDevice };
enum class Protocol { kAny, kTcp, kUdp, kIcmp };

std::string_view to_string(Direction d);  // "to-device", "from-device"
std::string_view to_string(Protocol p);   // "any", "tcp", "udp", "icmp"
std::optional<Direction> parse_direction(std::string_view text);
std::optional<Protocol> parse_protocol(std::string_view text);
// IANA protocol number (6, 17, 1; 0 for any).
int protocol_number(Protocol p);

// An inclusive range of ports; {0, 65535} is any port.
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 65535;

  [[nodiscard]] bool any() const { return first == 0 && last == 65535; }
  [[nodiscard]] bool contains(std::uint16_t port) const { return port >= first && port <= last; }
  [[nodiscard]] std::string to_string() const;  // "445", "137-139", "any"
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  auto operator<=>(const PortRange&) const = default;
};

// Parses a vendor table's port column: "445", "80, 4440", "18015 - 18020, 18030", "137-139",
// ">1023", "any" or "*". Ranges are sorted and merged. Returns the reason on refusal.
Result<std::vector<PortRange>> parse_ports(std::string_view text);
// "80,4440,18015-18020"; "any" when the list is empty or covers every port.
std::string format_ports(const std::vector<PortRange>& ports);

// The other end of an intent. MUD's abstractions are kept as they are and resolved per site.
enum class PeerKind {
  kAny,               // any address (rare; a MUD ACE without a peer)
  kRole,              // value: a site role such as "pacs", "ris", "printer", "ntp"
  kCidr,              // value: "10.1.150.0/24" or an address
  kDnsName,           // value: a host name, resolved per site
  kLocalNetworks,     // MUD: the site's own networks
  kSameManufacturer,  // MUD: devices of the same vendor
  kManufacturer,      // MUD: value: the manufacturer's MUD authority (domain)
  kController,        // MUD: value: the controller class URI
  kMyController,      // MUD: the controller the site names for this device's MUD URL
};
std::string_view to_string(PeerKind k);  // "any", "role", "cidr", "dns", "local-networks"...
std::optional<PeerKind> parse_peer_kind(std::string_view text);

struct Peer {
  PeerKind kind = PeerKind::kAny;
  std::string value;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  auto operator<=>(const Peer&) const = default;
};

// Where an intent comes from: a vendor document and its row, or a MUD file and the JSON
// pointer of the ACE. `quote` keeps the row as printed, for the reviewer.
struct Provenance {
  std::string document;
  std::string locator;  // "Annex A row 12", "/ietf-access-control-list:acls/acl/0/aces/ace/1"
  std::string quote;
};

struct Intent {
  Direction direction = Direction::kToDevice;
  Peer peer;
  Protocol protocol = Protocol::kTcp;
  // The responder's port(s): the device's when kToDevice, the peer's when kFromDevice.
  std::vector<PortRange> ports;
  // The initiator's port(s); empty means any (the usual ephemeral port).
  std::vector<PortRange> source_ports;
  std::string purpose;
  bool cleartext = false;  // the protocol carries data unencrypted (FTP, Telnet, HTTP, VNC)
  Provenance provenance;
};

// One device communication profile: per vendor/product, optionally a version range (a `vers`
// string as the advisory module reads it, empty for every version).
struct Profile {
  std::int64_t id = 0;
  std::string name;  // unique, e.g. "philips-essenta-dr-compact"
  std::string vendor;
  std::string product;
  std::string versions;
  std::string source;  // the document or MUD URL it was read from
  std::string mud_url;
  std::vector<Intent> intents;
};

// What a zone is for; exposure and generation treat medical zones as the ones to protect.
enum class ZoneKind { kMedical, kClinical, kOffice, kServers, kDmz, kInternet, kOther };
std::string_view to_string(ZoneKind k);  // "medical", "clinical", "office", "servers"...
std::optional<ZoneKind> parse_zone_kind(std::string_view text);

// A zone of the inventory (site + name) with its policy attributes.
struct Zone {
  std::int64_t id = 0;
  std::string site;
  std::string name;
  std::optional<int> vlan;
  ZoneKind kind = ZoneKind::kOther;
  std::vector<IpPrefix> networks;
};

enum class Action { kAccept, kDrop, kReject };
std::string_view to_string(Action a);
std::optional<Action> parse_action(std::string_view text);

// One side of a firewall rule: zone names and/or prefixes; both empty means any.
struct Endpoint {
  std::vector<std::string> zones;  // "site/zone" or "zone" when the site is unambiguous
  std::vector<IpPrefix> prefixes;
  [[nodiscard]] bool any() const { return zones.empty() && prefixes.empty(); }
};

// A rule of the hospital's existing firewall, evaluated in order (first match decides).
struct FirewallRule {
  std::int64_t id = 0;
  std::string ruleset;  // the firewall or ruleset it belongs to
  int position = 0;
  std::string name;  // rule id/comment as the firewall names it, for "decided by"
  Endpoint source;
  Endpoint destination;
  Protocol protocol = Protocol::kAny;
  std::vector<PortRange> ports;  // destination ports; empty = any
  Action action = Action::kDrop;
  Provenance provenance;
};

// One allowed flow, once a profile's intent is bound to a device address and the site's
// addresses for its peer. `peers` empty means any address.
struct AllowEntry {
  std::int64_t device_id = 0;
  IpAddress device_ip;
  Direction direction = Direction::kToDevice;
  std::string role;  // the peer's role or abstraction, for named sets and reports
  std::vector<IpPrefix> peers;
  Protocol protocol = Protocol::kTcp;
  PortRange ports;  // responder's ports
  bool cleartext = false;
  std::int64_t profile_id = 0;
  int intent_index = 0;  // position of the intent in its profile
  std::string purpose;
};

// The risky ports exposure looks at by default (SMB, NetBIOS, RDP, FTP, Telnet, VNC).
struct RiskyPort {
  Protocol protocol;
  std::uint16_t port;
  std::string_view name;
};
const std::vector<RiskyPort>& default_risky_ports();

}  // namespace vigie::netpolicy
