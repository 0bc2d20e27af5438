#include "vigie/netpolicy/exposure.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "vigie/inventory/normalize.h"
#include "vigie/netpolicy/firewall.h"

namespace vigie::netpolicy {
namespace {

// 128-bit addresses as one integer: comparisons on the hot path are single instructions.
__extension__ using Address = unsigned __int128;

Address to_integer(const IpAddress& ip) {
  Address a = 0;
  for (auto b : ip.bytes) a = (a << 8) | b;
  return a;
}

// A set of addresses as sorted, disjoint, non-adjacent inclusive ranges.
class AddressSet {
 public:
  using Range = std::pair<Address, Address>;

  static AddressSet everything() {
    AddressSet s;
    s.ranges_.emplace_back(Address{0}, ~Address{0});
    return s;
  }
  static AddressSet of(const std::vector<IpPrefix>& prefixes) {
    AddressSet s;
    s.ranges_.reserve(prefixes.size());
    for (const auto& p : prefixes)
      s.ranges_.emplace_back(to_integer(p.first()), to_integer(p.last()));
    s.normalise();
    return s;
  }

  [[nodiscard]] bool empty() const { return ranges_.empty(); }
  [[nodiscard]] bool contains(Address ip) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                               [](Address a, const Range& r) { return a < r.first; });
    return it != ranges_.begin() && std::prev(it)->second >= ip;
  }
  [[nodiscard]] AddressSet intersect(const AddressSet& other) const {
    AddressSet out;
    size_t i = 0;
    size_t j = 0;
    while (i < ranges_.size() && j < other.ranges_.size()) {
      const auto& a = ranges_[i];
      const auto& b = other.ranges_[j];
      const Address lo = std::max(a.first, b.first);
      const Address hi = std::min(a.second, b.second);
      if (lo <= hi) out.ranges_.emplace_back(lo, hi);
      if (a.second < b.second) {
        ++i;
      } else {
        ++j;
      }
    }
    return out;
  }
  [[nodiscard]] AddressSet minus(const AddressSet& other) const {
    AddressSet out;
    size_t j = 0;
    for (auto [lo, hi] : ranges_) {
      bool left = true;
      while (j < other.ranges_.size() && other.ranges_[j].second < lo) ++j;
      for (size_t k = j; k < other.ranges_.size() && other.ranges_[k].first <= hi; ++k) {
        const auto& cut = other.ranges_[k];
        if (cut.first > lo) out.ranges_.emplace_back(lo, cut.first - 1);
        if (cut.second >= hi) {
          left = false;
          break;
        }
        lo = cut.second + 1;
      }
      if (left) out.ranges_.emplace_back(lo, hi);
    }
    return out;
  }
  // Whether every address of `other` is in this set (no allocation).
  [[nodiscard]] bool covers(const AddressSet& other) const {
    size_t i = 0;
    for (const auto& [lo, hi] : other.ranges_) {
      while (i < ranges_.size() && ranges_[i].second < lo) ++i;
      if (i == ranges_.size() || ranges_[i].first > lo || ranges_[i].second < hi) return false;
    }
    return true;
  }
  bool operator==(const AddressSet& other) const { return ranges_ == other.ranges_; }

 private:
  void normalise() {
    std::sort(ranges_.begin(), ranges_.end());
    std::vector<Range> merged;
    merged.reserve(ranges_.size());
    for (const auto& r : ranges_) {
      if (!merged.empty()) {
        auto& back = merged.back();
        if (back.second == ~Address{0} || r.first <= back.second + 1) {
          back.second = std::max(back.second, r.second);
          continue;
        }
      }
      merged.push_back(r);
    }
    ranges_ = std::move(merged);
  }

  std::vector<Range> ranges_;
};

enum class Relation : std::uint8_t { kNone, kPartial, kFull };

Relation relation(const AddressSet& zone, const AddressSet& rule) {
  const AddressSet common = zone.intersect(rule);
  if (common.empty()) return Relation::kNone;
  return common == zone ? Relation::kFull : Relation::kPartial;
}

std::string zone_key(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == std::string_view::npos) return inventory::normalize_words(name);
  return inventory::normalize_words(name.substr(0, slash)) + "/" +
         inventory::normalize_words(name.substr(slash + 1));
}

std::string rule_label(const FirewallRule& r) {
  return fmt::format("{}#{} '{}' ({})", r.ruleset, r.position, r.name, to_string(r.action));
}

bool matches_port(const FirewallRule& r, const PortOfInterest& p) {
  if (r.protocol != Protocol::kAny && r.protocol != p.protocol) return false;
  if (r.ports.empty()) return true;
  return std::any_of(r.ports.begin(), r.ports.end(),
                     [&](const PortRange& range) { return range.contains(p.port); });
}

// The rules with their address sets resolved against the zones.
struct CompiledRules {
  std::vector<AddressSet> source;
  std::vector<AddressSet> destination;
};

CompiledRules compile_rules(const ExposureInput& input) {
  std::unordered_map<std::string, std::vector<IpPrefix>> zone_networks;
  for (const auto& z : input.zones) {
    auto& by_site = zone_networks[zone_key(z.site + "/" + z.name)];
    by_site.insert(by_site.end(), z.networks.begin(), z.networks.end());
    auto& by_name = zone_networks[zone_key(z.name)];
    by_name.insert(by_name.end(), z.networks.begin(), z.networks.end());
  }
  const auto resolve = [&](const Endpoint& e) {
    if (e.any()) return AddressSet::everything();
    std::vector<IpPrefix> prefixes = e.prefixes;
    for (const auto& z : e.zones) {
      auto it = zone_networks.find(zone_key(z));
      if (it != zone_networks.end())
        prefixes.insert(prefixes.end(), it->second.begin(), it->second.end());
    }
    return AddressSet::of(prefixes);
  };
  CompiledRules c;
  c.source.reserve(input.rules.size());
  c.destination.reserve(input.rules.size());
  for (const auto& r : input.rules) {
    c.source.push_back(resolve(r.source));
    c.destination.push_back(resolve(r.destination));
  }
  return c;
}

std::vector<RuleFinding> find_shadowed(const ExposureInput& input, const CompiledRules& c) {
  std::vector<RuleFinding> out;
  const auto ports_cover = [](const FirewallRule& a, const FirewallRule& b) {
    if (a.protocol != Protocol::kAny && a.protocol != b.protocol) return false;
    if (a.ports.empty()) return true;
    if (b.ports.empty()) return false;
    return std::all_of(b.ports.begin(), b.ports.end(), [&](const PortRange& pb) {
      return std::any_of(a.ports.begin(), a.ports.end(), [&](const PortRange& pa) {
        return pa.first <= pb.first && pa.last >= pb.last;
      });
    });
  };
  // Rulesets as numbers: the pairwise loop below runs millions of times.
  std::vector<size_t> ruleset_of(input.rules.size());
  std::map<std::string, size_t> rulesets;
  for (size_t r = 0; r < input.rules.size(); ++r) {
    ruleset_of[r] = rulesets.try_emplace(input.rules[r].ruleset, rulesets.size()).first->second;
  }
  for (size_t j = 0; j < input.rules.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (!ports_cover(input.rules[i], input.rules[j]) || ruleset_of[i] != ruleset_of[j]) continue;
      if (!c.source[i].covers(c.source[j]) || !c.destination[i].covers(c.destination[j])) continue;
      const bool same = input.rules[i].action == input.rules[j].action;
      out.push_back({input.rules[j].id, rule_label(input.rules[j]), same ? "redundant" : "shadowed",
                     rule_label(input.rules[i])});
      break;
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(Reach r) {
  switch (r) {
    case Reach::kReachable:
      return "reachable";
    case Reach::kPartly:
      return "partly";
    case Reach::kBlocked:
      return "blocked";
  }
  return "?";
}

bool PortExposure::reachable_from_other_zones() const {
  return std::any_of(zones.begin(), zones.end(), [&](const ZoneReach& z) {
    return z.zone_id != device_zone_id && z.reach != Reach::kBlocked;
  });
}

ExposureReport analyse_exposure(const ExposureInput& input) {
  ExposureReport report;
  report.flat_network = input.rules.empty();
  const CompiledRules rules = compile_rules(input);

  const size_t zone_count = input.zones.size();
  std::vector<AddressSet> zone_sets;
  zone_sets.reserve(zone_count);
  std::unordered_map<std::int64_t, size_t> zone_index;
  for (size_t z = 0; z < zone_count; ++z) {
    zone_sets.push_back(AddressSet::of(input.zones[z].networks));
    zone_index[input.zones[z].id] = z;
  }
  // How each rule's source and destination relate to each zone, computed once.
  std::vector<std::vector<Relation>> src_rel(zone_count);
  std::vector<std::vector<Relation>> dst_rel(zone_count);
  for (size_t z = 0; z < zone_count; ++z) {
    src_rel[z].reserve(input.rules.size());
    dst_rel[z].reserve(input.rules.size());
    for (size_t r = 0; r < input.rules.size(); ++r) {
      src_rel[z].push_back(relation(zone_sets[z], rules.source[r]));
      dst_rel[z].push_back(relation(zone_sets[z], rules.destination[r]));
    }
  }
  // Rules that may concern some port of interest.
  std::vector<size_t> port_rules;
  for (size_t r = 0; r < input.rules.size(); ++r) {
    if (std::any_of(input.ports.begin(), input.ports.end(),
                    [&](const PortOfInterest& p) { return matches_port(input.rules[r], p); })) {
      port_rules.push_back(r);
    }
  }

  // Devices that the same rules reach as destination are decided alike: group them.
  std::map<std::string_view, size_t> sites;
  for (const auto& z : input.zones) sites.try_emplace(z.site, sites.size());
  std::vector<size_t> zone_site(zone_count);
  for (size_t z = 0; z < zone_count; ++z) zone_site[z] = sites[input.zones[z].site];
  std::map<std::pair<size_t, std::vector<std::uint32_t>>, size_t> groups;
  std::vector<size_t> group_of(input.devices.size());
  for (size_t d = 0; d < input.devices.size(); ++d) {
    const auto& device = input.devices[d];
    auto zi = zone_index.find(device.zone_id);
    const Address ip = to_integer(device.ip);
    const bool in_zone = zi != zone_index.end() && zone_sets[zi->second].contains(ip);
    std::vector<std::uint32_t> matched;
    for (size_t r : port_rules) {
      const Relation rel = in_zone ? dst_rel[zi->second][r] : Relation::kPartial;
      if (rel == Relation::kFull ||
          (rel == Relation::kPartial && rules.destination[r].contains(ip))) {
        matched.push_back(static_cast<std::uint32_t>(r));
      }
    }
    const size_t site = zi == zone_index.end() ? sites.size() : zone_site[zi->second];
    group_of[d] = groups.try_emplace({site, std::move(matched)}, groups.size()).first->second;
  }

  // answers[group][port]: the answer per source zone, shared by every device of the group.
  std::vector<std::vector<std::vector<ZoneReach>>> answers_of(groups.size());
  for (const auto& [key, group] : groups) {
    const auto& [site, matched] = key;
    answers_of[group].reserve(input.ports.size());
    for (const auto& port : input.ports) {
      std::vector<size_t> applicable;
      for (auto r : matched) {
        if (matches_port(input.rules[r], port)) applicable.push_back(r);
      }
      std::vector<ZoneReach>& answers = answers_of[group].emplace_back();
      for (size_t z = 0; z < zone_count; ++z) {
        if (site != sites.size() && zone_site[z] != site) continue;
        ZoneReach reach;
        reach.zone_id = input.zones[z].id;
        if (report.flat_network) {
          reach.reach = Reach::kReachable;
          reach.decider = Decider::kFlatNetwork;
          answers.push_back(reach);
          continue;
        }
        AddressSet remaining = zone_sets[z];
        if (remaining.empty()) {
          reach.decider = Decider::kZoneWithoutNetwork;
          answers.push_back(reach);
          continue;
        }
        int first_drop = -1;
        bool dropped_some = false;
        for (size_t r : applicable) {
          const Relation rel = src_rel[z][r];
          if (rel == Relation::kNone) continue;
          AddressSet hit =
              rel == Relation::kFull ? remaining : remaining.intersect(rules.source[r]);
          if (hit.empty()) continue;
          const auto& rule = input.rules[r];
          if (rule.action == Action::kAccept) {
            reach.reach = !dropped_some && hit == remaining ? Reach::kReachable : Reach::kPartly;
            reach.decider = Decider::kRule;
            reach.rule = static_cast<int>(r);
            break;
          }
          if (first_drop < 0) first_drop = static_cast<int>(r);
          dropped_some = true;
          remaining = remaining.minus(hit);
          if (remaining.empty()) break;
        }
        if (reach.decider != Decider::kRule && first_drop >= 0) {
          reach.decider = Decider::kRule;
          reach.rule = first_drop;
        }
        answers.push_back(reach);
      }
    }
  }

  report.exposures.reserve(input.devices.size() * input.ports.size());
  for (size_t d = 0; d < input.devices.size(); ++d) {
    const auto& device = input.devices[d];
    for (size_t p = 0; p < input.ports.size(); ++p) {
      PortExposure& e = report.exposures.emplace_back();
      e.device_id = device.device_id;
      e.device_ip = device.ip;
      e.device_zone_id = device.zone_id;
      e.port = input.ports[p];
      e.zones = answers_of[group_of[d]][p];
      for (auto& z : e.zones) {
        if (z.zone_id == device.zone_id && device.zone_id != 0) {
          z.reach = Reach::kReachable;
          z.decider = Decider::kSameZone;
          z.rule = -1;
        }
      }
    }
  }
  return report;
}

std::vector<RuleFinding> find_rule_anomalies(const ExposureInput& input) {
  return find_shadowed(input, compile_rules(input));
}

std::string decided_by(const ExposureInput& input, const ZoneReach& reach) {
  switch (reach.decider) {
    case Decider::kRule:
      return rule_label(input.rules.at(static_cast<size_t>(reach.rule)));
    case Decider::kSameZone:
      return "same zone (no firewall between hosts of one VLAN)";
    case Decider::kNoRuleMatches:
      return "no rule matches (denied by default)";
    case Decider::kFlatNetwork:
      return "no firewall rule known (flat network)";
    case Decider::kZoneWithoutNetwork:
      return "the zone has no known network";
  }
  return "?";
}

std::int64_t deciding_rule_id(const ExposureInput& input, const ZoneReach& reach) {
  return reach.decider == Decider::kRule ? input.rules.at(static_cast<size_t>(reach.rule)).id : 0;
}

std::vector<PortOfInterest> ports_named_in(std::string_view text) {
  static const std::regex kPort(R"((\d{1,5})\s*/\s*(tcp|udp|TCP|UDP))");
  std::vector<PortOfInterest> out;
  std::set<std::pair<int, int>> seen;
  for (std::cregex_iterator it(text.data(), text.data() + text.size(), kPort), end; it != end;
       ++it) {
    const int port = std::stoi((*it)[1].str());
    if (port < 1 || port > 65535) continue;
    const auto proto =
        (*it)[2].str() == "udp" || (*it)[2].str() == "UDP" ? Protocol::kUdp : Protocol::kTcp;
    if (!seen.insert({port, static_cast<int>(proto)}).second) continue;
    out.push_back({proto,
                   static_cast<std::uint16_t>(port),
                   fmt::format("{}/{}", port, to_string(proto)),
                   {}});
  }
  return out;
}

}  // namespace vigie::netpolicy
