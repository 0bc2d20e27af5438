// Rendering a ruleset as an nft script and as nftables JSON. Both walk the same NftRuleset in
// the same order, so the two files say the same thing line for line.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "vigie/core/json_writer.h"
#include "vigie/netpolicy/nft.h"

namespace vigie::netpolicy {
namespace {

constexpr int kV4MappedBits = 96;
constexpr std::string_view kChain = "forward";
constexpr std::string_view kDropCounter = "dropped";
// Logging of drops: enough to see a scan or a misconfigured device, never a log flood.
constexpr int kLogRate = 10;
constexpr int kLogBurst = 20;

std::string_view ip_keyword(NftFamily f) { return f == NftFamily::kIpv4 ? "ip" : "ip6"; }
std::string_view addr_type(NftFamily f) {
  return f == NftFamily::kIpv4 ? "ipv4_addr" : "ipv6_addr";
}

int family_length(const IpPrefix& p) {
  return p.address.is_v4() && p.length >= kV4MappedBits ? p.length - kV4MappedBits : p.length;
}
bool is_host(const IpPrefix& p) { return p.length == 128; }

std::string prefix_text(const IpPrefix& p) {
  if (is_host(p)) return p.address.to_string();
  return fmt::format("{}/{}", p.address.to_string(), family_length(p));
}

std::string protocol_name(std::uint8_t n) {
  switch (n) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "ipv6-icmp";
    default:
      return std::to_string(n);
  }
}

std::string span_text(unsigned first, unsigned last) {
  return first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
}

std::string protocol_text(const NftElement& e) {
  return e.protocol_first == e.protocol_last ? protocol_name(e.protocol_first)
                                             : span_text(e.protocol_first, e.protocol_last);
}

// One rule of the forward chain, in both notations.
struct Rule {
  std::string text;
  std::string json;  // the "expr" array
};

std::string json_string(std::string_view s) {
  std::string out;
  core::append_json_string(out, s);
  return out;
}

std::string payload_json(std::string_view protocol, std::string_view field) {
  return fmt::format(R"({{"payload": {{"protocol": "{}", "field": "{}"}}}})", protocol, field);
}

std::string match_json(std::string_view op, std::string_view left, std::string_view right) {
  return fmt::format(R"({{"match": {{"op": "{}", "left": {}, "right": {}}}}})", op, left, right);
}

std::string ct_state_json(std::string_view states) {
  return match_json("in", R"({"ct": {"key": "state"}})", states);
}

// The device's address is the destination when the peer opens towards the device.
std::string_view device_field(Direction d) { return d == Direction::kToDevice ? "daddr" : "saddr"; }
std::string_view peer_field(Direction d) { return d == Direction::kToDevice ? "saddr" : "daddr"; }

Rule map_rule(const NftMap& m) {
  std::string_view ip = ip_keyword(m.family);
  Rule r;
  std::string exprs;
  if (!m.peer_set.empty()) {
    r.text = fmt::format("{} {} @{} ", ip, peer_field(m.direction), m.peer_set);
    exprs =
        match_json("==", payload_json(ip, peer_field(m.direction)), json_string("@" + m.peer_set)) +
        ", ";
  }
  r.text += fmt::format("{} {} . meta l4proto . th dport vmap @{}", ip, device_field(m.direction),
                        m.name);
  r.json = fmt::format(
      R"([{}{{"vmap": {{"key": {{"concat": [{}, {{"meta": {{"key": "l4proto"}}}}, {}]}}, "data": {}}}}}])",
      exprs, payload_json(ip, device_field(m.direction)), payload_json("th", "dport"),
      json_string("@" + m.name));
  return r;
}

std::vector<Rule> chain_rules(const NftRuleset& rs) {
  std::vector<Rule> rules;
  rules.push_back(
      {"ct state established,related accept",
       "[" + ct_state_json(R"(["established", "related"])") + R"(, {"accept": null}])"});
  // Traffic that neither comes from nor goes to this zone is another table's business.
  for (NftFamily f : {NftFamily::kIpv4, NftFamily::kIpv6}) {
    std::string_view ip = ip_keyword(f);
    std::string set = fmt::format("zone_{}", f == NftFamily::kIpv4 ? "v4" : "v6");
    rules.push_back(
        {fmt::format("{} saddr != @{} {} daddr != @{} accept", ip, set, ip, set),
         fmt::format(R"([{}, {}, {{"accept": null}}])",
                     match_json("!=", payload_json(ip, "saddr"), json_string("@" + set)),
                     match_json("!=", payload_json(ip, "daddr"), json_string("@" + set)))});
  }
  rules.push_back(
      {"ct state invalid drop", "[" + ct_state_json(R"("invalid")") + R"(, {"drop": null}])"});
  for (const auto& m : rs.maps) rules.push_back(map_rule(m));
  rules.push_back(
      {fmt::format(R"(limit rate {}/second burst {} packets log prefix "{}" level warn)", kLogRate,
                   kLogBurst, rs.log_prefix),
       fmt::format(
           R"([{{"limit": {{"rate": {}, "burst": {}, "per": "second"}}}}, {{"log": {{"prefix": {}, "level": "warn"}}}}])",
           kLogRate, kLogBurst, json_string(rs.log_prefix))});
  rules.push_back({fmt::format(R"(counter name "{}" drop)", kDropCounter),
                   fmt::format(R"([{{"counter": "{}"}}, {{"drop": null}}])", kDropCounter)});
  return rules;
}

std::string header_comment(const NftRuleset& rs, std::string_view load) {
  return fmt::format(
      "vigie: zone {}: {} allow-list elements in {} maps. Check: vigie policy check FILE. "
      "Deploy: {} FILE (replaces table inet {} atomically).",
      rs.zone_label, rs.element_count(), rs.maps.size(), load, rs.table);
}

// Text --------------------------------------------------------------------------------------

// `notes[i]`, when given and not empty, ends the line of items[i] as a `#` comment.
void append_elements_text(std::string& out, const std::vector<std::string>& items,
                          const std::vector<std::string_view>& notes = {}) {
  if (items.empty()) return;
  out += "\t\telements = {\n";
  for (size_t i = 0; i < items.size(); ++i) {
    out += "\t\t\t";
    out += items[i];
    if (i + 1 < items.size()) out += ',';
    if (i < notes.size() && !notes[i].empty()) {
      out += "  # ";
      out += notes[i];
    }
    out += '\n';
  }
  out += "\t\t}\n";
}

std::string element_text(const NftElement& e) {
  return fmt::format("{} . {} . {} : accept", e.device.to_string(), protocol_text(e),
                     span_text(e.ports.first, e.ports.last));
}

// JSON --------------------------------------------------------------------------------------

std::string prefix_json(const IpPrefix& p) {
  if (is_host(p)) return json_string(p.address.to_string());
  return fmt::format(R"({{"prefix": {{"addr": {}, "len": {}}}}})",
                     json_string(p.address.to_string()), family_length(p));
}

std::string span_json(unsigned first, unsigned last, const std::string& single) {
  return first == last ? single : fmt::format(R"({{"range": [{}, {}]}})", first, last);
}

std::string element_json(const NftElement& e) {
  std::string proto = e.protocol_first == e.protocol_last
                          ? json_string(protocol_name(e.protocol_first))
                          : span_json(e.protocol_first, e.protocol_last, "");
  std::string val =
      fmt::format(R"({{"concat": [{}, {}, {}]}})", json_string(e.device.to_string()), proto,
                  span_json(e.ports.first, e.ports.last, std::to_string(e.ports.first)));
  return fmt::format(R"([{}, {{"accept": null}}])", val);
}

std::string table_json(const NftRuleset& rs) {
  return fmt::format(R"({{"family": "inet", "name": {}}})", json_string(rs.table));
}

void append_elements_json(std::string& out, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out += ", \"elem\": [\n";
  for (size_t i = 0; i < items.size(); ++i) {
    out += items[i];
    out += i + 1 < items.size() ? ",\n" : "\n";
  }
  out += "]";
}

}  // namespace

std::string render_nft(const NftRuleset& rs) {
  std::string out;
  out.reserve(256 + rs.element_count() * 120);
  out += "#!/usr/sbin/nft -f\n# " + header_comment(rs, "nft -f") + "\n";
  // Declaring then deleting the table makes the load an atomic replace, first time included.
  out += fmt::format("table inet {}\ndelete table inet {}\n\ntable inet {} {{\n", rs.table,
                     rs.table, rs.table);
  out +=
      fmt::format("\tcounter {} {{\n\t\tcomment \"packets dropped by the forward chain\"\n\t}}\n",
                  kDropCounter);
  for (const auto& s : rs.sets) {
    out += fmt::format("\n\tset {} {{\n\t\ttype {}\n\t\tflags interval\n", s.name,
                       addr_type(s.family));
    if (!s.comment.empty()) out += fmt::format("\t\tcomment \"{}\"\n", s.comment);
    std::vector<std::string> items;
    items.reserve(s.elements.size());
    for (const auto& p : s.elements) items.push_back(prefix_text(p));
    append_elements_text(out, items);
    out += "\t}\n";
  }
  for (const auto& m : rs.maps) {
    out += fmt::format("\n\tmap {} {{\n\t\ttype {} . inet_proto . inet_service : verdict\n", m.name,
                       addr_type(m.family));
    if (m.ranged) out += "\t\tflags interval\n";
    out += "\t\tcounter\n";
    if (!m.comment.empty()) out += fmt::format("\t\tcomment \"{}\"\n", m.comment);
    std::vector<std::string> items;
    std::vector<std::string_view> notes;
    items.reserve(m.elements.size());
    notes.reserve(m.elements.size());
    for (const auto& e : m.elements) {
      items.push_back(element_text(e));
      notes.emplace_back(e.comment);
    }
    append_elements_text(out, items, notes);
    out += "\t}\n";
  }
  out += fmt::format(
      "\n\tchain {} {{\n\t\ttype filter hook forward priority filter; policy drop;\n", kChain);
  for (const auto& r : chain_rules(rs)) out += "\t\t" + r.text + "\n";
  out += "\t}\n}\n";
  return out;
}

std::string render_json(const NftRuleset& rs) {
  std::string out;
  out.reserve(512 + rs.element_count() * 160);
  std::string table = table_json(rs);
  std::string in_table = fmt::format(R"("family": "inet", "table": {})", json_string(rs.table));
  out += "{\"nftables\": [\n";
  out += R"({"metainfo": {"json_schema_version": 1, "comment": )" +
         json_string(header_comment(rs, "nft -j -f")) + "}},\n";
  out += fmt::format(R"({{"add": {{"table": {}}}}},)"
                     "\n"
                     R"({{"delete": {{"table": {}}}}},)"
                     "\n"
                     R"({{"add": {{"table": {}}}}},)"
                     "\n",
                     table, table, table);
  out += fmt::format(
      R"({{"add": {{"counter": {{{}, "name": "{}", "comment": "packets dropped by the forward chain"}}}}}})",
      in_table, kDropCounter);
  for (const auto& s : rs.sets) {
    out +=
        fmt::format(R"(,{}{{"add": {{"set": {{{}, "name": {}, "type": "{}", "flags": ["interval"])",
                    "\n", in_table, json_string(s.name), addr_type(s.family));
    if (!s.comment.empty()) out += ", \"comment\": " + json_string(s.comment);
    std::vector<std::string> items;
    items.reserve(s.elements.size());
    for (const auto& p : s.elements) items.push_back(prefix_json(p));
    append_elements_json(out, items);
    out += "}}}";
  }
  for (const auto& m : rs.maps) {
    out += fmt::format(
        R"(,{}{{"add": {{"map": {{{}, "name": {}, "type": ["{}", "inet_proto", "inet_service"], "map": "verdict")",
        "\n", in_table, json_string(m.name), addr_type(m.family));
    if (m.ranged) out += R"(, "flags": ["interval"])";
    out += R"(, "stmt": [{"counter": null}])";
    if (!m.comment.empty()) out += ", \"comment\": " + json_string(m.comment);
    std::vector<std::string> items;
    items.reserve(m.elements.size());
    for (const auto& e : m.elements) items.push_back(element_json(e));
    append_elements_json(out, items);
    out += "}}}";
  }
  out += fmt::format(
      R"(,{}{{"add": {{"chain": {{{}, "name": "{}", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}}}}})",
      "\n", in_table, kChain);
  for (const auto& r : chain_rules(rs)) {
    out += fmt::format(R"(,{}{{"add": {{"rule": {{{}, "chain": "{}", "expr": {}}}}}}})", "\n",
                       in_table, kChain, r.json);
  }
  out += "\n]}\n";
  return out;
}

}  // namespace vigie::netpolicy
