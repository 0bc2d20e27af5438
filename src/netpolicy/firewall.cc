#include "vigie/netpolicy/firewall.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vigie/audit/audit.h"
#include "vigie/core/csv.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;
using nlohmann::json;
using store::Value;

constexpr std::string_view kCsvColumns[] = {"ruleset",     "position", "name",  "source",
                                            "destination", "protocol", "ports", "action"};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(
        core::trim(text.substr(start, end == std::string_view::npos ? text.npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string zone_key(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == std::string_view::npos) return inventory::normalize_words(name);
  return inventory::normalize_words(name.substr(0, slash)) + "/" +
         inventory::normalize_words(name.substr(slash + 1));
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint e;
  const auto trimmed = core::trim(text);
  if (trimmed.empty() || trimmed == "any" || trimmed == "*") return e;
  for (auto part : split(trimmed, '|')) {
    if (part.empty()) return core::fail(ErrorCode::kInvalidInput, "empty item in endpoint list");
    if (part == "any" || part == "*") return Endpoint{};
    if (auto prefix = parse_prefix(part)) {
      e.prefixes.push_back(*prefix);
    } else if ((part.find_first_of("0123456789") == 0 &&
                part.find('/') != std::string_view::npos) ||
               part.find(':') != std::string_view::npos) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a valid prefix", part));
    } else {
      e.zones.emplace_back(part);
    }
  }
  return e;
}

std::string format_endpoint(const Endpoint& endpoint) {
  if (endpoint.any()) return "any";
  std::string out;
  for (const auto& z : endpoint.zones) out += (out.empty() ? "" : "|") + z;
  for (const auto& p : endpoint.prefixes) out += (out.empty() ? "" : "|") + p.to_string();
  return out;
}

Result<RuleSet> read_rules_csv(const std::filesystem::path& path, std::string_view ruleset) {
  auto reader = core::CsvReader::open(path);
  if (!reader) return tl::unexpected(reader.error());
  const std::string file = path.string();
  std::vector<std::string_view> fields;
  auto more = reader->next(fields);
  if (!more) return tl::unexpected(more.error());
  if (!*more) return core::fail(ErrorCode::kInvalidInput, "empty file: a header is required", file);
  std::map<std::string_view, size_t> column;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string name = core::ascii_lower(core::trim(fields[i]));
    auto known = std::find(std::begin(kCsvColumns), std::end(kCsvColumns), name);
    if (known == std::end(kCsvColumns)) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("unknown column '{}'", name),
                        fmt::format("{}:1 column {}", file, i + 1));
    }
    column[*known] = i;
  }
  for (auto required : {"source", "destination", "action"}) {
    if (!column.contains(required)) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("missing column '{}'", required),
                        file + ":1");
    }
  }
  RuleSet set;
  set.name = ruleset;
  std::map<std::string, std::set<int>> positions;
  while (true) {
    more = reader->next(fields);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    const size_t line = reader->line();
    const auto cell = [&](std::string_view name) -> std::string_view {
      auto it = column.find(name);
      return it == column.end() || it->second >= fields.size() ? std::string_view()
                                                               : core::trim(fields[it->second]);
    };
    const auto where = [&](std::string_view name) {
      return fmt::format("{}:{} column '{}'", file, line, name);
    };
    if (fields.size() == 1 && core::trim(fields[0]).empty()) continue;
    FirewallRule rule;
    rule.ruleset = cell("ruleset").empty() ? std::string(ruleset) : std::string(cell("ruleset"));
    if (rule.ruleset.empty()) {
      return core::fail(ErrorCode::kInvalidInput, "no ruleset named (column or --ruleset)",
                        where("ruleset"));
    }
    if (set.name.empty()) set.name = rule.ruleset;
    if (rule.ruleset != set.name) {
      return core::fail(
          ErrorCode::kInvalidInput,
          fmt::format("one file holds one ruleset: '{}' after '{}'", rule.ruleset, set.name),
          where("ruleset"));
    }
    if (!cell("position").empty()) {
      int position = 0;
      const auto text = cell("position");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), position);
      if (ec != std::errc() || end != text.data() + text.size() || position <= 0) {
        return core::fail(ErrorCode::kInvalidInput, "position must be a positive integer",
                          where("position"));
      }
      rule.position = position;
    } else {
      rule.position = static_cast<int>(set.rules.size()) + 1;
    }
    if (!positions[rule.ruleset].insert(rule.position).second) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("position {} appears twice", rule.position), where("position"));
    }
    rule.name = cell("name").empty() ? fmt::format("{}#{}", rule.ruleset, rule.position)
                                     : std::string(cell("name"));
    for (auto [name, endpoint] :
         {std::pair{"source", &rule.source}, std::pair{"destination", &rule.destination}}) {
      auto e = parse_endpoint(cell(name));
      if (!e) return core::fail(ErrorCode::kInvalidInput, e.error().message, where(name));
      *endpoint = std::move(*e);
    }
    auto proto =
        cell("protocol").empty() ? std::optional(Protocol::kAny) : parse_protocol(cell("protocol"));
    if (!proto) {
      return core::fail(
          ErrorCode::kInvalidInput,
          fmt::format("unknown protocol '{}' (tcp, udp, icmp, any)", cell("protocol")),
          where("protocol"));
    }
    rule.protocol = *proto;
    if (!cell("ports").empty() && cell("ports") != "any") {
      if (rule.protocol != Protocol::kTcp && rule.protocol != Protocol::kUdp) {
        return core::fail(ErrorCode::kInvalidInput, "ports need protocol tcp or udp",
                          where("ports"));
      }
      auto ports = parse_ports(cell("ports"));
      if (!ports)
        return core::fail(ErrorCode::kInvalidInput, ports.error().message, where("ports"));
      rule.ports = *ports;
    }
    auto action = parse_action(cell("action"));
    if (!action) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("unknown action '{}' (accept, drop, reject)", cell("action")),
                        where("action"));
    }
    rule.action = *action;
    rule.provenance = {file, fmt::format("line {}", line), ""};
    set.rules.push_back(std::move(rule));
  }
  std::sort(set.rules.begin(), set.rules.end(),
            [](const auto& a, const auto& b) { return a.position < b.position; });
  return set;
}

namespace {

// Reads the rules of an nftables JSON document.
class NftReader {
 public:
  NftReader(const json& doc, std::string file, const NftImportOptions& options)
      : doc_(doc), file_(std::move(file)), options_(options) {}

  Result<RuleSet> read() {
    if (!doc_.is_object() || !doc_.contains("nftables") || !doc_["nftables"].is_array()) {
      return fail("/", "not an nftables JSON document (no \"nftables\" array)");
    }
    const auto& items = doc_["nftables"];
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      if (!item.is_object()) return fail(fmt::format("/nftables/{}", i), "expected an object");
      if (item.contains("set")) VIGIE_TRY(read_set(item["set"], i));
      if (item.contains("rule")) {
        const auto& r = item["rule"];
        chains_[chain_key(r)].push_back(i);
      }
    }
    RuleSet set;
    set.name = options_.ruleset;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].contains("chain")) continue;
      const auto& c = items[i]["chain"];
      if (c.value("hook", "") != "forward") continue;
      const std::string family = c.value("family", "");
      if (family != "inet" && family != "ip" && family != "ip6") continue;
      VIGIE_TRY(emit_chain(chain_key(c), Conditions{}, set, 0));
      const std::string policy = c.value("policy", "accept");
      FirewallRule last;
      last.ruleset = set.name;
      last.name = fmt::format("{} {} policy {}", c.value("table", ""), c.value("name", ""), policy);
      last.action = policy == "drop" ? Action::kDrop : Action::kAccept;
      last.provenance = {file_, fmt::format("/nftables/{}", i), ""};
      set.rules.push_back(std::move(last));
    }
    if (set.rules.empty()) {
      return fail("/nftables", "no base chain with hook forward (family inet, ip or ip6)");
    }
    for (size_t i = 0; i < set.rules.size(); ++i) {
      set.rules[i].position = static_cast<int>(i) + 1;
    }
    set.warnings = std::move(warnings_);
    return set;
  }

 private:
  // What a rule (and the jumps leading to it) requires of a packet.
  struct Conditions {
    std::optional<std::vector<IpPrefix>> source;
    std::optional<std::vector<IpPrefix>> destination;
    std::vector<std::string> source_zones;
    std::vector<std::string> destination_zones;
    std::optional<Protocol> protocol;
    std::optional<std::vector<PortRange>> ports;
    bool established_only = false;
  };

  static std::string chain_key(const json& j) {
    return j.value("family", "") + " " + j.value("table", "") + " " +
           j.value(j.contains("chain") ? "chain" : "name", "");
  }

  tl::unexpected<core::Error> fail(const std::string& pointer, std::string message) const {
    return tl::unexpected(
        core::Error{ErrorCode::kInvalidInput, std::move(message), file_ + " " + pointer});
  }

  Status read_set(const json& s, size_t index) {
    const std::string key =
        s.value("family", "") + " " + s.value("table", "") + " " + s.value("name", "");
    std::vector<json> elements;
    if (s.contains("elem") && s["elem"].is_array()) {
      for (const auto& e : s["elem"]) elements.push_back(e);
    }
    sets_[key] = std::move(elements);
    set_index_[key] = index;
    return {};
  }

  // Prefixes of an address operand: "10.0.0.1", {"prefix":{...}}, {"range":[a,b]} (when it
  // is a prefix), {"set":[...]}, "@name".
  Result<std::vector<IpPrefix>> addresses(const json& right, const std::string& family,
                                          const std::string& table, const std::string& pointer) {
    std::vector<IpPrefix> out;
    if (right.is_string()) {
      const std::string text = right.get<std::string>();
      if (text.starts_with("@")) {
        auto it = sets_.find(family + " " + table + " " + text.substr(1));
        if (it == sets_.end()) return fail(pointer, fmt::format("unknown set '{}'", text));
        for (const auto& e : it->second) {
          auto part = addresses(e.is_object() && e.contains("elem") ? e["elem"]["val"] : e, family,
                                table, pointer);
          if (!part) return tl::unexpected(part.error());
          out.insert(out.end(), part->begin(), part->end());
        }
        return out;
      }
      auto p = parse_prefix(text);
      if (!p) return fail(pointer, fmt::format("'{}' is not an address", text));
      return std::vector<IpPrefix>{*p};
    }
    if (right.is_object() && right.contains("prefix")) {
      const auto& p = right["prefix"];
      auto parsed = parse_prefix(fmt::format("{}/{}", p.value("addr", ""), p.value("len", -1)));
      if (!parsed) return fail(pointer, "bad prefix");
      return std::vector<IpPrefix>{*parsed};
    }
    if (right.is_object() && right.contains("set") && right["set"].is_array()) {
      for (const auto& e : right["set"]) {
        auto part = addresses(e, family, table, pointer);
        if (!part) return tl::unexpected(part.error());
        out.insert(out.end(), part->begin(), part->end());
      }
      return out;
    }
    return fail(pointer, "address ranges that are not prefixes are not modelled");
  }

  Result<std::vector<PortRange>> ports(const json& right, const std::string& family,
                                       const std::string& table, const std::string& pointer) {
    if (right.is_number_integer()) {
      const auto p = right.get<int>();
      if (p < 0 || p > 65535) return fail(pointer, "port out of range");
      return std::vector<PortRange>{{static_cast<std::uint16_t>(p), static_cast<std::uint16_t>(p)}};
    }
    if (right.is_object() && right.contains("range") && right["range"].is_array() &&
        right["range"].size() == 2 && right["range"][0].is_number_integer() &&
        right["range"][1].is_number_integer()) {
      const int a = right["range"][0].get<int>();
      const int b = right["range"][1].get<int>();
      if (a < 0 || b > 65535 || a > b) return fail(pointer, "bad port range");
      return std::vector<PortRange>{{static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)}};
    }
    std::vector<PortRange> out;
    const json* list = nullptr;
    if (right.is_object() && right.contains("set") && right["set"].is_array()) list = &right["set"];
    if (right.is_string() && right.get<std::string>().starts_with("@")) {
      auto it = sets_.find(family + " " + table + " " + right.get<std::string>().substr(1));
      if (it == sets_.end()) return fail(pointer, "unknown set " + right.get<std::string>());
      for (const auto& e : it->second) {
        auto part = ports(e, family, table, pointer);
        if (!part) return tl::unexpected(part.error());
        out.insert(out.end(), part->begin(), part->end());
      }
      return out;
    }
    if (list == nullptr) return fail(pointer, "unsupported port operand");
    for (const auto& e : *list) {
      auto part = ports(e, family, table, pointer);
      if (!part) return tl::unexpected(part.error());
      out.insert(out.end(), part->begin(), part->end());
    }
    return out;
  }

  // Applies one match expression to the conditions; returns false when Vigie cannot model it.
  Result<bool> apply_match(const json& m, Conditions& c, const std::string& family,
                           const std::string& table, const std::string& pointer) {
    const std::string op = m.value("op", "==");
    const auto& left = m.contains("left") ? m["left"] : json();
    const auto& right = m.contains("right") ? m["right"] : json();
    if (op != "==" && op != "in") return false;
    if (left.contains("payload")) {
      const auto& p = left["payload"];
      const std::string proto = p.value("protocol", "");
      const std::string field = p.value("field", "");
      if ((proto == "ip" || proto == "ip6") && (field == "saddr" || field == "daddr")) {
        auto a = addresses(right, family, table, pointer + "/right");
        if (!a) return tl::unexpected(a.error());
        (field == "saddr" ? c.source : c.destination) = std::move(*a);
        return true;
      }
      if ((proto == "tcp" || proto == "udp" || proto == "th") && field == "dport") {
        auto pr = ports(right, family, table, pointer + "/right");
        if (!pr) return tl::unexpected(pr.error());
        c.ports = std::move(*pr);
        if (proto != "th") c.protocol = proto == "tcp" ? Protocol::kTcp : Protocol::kUdp;
        return true;
      }
      return false;
    }
    if (left.contains("meta")) {
      const std::string key = left["meta"].value("key", "");
      if (key == "l4proto" || key == "protocol") {
        if (!right.is_string()) return false;
        auto proto = parse_protocol(right.get<std::string>());
        if (!proto) return false;
        c.protocol = *proto;
        return true;
      }
      if (key == "iifname" || key == "oifname") {
        if (!right.is_string()) return false;
        auto zone = options_.interfaces.find(right.get<std::string>());
        if (zone == options_.interfaces.end()) {
          return fail(pointer,
                      fmt::format("matches {} '{}': say which zone it leads to "
                                  "(--interface {}=SITE/ZONE)",
                                  key, right.get<std::string>(), right.get<std::string>()));
        }
        (key == "iifname" ? c.source_zones : c.destination_zones).push_back(zone->second);
        return true;
      }
      return false;
    }
    if (left.contains("ct") && left["ct"].value("key", "") == "state") {
      std::set<std::string> states;
      if (right.is_string()) states.insert(right.get<std::string>());
      if (right.is_array()) {
        for (const auto& s : right) states.insert(s.get<std::string>());
      }
      if (right.is_object() && right.contains("set")) {
        for (const auto& s : right["set"]) states.insert(s.get<std::string>());
      }
      // Exposure is about new connections: a rule for established/related/invalid packets
      // only never decides one.
      c.established_only = !states.contains("new");
      return true;
    }
    return false;
  }

  Status emit_chain(const std::string& key, const Conditions& inherited, RuleSet& set, int depth) {
    if (depth > 16) return fail("/nftables", "jumps nest deeper than 16 chains (a loop?)");
    auto it = chains_.find(key);
    if (it == chains_.end()) return {};
    for (size_t index : it->second) {
      const auto& rule = doc_["nftables"][index]["rule"];
      const std::string pointer = fmt::format("/nftables/{}/rule", index);
      const std::string family = rule.value("family", "");
      const std::string table = rule.value("table", "");
      Conditions c = inherited;
      std::optional<Action> action;
      std::optional<std::pair<std::string, bool>> jump;  // target chain, goto
      bool modelled = true;
      const auto& exprs = rule.contains("expr") ? rule["expr"] : json::array();
      for (size_t e = 0; e < exprs.size() && modelled; ++e) {
        const auto& x = exprs[e];
        const std::string xp = fmt::format("{}/expr/{}", pointer, e);
        if (x.contains("match")) {
          auto ok = apply_match(x["match"], c, family, table, xp + "/match");
          if (!ok) return tl::unexpected(ok.error());
          if (!*ok) {
            modelled = false;
            if (!options_.skip_unsupported) {
              return fail(xp, fmt::format("a match Vigie cannot model: {}", x["match"].dump()));
            }
            warnings_.push_back(fmt::format("{} {}: rule skipped (match {} not modelled)", file_,
                                            xp, x["match"].dump()));
          }
        } else if (x.contains("accept")) {
          action = Action::kAccept;
        } else if (x.contains("drop")) {
          action = Action::kDrop;
        } else if (x.contains("reject")) {
          action = Action::kReject;
        } else if (x.contains("jump") || x.contains("goto")) {
          const bool is_goto = x.contains("goto");
          jump = {fmt::format("{} {} {}", family, table,
                              x[is_goto ? "goto" : "jump"].value("target", "")),
                  is_goto};
        } else if (x.contains("counter") || x.contains("log") || x.contains("limit") ||
                   x.contains("comment")) {
          continue;
        } else if (x.contains("return")) {
          if (c.source || c.destination || c.protocol || c.ports) {
            return fail(xp, "a conditional return is not modelled");
          }
          return {};
        } else {
          if (!options_.skip_unsupported) {
            return fail(xp, fmt::format("a statement Vigie cannot model: {}", x.dump()));
          }
          warnings_.push_back(fmt::format("{} {}: statement {} ignored", file_, xp, x.dump()));
        }
      }
      if (!modelled || c.established_only) continue;
      if (jump) {
        VIGIE_TRY(emit_chain(jump->first, c, set, depth + 1));
        if (jump->second) return {};  // goto does not come back
        continue;
      }
      if (!action) continue;  // counters, logs: no verdict
      FirewallRule r;
      r.ruleset = set.name;
      r.name = rule.contains("comment") && rule["comment"].is_string()
                   ? rule["comment"].get<std::string>()
                   : fmt::format("{} {} handle {}", table, rule.value("chain", ""),
                                 rule.value("handle", 0));
      if (c.source) r.source.prefixes = *c.source;
      r.source.zones = c.source_zones;
      if (c.destination) r.destination.prefixes = *c.destination;
      r.destination.zones = c.destination_zones;
      if (c.source && c.source->empty()) continue;  // an empty set matches nothing
      r.protocol = c.protocol.value_or(Protocol::kAny);
      if (c.ports) r.ports = *c.ports;
      r.action = *action;
      r.provenance = {file_, pointer, ""};
      set.rules.push_back(std::move(r));
    }
    return {};
  }

  const json& doc_;
  std::string file_;
  const NftImportOptions& options_;
  std::map<std::string, std::vector<json>> sets_;
  std::map<std::string, size_t> set_index_;
  std::map<std::string, std::vector<size_t>> chains_;
  std::vector<std::string> warnings_;
};

}  // namespace

Result<RuleSet> read_rules_nft_json(std::string_view text, std::string_view file_name,
                                    const NftImportOptions& options) {
  if (options.ruleset.empty()) {
    return core::fail(ErrorCode::kUsage, "a ruleset name is required");
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return core::fail(
        ErrorCode::kInvalidInput, e.what(),
        fmt::format("{}:{}", file_name, core::line_column(text, e.byte == 0 ? 0 : e.byte - 1)));
  }
  NftReader reader(doc, std::string(file_name), options);
  return reader.read();
}

Status save_ruleset(store::Store& store, const RuleSet& ruleset, std::string_view source,
                    const Actor& actor) {
  auto zones = load_zones(store);
  if (!zones) return tl::unexpected(zones.error());
  std::map<std::string, int> known;  // zone key -> count (names may repeat across sites)
  for (const auto& z : *zones) {
    ++known[zone_key(z.site + "/" + z.name)];
    ++known[zone_key(z.name)];
  }
  for (const auto& rule : ruleset.rules) {
    for (const auto* e : {&rule.source, &rule.destination}) {
      for (const auto& z : e->zones) {
        auto it = known.find(zone_key(z));
        if (it == known.end()) {
          return core::fail(ErrorCode::kInvalidInput, fmt::format("no zone '{}'", z),
                            rule.provenance.document + " " + rule.provenance.locator);
        }
        if (it->second > 1) {
          return core::fail(ErrorCode::kInvalidInput,
                            fmt::format("zone '{}' exists at several sites: write SITE/ZONE", z),
                            rule.provenance.document + " " + rule.provenance.locator);
        }
      }
    }
  }
  VIGIE_TRY(store.lock_table("firewall_rules"));
  const Value name[] = {ruleset.name};
  auto previous = store.query_int("SELECT COUNT(*) FROM firewall_rules WHERE ruleset = ?", name);
  if (!previous) return tl::unexpected(previous.error());
  VIGIE_TRY(store.execute("DELETE FROM firewall_rules WHERE ruleset = ?", name));
  auto next = store.next_id("firewall_rules");
  if (!next) return tl::unexpected(next.error());
  const std::string at = actor.at.empty() ? core::format_utc(core::utc_now()) : actor.at;
  std::int64_t id = *next;
  for (const auto& r : ruleset.rules) {
    const Value row[] = {id++,
                         ruleset.name,
                         std::int64_t{r.position},
                         r.name,
                         format_endpoint(r.source),
                         format_endpoint(r.destination),
                         std::string(to_string(r.protocol)),
                         format_ports(r.ports),
                         std::string(to_string(r.action)),
                         r.provenance.document,
                         r.provenance.locator,
                         at};
    VIGIE_TRY(store.execute(
        "INSERT INTO firewall_rules (id, ruleset, position, name, source, destination, protocol, "
        "ports, action, provenance_document, provenance_locator, imported_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        row));
  }
  nlohmann::json details = {
      {"source", source}, {"rules", ruleset.rules.size()}, {"replaced", *previous}};
  auto entry = audit::append(store,
                             {actor.name, "netpolicy.firewall.import", "ruleset:" + ruleset.name,
                              actor.origin, details.dump()},
                             at);
  if (!entry) return tl::unexpected(entry.error());
  return {};
}

Result<std::vector<FirewallRule>> load_rules(store::Store& store) {
  std::vector<FirewallRule> rules;
  std::optional<core::Error> bad;
  auto status = store.for_each(
      "SELECT id, ruleset, position, name, source, destination, protocol, ports, action, "
      "provenance_document, provenance_locator FROM firewall_rules ORDER BY ruleset, position",
      {}, [&](const store::Row& row) {
        FirewallRule r;
        r.id = row.integer(0);
        r.ruleset = row.text(1);
        r.position = static_cast<int>(row.integer(2));
        r.name = row.text(3);
        auto source = parse_endpoint(row.text(4));
        auto destination = parse_endpoint(row.text(5));
        auto ports = row.text(7) == "any" ? Result<std::vector<PortRange>>(std::vector<PortRange>{})
                                          : parse_ports(row.text(7));
        if (!source || !destination || !ports) {
          bad = core::Error{ErrorCode::kStore, "a stored firewall rule does not parse",
                            fmt::format("firewall_rules id {}", r.id)};
          return false;
        }
        r.source = std::move(*source);
        r.destination = std::move(*destination);
        r.protocol = parse_protocol(row.text(6)).value_or(Protocol::kAny);
        r.ports = std::move(*ports);
        r.action = parse_action(row.text(8)).value_or(Action::kDrop);
        r.provenance = {row.text(9), row.text(10), ""};
        rules.push_back(std::move(r));
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  if (bad) return tl::unexpected(*bad);
  return rules;
}

}  // namespace vigie::netpolicy
