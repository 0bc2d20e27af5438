#include "vigie/netpolicy/mud.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "vigie/core/text.h"
#include "vigie/netpolicy/port_table.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxBytes = 4 << 20;  // a MUD file is a few kilobytes
constexpr int kMaxDepth = 32;          // RFC 8520 files need about 10 levels
constexpr std::string_view kRolePrefix = "urn:vigie:role:";
constexpr std::string_view kModelPrefix = "model:";
constexpr std::string_view kExtension = "vigie-intents";
constexpr std::string_view kExtensionMember = "vigie-intents:intents";

std::string pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  }
  return out;
}

// Where we are in the document, for errors and provenance.
struct Reader {
  std::string file;
  std::vector<std::string> warnings;

  [[nodiscard]] tl::unexpected<core::Error> refuse(const std::string& pointer,
                                                   std::string_view why) const {
    return core::fail(ErrorCode::kInvalidInput, std::string(why),
                      fmt::format("{}:{}", file, pointer.empty() ? "/" : pointer));
  }
  void legacy(const std::string& pointer, std::string_view used, std::string_view rfc) {
    warnings.push_back(
        fmt::format("{}:{}: legacy draft name '{}' (RFC 8520: '{}')", file, pointer, used, rfc));
  }
};

// A member found under its RFC name or one of its legacy draft names (warned).
struct Member {
  const json* value = nullptr;
  std::string pointer;
};

Member member(Reader& r, const json& object, const std::string& pointer, std::string_view rfc,
              std::initializer_list<std::string_view> legacy = {}) {
  if (!object.is_object()) return {nullptr, pointer};
  if (auto it = object.find(rfc); it != object.end()) {
    return {&*it, pointer + "/" + pointer_token(rfc)};
  }
  for (auto name : legacy) {
    if (auto it = object.find(name); it != object.end()) {
      std::string at = pointer + "/" + pointer_token(name);
      r.legacy(at, name, rfc);
      return {&*it, at};
    }
  }
  return {nullptr, pointer + "/" + pointer_token(rfc)};  // where it should be
}

// Refuses a member that is none of `known` (RFC and legacy names): a match condition left out
// would make the intent broader than the ACE.
Status only_known(const Reader& r, const json& object, const std::string& pointer,
                  std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      return r.refuse(pointer + "/" + pointer_token(item.key()),
                      fmt::format("'{}' cannot be expressed in a device profile", item.key()));
    }
  }
  return {};
}

Result<const json*> object_at(const Reader& r, const Member& m, std::string_view what) {
  if (m.value == nullptr) return r.refuse(m.pointer, fmt::format("{} is missing", what));
  if (!m.value->is_object()) return r.refuse(m.pointer, fmt::format("{} must be an object", what));
  return m.value;
}

Result<const json*> array_at(const Reader& r, const Member& m, std::string_view what) {
  if (m.value == nullptr) return r.refuse(m.pointer, fmt::format("{} is missing", what));
  if (!m.value->is_array()) return r.refuse(m.pointer, fmt::format("{} must be an array", what));
  return m.value;
}

std::string string_or_empty(const json* value) {
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

// What one ACE says, in the terms of its packets (source and destination).
struct AceMatch {
  std::optional<Protocol> protocol;
  std::optional<Peer> peer;
  std::vector<PortRange> source;       // empty: any
  std::vector<PortRange> destination;  // empty: any
  std::optional<Direction> initiated;
};

Result<PortRange> port_spec(const Reader& r, const Member& m) {
  const json& spec = *m.value;
  if (!spec.is_object()) return r.refuse(m.pointer, "a port match must be an object");
  auto port = [&](std::string_view key) -> Result<std::uint16_t> {
    auto it = spec.find(key);
    const std::string at = m.pointer + "/" + std::string(key);
    if (it == spec.end()) return r.refuse(at, fmt::format("'{}' is missing", key));
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 65535) {
      return r.refuse(at, "a port is an integer from 0 to 65535");
    }
    return static_cast<std::uint16_t>(it->get<std::uint64_t>());
  };
  if (spec.contains("lower-port") || spec.contains("upper-port")) {
    VIGIE_TRY(only_known(r, spec, m.pointer, {"lower-port", "upper-port"}));
    auto lower = port("lower-port");
    if (!lower) return tl::unexpected(lower.error());
    auto upper = port("upper-port");
    if (!upper) return tl::unexpected(upper.error());
    if (*lower > *upper) return r.refuse(m.pointer, "lower-port is above upper-port");
    return PortRange{*lower, *upper};
  }
  VIGIE_TRY(only_known(r, spec, m.pointer, {"operator", "port"}));
  auto p = port("port");
  if (!p) return tl::unexpected(p.error());
  std::string op = "eq";
  if (auto it = spec.find("operator"); it != spec.end()) {
    if (!it->is_string()) return r.refuse(m.pointer + "/operator", "operator must be a string");
    op = it->get<std::string>();
  }
  if (op == "eq") return PortRange{*p, *p};
  if (op == "lte") return PortRange{0, *p};
  if (op == "gte") return PortRange{*p, 65535};
  if (op == "neq") {
    return r.refuse(m.pointer + "/operator",
                    "operator 'neq' allows every port but one: an allow-list cannot say that");
  }
  return r.refuse(m.pointer + "/operator", fmt::format("unknown operator '{}'", op));
}

Status ports_of(Reader& r, const json& object, const std::string& pointer, AceMatch& out) {
  for (auto [rfc, legacy, target] :
       {std::tuple{"source-port", "source-port-range-or-operator", &out.source},
        std::tuple{"destination-port", "destination-port-range-or-operator", &out.destination}}) {
    Member m = member(r, object, pointer, rfc, {legacy});
    if (m.value == nullptr) continue;
    auto range = port_spec(r, m);
    if (!range) return tl::unexpected(range.error());
    if (!range->any()) *target = {*range};
  }
  return {};
}

Status set_protocol(const Reader& r, const std::string& pointer, Protocol p, AceMatch& out) {
  if (out.protocol && *out.protocol != p) {
    return r.refuse(pointer, fmt::format("protocol {} contradicts protocol {} of the same ACE",
                                         to_string(p), to_string(*out.protocol)));
  }
  out.protocol = p;
  return {};
}

Status set_peer(const Reader& r, const std::string& pointer, Peer peer, AceMatch& out) {
  if (out.peer) return r.refuse(pointer, "a second peer in the same ACE");
  out.peer = std::move(peer);
  return {};
}

// The IP part of the matches: protocol, DNS names, networks. `peer_is_source`: in a
// to-device ACL the peer sends the packet.
Status ip_matches(Reader& r, const Member& m, bool peer_is_source, AceMatch& out) {
  const json& ip = *m.value;
  if (!ip.is_object()) return r.refuse(m.pointer, "must be an object");
  VIGIE_TRY(only_known(
      r, ip, m.pointer,
      {"protocol", "ietf-acldns:src-dnsname", "ietf-acldns:dst-dnsname", "source-ipv4-network",
       "destination-ipv4-network", "source-ipv6-network", "destination-ipv6-network",
       "source-port-range-or-operator", "destination-port-range-or-operator"}));
  if (auto it = ip.find("protocol"); it != ip.end()) {
    const std::string at = m.pointer + "/protocol";
    if (!it->is_number_unsigned()) return r.refuse(at, "protocol must be a number");
    static constexpr std::array<std::pair<std::uint64_t, Protocol>, 4> kNumbers = {
        {{6, Protocol::kTcp}, {17, Protocol::kUdp}, {1, Protocol::kIcmp}, {58, Protocol::kIcmp}}};
    const auto n = it->get<std::uint64_t>();
    const auto* found =
        std::find_if(kNumbers.begin(), kNumbers.end(), [&](const auto& e) { return e.first == n; });
    if (found == kNumbers.end()) {
      return r.refuse(at, fmt::format("protocol {} is not TCP, UDP or ICMP", n));
    }
    VIGIE_TRY(set_protocol(r, at, found->second, out));
  }
  const std::string_view device = peer_is_source ? "dst" : "src";
  for (const auto& item : ip.items()) {
    const std::string& key = item.key();
    const std::string at = m.pointer + "/" + pointer_token(key);
    const bool dns = key.starts_with("ietf-acldns:");
    const bool network = key.ends_with("-network");
    if (!dns && !network) continue;
    const bool names_device = dns ? key.substr(12, 3) == device
                                  : key.starts_with(peer_is_source ? "destination" : "source");
    if (names_device) {
      return r.refuse(at, fmt::format("names the device's own address in a {} ACL",
                                      peer_is_source ? "to-device" : "from-device"));
    }
    if (!item.value().is_string()) return r.refuse(at, "must be a string");
    const auto text = item.value().get<std::string>();
    if (dns) {
      auto peer = parse_peer("dns:" + text);
      if (!peer || peer->kind != PeerKind::kDnsName) {
        return r.refuse(at, fmt::format("'{}' is not a DNS name", text));
      }
      VIGIE_TRY(set_peer(r, at, *peer, out));
    } else {
      auto prefix = parse_prefix(text);
      if (!prefix) return r.refuse(at, fmt::format("'{}' is not a network prefix", text));
      VIGIE_TRY(set_peer(r, at, Peer{PeerKind::kCidr, prefix->to_string()}, out));
    }
  }
  return ports_of(r, ip, m.pointer, out);
}

Status transport_matches(Reader& r, const Member& m, Protocol protocol, AceMatch& out) {
  const json& l4 = *m.value;
  if (!l4.is_object()) return r.refuse(m.pointer, "must be an object");
  VIGIE_TRY(set_protocol(r, m.pointer, protocol, out));
  if (protocol == Protocol::kIcmp) {
    if (!l4.empty()) return r.refuse(m.pointer, "ICMP types and codes cannot be expressed");
    return {};
  }
  VIGIE_TRY(only_known(r, l4, m.pointer,
                       {"source-port", "destination-port", "source-port-range-or-operator",
                        "destination-port-range-or-operator", "ietf-mud:direction-initiated",
                        "direction-initiated"}));
  VIGIE_TRY(ports_of(r, l4, m.pointer, out));
  Member d = member(r, l4, m.pointer, "ietf-mud:direction-initiated", {"direction-initiated"});
  if (d.value == nullptr) return {};
  if (protocol != Protocol::kTcp) return r.refuse(d.pointer, "direction-initiated is for TCP");
  auto direction = d.value->is_string() ? parse_direction(d.value->get<std::string>())
                                        : std::optional<Direction>();
  if (!direction) return r.refuse(d.pointer, "must be 'from-device' or 'to-device'");
  out.initiated = direction;
  return {};
}

// The ietf-mud:mud match: one abstraction.
Status mud_matches(const Reader& r, const Member& m, AceMatch& out) {
  const json& mud = *m.value;
  if (!mud.is_object() || mud.size() != 1) {
    return r.refuse(m.pointer, "must be an object with exactly one MUD abstraction");
  }
  const auto first = mud.begin();
  const std::string& key = first.key();
  const json& value = first.value();
  const std::string at = m.pointer + "/" + pointer_token(key);
  static constexpr std::array<std::pair<std::string_view, PeerKind>, 3> kFlags = {
      {{"local-networks", PeerKind::kLocalNetworks},
       {"same-manufacturer", PeerKind::kSameManufacturer},
       {"my-controller", PeerKind::kMyController}}};
  for (const auto& [name, kind] : kFlags) {
    if (key == name) return set_peer(r, at, Peer{kind, {}}, out);
  }
  if (!value.is_string() || value.get<std::string>().empty()) {
    return r.refuse(at, fmt::format("'{}' needs a non-empty string", key));
  }
  const auto text = value.get<std::string>();
  if (key == "manufacturer") return set_peer(r, at, Peer{PeerKind::kManufacturer, text}, out);
  if (key == "model") {
    return set_peer(r, at, Peer{PeerKind::kController, std::string(kModelPrefix) + text}, out);
  }
  if (key == "controller") {
    if (text.starts_with(kRolePrefix)) {
      auto role = parse_peer("role:" + text.substr(kRolePrefix.size()));
      if (!role || role->kind != PeerKind::kRole) {
        return r.refuse(at, fmt::format("'{}' is not a role name", text));
      }
      return set_peer(r, at, *role, out);
    }
    return set_peer(r, at, Peer{PeerKind::kController, text}, out);
  }
  return r.refuse(at, fmt::format("unknown MUD abstraction '{}'", key));
}

Result<AceMatch> ace_matches(Reader& r, const Member& m, bool to_device_acl) {
  AceMatch out;
  if (m.value == nullptr) return out;  // no matches: every packet
  if (!m.value->is_object()) return r.refuse(m.pointer, "matches must be an object");
  VIGIE_TRY(only_known(r, *m.value, m.pointer,
                       {"ipv4", "ipv6", "ipv4-acl", "ipv6-acl", "tcp", "udp", "icmp",
                        "ietf-mud:mud", "ietf-mud:mud-acl"}));
  for (auto [rfc, legacy] : {std::pair{"ipv4", "ipv4-acl"}, std::pair{"ipv6", "ipv6-acl"}}) {
    Member ip = member(r, *m.value, m.pointer, rfc, {legacy});
    if (ip.value != nullptr) VIGIE_TRY(ip_matches(r, ip, to_device_acl, out));
  }
  for (auto [name, protocol] : {std::pair{"tcp", Protocol::kTcp}, std::pair{"udp", Protocol::kUdp},
                                std::pair{"icmp", Protocol::kIcmp}}) {
    Member l4 = member(r, *m.value, m.pointer, name);
    if (l4.value != nullptr) VIGIE_TRY(transport_matches(r, l4, protocol, out));
  }
  Member mud = member(r, *m.value, m.pointer, "ietf-mud:mud", {"ietf-mud:mud-acl"});
  if (mud.value != nullptr) VIGIE_TRY(mud_matches(r, mud, out));
  const Protocol protocol = out.protocol.value_or(Protocol::kAny);
  if (protocol != Protocol::kTcp && protocol != Protocol::kUdp &&
      !(out.source.empty() && out.destination.empty())) {
    return r.refuse(m.pointer, "ports without TCP or UDP");
  }
  return out;
}

// What the vigie-intents extension says about an exported intent.
struct IntentNote {
  std::string purpose;
  bool cleartext = false;
  std::optional<Direction> direction;
  size_t group = 0;
};

// An ACE read as one intent (one port range on each side).
struct RawIntent {
  Intent intent;
  std::optional<size_t> group;
};

// The intent of an ACE. The responder's port is the device's (the source port of a
// from-device packet, the destination port of a to-device packet) when the peer initiates.
// Without direction-initiated (UDP), the side whose port is given alone is the responder;
// with both or neither given, the ACL's own direction decides.
Intent intent_of(const AceMatch& match, bool to_device_acl, const IntentNote* note) {
  const auto& device_ports = to_device_acl ? match.destination : match.source;
  const auto& peer_ports = to_device_acl ? match.source : match.destination;
  Direction direction = to_device_acl ? Direction::kToDevice : Direction::kFromDevice;
  if (match.initiated) {
    direction = *match.initiated;
  } else if (note != nullptr && note->direction) {
    direction = *note->direction;
  } else if (device_ports.empty() != peer_ports.empty()) {
    direction = device_ports.empty() ? Direction::kFromDevice : Direction::kToDevice;
  }
  const bool device_responds = direction == Direction::kToDevice;
  Intent intent;
  intent.direction = direction;
  intent.peer = match.peer.value_or(Peer{});
  intent.protocol = match.protocol.value_or(Protocol::kAny);
  intent.ports = device_responds ? device_ports : peer_ports;
  intent.source_ports = device_responds ? peer_ports : device_ports;
  return intent;
}

std::vector<PortRange> merged(std::vector<PortRange> a, const std::vector<PortRange>& b) {
  if (a.empty() || b.empty()) return {};
  a.insert(a.end(), b.begin(), b.end());
  auto normal = parse_ports(format_ports(a));
  return normal ? *normal : a;
}

bool same_flow(const Intent& a, const Intent& b) {
  return a.direction == b.direction && a.peer == b.peer && a.protocol == b.protocol;
}

// Both halves of a flow give one intent; the ACEs of one exported intent (one per port
// range) give it back whole.
void add_intent(std::vector<RawIntent>& out, RawIntent raw) {
  for (auto& have : out) {
    if (!same_flow(have.intent, raw.intent)) continue;
    if (raw.group && have.group == raw.group) {
      have.intent.ports = merged(have.intent.ports, raw.intent.ports);
      have.intent.source_ports = merged(have.intent.source_ports, raw.intent.source_ports);
      return;
    }
    if (!raw.group && !have.group && have.intent.ports == raw.intent.ports &&
        have.intent.source_ports == raw.intent.source_ports) {
      return;
    }
  }
  out.push_back(std::move(raw));
}

// The vigie-intents extension: ACE name -> note.
Result<std::map<std::string, IntentNote>> read_notes(const Reader& r, const json& mud,
                                                     const std::string& pointer) {
  std::map<std::string, IntentNote> out;
  auto it = mud.find(kExtensionMember);
  if (it == mud.end()) return out;
  const std::string at = pointer + "/" + std::string(kExtensionMember);
  if (!it->is_array()) return r.refuse(at, "must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    const std::string here = fmt::format("{}/{}", at, i);
    if (!e.is_object() || !e.contains("aces") || !e["aces"].is_array()) {
      return r.refuse(here, "must be an object with an 'aces' array");
    }
    IntentNote note{
        string_or_empty(e.contains("purpose") ? &e["purpose"] : nullptr),
        e.contains("cleartext") && e["cleartext"].is_boolean() && e["cleartext"].get<bool>(),
        std::nullopt, i};
    if (e.contains("direction")) {
      note.direction = parse_direction(string_or_empty(&e["direction"]));
      if (!note.direction) return r.refuse(here + "/direction", "not a direction");
    }
    for (const auto& name : e["aces"]) {
      if (!name.is_string()) return r.refuse(here + "/aces", "ACE names are strings");
      out.emplace(name.get<std::string>(), note);
    }
  }
  return out;
}

// The ACL names a policy lists ("from-device-policy" -> access-lists -> access-list).
Result<std::vector<std::pair<std::string, std::string>>> policy_acls(Reader& r, const json& mud,
                                                                     const std::string& pointer,
                                                                     std::string_view policy) {
  std::vector<std::pair<std::string, std::string>> out;  // name, pointer of the reference
  Member p = member(r, mud, pointer, policy);
  if (p.value == nullptr) return out;
  auto lists = object_at(r, member(r, *p.value, p.pointer, "access-lists"), "access-lists");
  if (!lists) return tl::unexpected(lists.error());
  const std::string lists_at = p.pointer + "/access-lists";
  auto list = array_at(r, member(r, **lists, lists_at, "access-list"), "access-list");
  if (!list) return tl::unexpected(list.error());
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const json& ref = (**list)[i];
    const std::string at = fmt::format("{}/access-list/{}", lists_at, i);
    if (!ref.is_object() || !ref.contains("name") || !ref["name"].is_string()) {
      return r.refuse(at, "an access-list entry needs a 'name'");
    }
    out.emplace_back(ref["name"].get<std::string>(), at + "/name");
  }
  return out;
}

struct Acl {
  const json* aces = nullptr;
  std::string aces_pointer;
};

Result<std::map<std::string, Acl>> read_acls(Reader& r, const json& root) {
  std::map<std::string, Acl> out;
  Member acls =
      member(r, root, "", "ietf-access-control-list:acls",
             {"ietf-access-control-list:access-lists", "ietf-acl:acls", "ietf-acl:access-lists"});
  auto container = object_at(r, acls, "ietf-access-control-list:acls");
  if (!container) return tl::unexpected(container.error());
  auto list = array_at(r, member(r, **container, acls.pointer, "acl"), "acl");
  if (!list) return tl::unexpected(list.error());
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const json& acl = (**list)[i];
    const std::string at = fmt::format("{}/acl/{}", acls.pointer, i);
    if (!acl.is_object() || !acl.contains("name") || !acl["name"].is_string()) {
      return r.refuse(at, "an ACL needs a 'name'");
    }
    Member type = member(r, acl, at, "type", {"acl-type"});
    if (type.value != nullptr && !type.value->is_string()) {
      return r.refuse(type.pointer, "must be a string");
    }
    Member aces = member(r, acl, at, "aces", {"access-list-entries"});
    auto aces_object = object_at(r, aces, "aces");
    if (!aces_object) return tl::unexpected(aces_object.error());
    auto ace_list = array_at(r, member(r, **aces_object, aces.pointer, "ace"), "ace");
    if (!ace_list) return tl::unexpected(ace_list.error());
    if (!out.emplace(acl["name"].get<std::string>(), Acl{*ace_list, aces.pointer + "/ace"})
             .second) {
      return r.refuse(at + "/name", "a second ACL of the same name");
    }
  }
  return out;
}

Status read_ace(Reader& r, const json& ace, const std::string& at, bool to_device_acl,
                const std::map<std::string, IntentNote>& notes, std::vector<RawIntent>& out) {
  if (!ace.is_object()) return r.refuse(at, "an ACE must be an object");
  Member name = member(r, ace, at, "name", {"rule-name"});
  const std::string ace_name = string_or_empty(name.value);
  Member actions = member(r, ace, at, "actions");
  const json* forwarding = actions.value != nullptr && actions.value->is_object() &&
                                   actions.value->contains("forwarding")
                               ? &(*actions.value)["forwarding"]
                               : nullptr;
  const std::string verdict = string_or_empty(forwarding);
  if (verdict != "accept" && verdict != "drop" && verdict != "reject") {
    return r.refuse(at + "/actions/forwarding", "must be 'accept', 'drop' or 'reject'");
  }
  if (verdict != "accept") {
    r.warnings.push_back(
        fmt::format("{}:{}: ACE '{}' {}s: not an intent (everything not allowed is dropped)",
                    r.file, at, ace_name, verdict));
    return {};
  }
  auto match = ace_matches(r, member(r, ace, at, "matches"), to_device_acl);
  if (!match) return tl::unexpected(match.error());
  auto note = notes.find(ace_name);
  const IntentNote* n = note == notes.end() ? nullptr : &note->second;
  RawIntent raw{intent_of(*match, to_device_acl, n), std::nullopt};
  raw.intent.purpose = n != nullptr ? n->purpose : ace_name;
  raw.intent.cleartext =
      n != nullptr ? n->cleartext : default_cleartext(raw.intent.protocol, raw.intent.ports);
  raw.intent.provenance = {r.file, at, ace.dump(-1, ' ', false, json::error_handler_t::replace)};
  if (n != nullptr) raw.group = n->group;
  add_intent(out, std::move(raw));
  return {};
}

std::string host_of(std::string_view url) {
  auto start = url.find("://");
  if (start == std::string_view::npos) return {};
  url.remove_prefix(start + 3);
  return std::string(url.substr(0, url.find_first_of("/:?#")));
}

std::string last_segment(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

Result<json> parse_bounded(std::string_view text, const std::string& file) {
  if (text.size() > kMaxBytes) {
    return core::fail(ErrorCode::kInvalidInput, fmt::format("larger than {} MiB", kMaxBytes >> 20),
                      file);
  }
  // nlohmann's parser is iterative: depth is checked as it goes, not by recursion.
  bool too_deep = false;
  json::parser_callback_t depth_check = [&](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) too_deep = true;
    return !too_deep;
  };
  try {
    json doc = json::parse(text, depth_check);
    if (too_deep) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("JSON nested deeper than {} levels", kMaxDepth), file);
    }
    return doc;
  } catch (const json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    std::string why = e.what();
    if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    return core::fail(
        ErrorCode::kInvalidInput, "malformed JSON: " + why,
        fmt::format("{}:{}", file, core::line_column(text, e.byte > 0 ? e.byte - 1 : 0)));
  } catch (const json::exception& e) {
    return core::fail(ErrorCode::kInvalidInput, std::string("malformed JSON: ") + e.what(), file);
  }
}

Result<Profile> profile_header(Reader& r, const json& mud, const std::string& at) {
  Member version = member(r, mud, at, "mud-version");
  if (version.value == nullptr || *version.value != 1) {
    return r.refuse(version.value ? version.pointer : at + "/mud-version", "mud-version must be 1");
  }
  Member url = member(r, mud, at, "mud-url");
  if (url.value == nullptr || !url.value->is_string() ||
      !url.value->get<std::string>().starts_with("https://")) {
    return r.refuse(at + "/mud-url", "mud-url must be an https URL");
  }
  Profile p;
  p.mud_url = url.value->get<std::string>();
  p.source = r.file;
  p.vendor = string_or_empty(member(r, mud, at, "mfg-name").value);
  if (p.vendor.empty()) p.vendor = host_of(p.mud_url);
  p.product = string_or_empty(member(r, mud, at, "model-name").value);
  if (p.product.empty()) p.product = string_or_empty(member(r, mud, at, "systeminfo").value);
  if (p.product.empty()) p.product = last_segment(p.mud_url);
  p.name = profile_slug(p.vendor, p.product);
  return p;
}

// Export ---------------------------------------------------------------------------------

ordered_json port_json(const PortRange& r) {
  if (r.first == r.last) return {{"operator", "eq"}, {"port", r.first}};
  if (r.first == 0) return {{"operator", "lte"}, {"port", r.last}};
  if (r.last == 65535) return {{"operator", "gte"}, {"port", r.first}};
  return {{"lower-port", r.first}, {"upper-port", r.last}};
}

bool is_v6_peer(const Peer& peer) {
  if (peer.kind != PeerKind::kCidr) return false;
  auto prefix = parse_prefix(peer.value);
  return prefix && !prefix->address.is_v4();
}

ordered_json peer_match(const Peer& peer) {
  switch (peer.kind) {
    case PeerKind::kLocalNetworks:
    case PeerKind::kSameManufacturer:
    case PeerKind::kMyController:
      return {{std::string(to_string(peer.kind)), ordered_json::array({nullptr})}};
    case PeerKind::kManufacturer:
      return {{"manufacturer", peer.value}};
    case PeerKind::kController:
      if (peer.value.starts_with(kModelPrefix)) {
        return {{"model", peer.value.substr(kModelPrefix.size())}};
      }
      return {{"controller", peer.value}};
    case PeerKind::kRole:
      return {{"controller", std::string(kRolePrefix) + peer.value}};
    case PeerKind::kAny:
    case PeerKind::kCidr:
    case PeerKind::kDnsName:
      break;
  }
  return nullptr;
}

// One ACE of an intent, in the ACL of packets to the device or from it.
ordered_json ace_json(const Intent& intent, const std::string& name, bool to_device_acl,
                      const std::optional<PortRange>& port, const std::optional<PortRange>& src) {
  const bool v6 = is_v6_peer(intent.peer);
  ordered_json ip = ordered_json::object();
  if (intent.protocol != Protocol::kAny) ip["protocol"] = protocol_number(intent.protocol);
  const std::string_view side = to_device_acl ? "src" : "dst";
  if (intent.peer.kind == PeerKind::kDnsName) {
    ip[fmt::format("ietf-acldns:{}-dnsname", side)] = intent.peer.value;
  } else if (intent.peer.kind == PeerKind::kCidr) {
    auto prefix = parse_prefix(intent.peer.value);
    std::string text = prefix ? prefix->to_string() : intent.peer.value;
    if (text.find('/') == std::string::npos) text += v6 ? "/128" : "/32";
    ip[fmt::format("{}-ipv{}-network", to_device_acl ? "source" : "destination", v6 ? 6 : 4)] =
        text;
  }
  ordered_json matches = ordered_json::object();
  if (!ip.empty()) matches[v6 ? "ipv6" : "ipv4"] = ip;
  if (auto mud = peer_match(intent.peer); !mud.is_null()) matches["ietf-mud:mud"] = mud;
  if (intent.protocol == Protocol::kTcp || intent.protocol == Protocol::kUdp) {
    ordered_json l4 = ordered_json::object();
    if (intent.protocol == Protocol::kTcp) {
      l4["ietf-mud:direction-initiated"] = std::string(to_string(intent.direction));
    }
    // The responder's port is the peer's in a from-device flow.
    const bool peer_responds = intent.direction == Direction::kFromDevice;
    const bool responder_is_destination = peer_responds != to_device_acl;
    const auto& dst = responder_is_destination ? port : src;
    const auto& source = responder_is_destination ? src : port;
    if (source) l4["source-port"] = port_json(*source);
    if (dst) l4["destination-port"] = port_json(*dst);
    matches[intent.protocol == Protocol::kTcp ? "tcp" : "udp"] = l4;
  } else if (intent.protocol == Protocol::kIcmp) {
    matches["icmp"] = ordered_json::object();
  }
  return {{"name", name}, {"matches", matches}, {"actions", {{"forwarding", "accept"}}}};
}

std::vector<std::optional<PortRange>> port_options(const std::vector<PortRange>& ports) {
  std::vector<std::optional<PortRange>> out;
  out.reserve(ports.size() + 1);
  for (const auto& p : ports) out.emplace_back(p);
  if (out.empty()) out.emplace_back(std::nullopt);
  return out;
}

}  // namespace

Result<MudImport> read_mud(std::string_view text, std::string_view file) {
  Reader r{std::string(file), {}};
  auto doc = parse_bounded(text, r.file);
  if (!doc) return tl::unexpected(doc.error());
  if (!doc->is_object()) return r.refuse("", "a MUD file is a JSON object");
  Member mud = member(r, *doc, "", "ietf-mud:mud");
  auto container = object_at(r, mud, "the ietf-mud:mud container");
  if (!container) return tl::unexpected(container.error());
  auto profile = profile_header(r, **container, mud.pointer);
  if (!profile) return tl::unexpected(profile.error());
  auto notes = read_notes(r, **container, mud.pointer);
  if (!notes) return tl::unexpected(notes.error());
  auto acls = read_acls(r, *doc);
  if (!acls) return tl::unexpected(acls.error());
  std::vector<RawIntent> raw;
  for (auto [policy, to_device] :
       {std::pair{"from-device-policy", false}, std::pair{"to-device-policy", true}}) {
    auto names = policy_acls(r, **container, mud.pointer, policy);
    if (!names) return tl::unexpected(names.error());
    for (const auto& [name, at] : *names) {
      auto acl = acls->find(name);
      if (acl == acls->end()) {
        return r.refuse(at, fmt::format("no ACL named '{}' in the file", name));
      }
      for (size_t i = 0; i < acl->second.aces->size(); ++i) {
        VIGIE_TRY(read_ace(r, (*acl->second.aces)[i],
                           fmt::format("{}/{}", acl->second.aces_pointer, i), to_device, *notes,
                           raw));
      }
    }
  }
  for (auto& i : raw) profile->intents.push_back(std::move(i.intent));
  return MudImport{std::move(*profile), std::move(r.warnings)};
}

std::string mud_url_of(const Profile& profile) {
  if (!profile.mud_url.empty()) return profile.mud_url;
  return "https://mud.vigie.invalid/" + profile.name;
}

Result<std::string> write_mud(const Profile& profile, std::string_view last_update) {
  // ACLs by family (v4 unless the peer is an IPv6 prefix) and direction of the packets.
  std::map<std::string, ordered_json> acls;
  ordered_json notes = ordered_json::array();
  const std::string base = profile.name.substr(0, 50);
  for (size_t i = 0; i < profile.intents.size(); ++i) {
    const Intent& intent = profile.intents[i];
    if (intent.protocol != Protocol::kTcp && intent.protocol != Protocol::kUdp &&
        !(intent.ports.empty() && intent.source_ports.empty())) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("intent {} has ports but no protocol: MUD cannot say that", i),
                        profile.name);
    }
    const std::string family = is_v6_peer(intent.peer) ? "v6" : "v4";
    // Without direction-initiated, a to-device half is read back unambiguously only when the
    // responder's port alone is given.
    const bool both_halves =
        intent.protocol == Protocol::kTcp || (!intent.ports.empty() && intent.source_ports.empty());
    ordered_json names = ordered_json::array();
    size_t k = 0;
    for (const auto& port : port_options(intent.ports)) {
      for (const auto& src : port_options(intent.source_ports)) {
        for (bool to_device : {false, true}) {
          const bool initiator_half = to_device == (intent.direction == Direction::kToDevice);
          if (!initiator_half && !both_halves) continue;
          const std::string name = fmt::format("i{}-{}-{}", i, k, to_device ? "todev" : "frdev");
          acls[fmt::format("{}-{}{}", base, family, to_device ? "to" : "fr")].push_back(
              ace_json(intent, name, to_device, port, src));
          names.push_back(name);
        }
        ++k;
      }
    }
    notes.push_back({{"aces", names},
                     {"purpose", intent.purpose},
                     {"cleartext", intent.cleartext},
                     {"direction", std::string(to_string(intent.direction))}});
  }
  ordered_json from_lists = ordered_json::array();
  ordered_json to_lists = ordered_json::array();
  ordered_json acl_list = ordered_json::array();
  for (const auto& [name, aces] : acls) {
    (name.ends_with("fr") ? from_lists : to_lists).push_back({{"name", name}});
    acl_list.push_back(
        {{"name", name},
         {"type", name.find("-v6") != std::string::npos ? "ipv6-acl-type" : "ipv4-acl-type"},
         {"aces", {{"ace", aces}}}});
  }
  ordered_json mud = {{"mud-version", 1},
                      {"mud-url", mud_url_of(profile)},
                      {"last-update", std::string(last_update)},
                      {"cache-validity", 48},
                      {"is-supported", true},
                      {"systeminfo", fmt::format("{} {}", profile.vendor, profile.product)},
                      {"mfg-name", profile.vendor},
                      {"model-name", profile.product},
                      {"extensions", {std::string(kExtension)}},
                      {"from-device-policy", {{"access-lists", {{"access-list", from_lists}}}}},
                      {"to-device-policy", {{"access-lists", {{"access-list", to_lists}}}}},
                      {std::string(kExtensionMember), notes}};
  ordered_json doc = {{"ietf-mud:mud", mud},
                      {"ietf-access-control-list:acls", {{"acl", acl_list}}}};
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace vigie::netpolicy
