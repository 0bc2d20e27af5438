// Building the in-memory ruleset of a zone from its allow-list. Rendering lives in
// nft_render.cc, checking with nft in nft_check.cc.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "vigie/netpolicy/nft.h"

namespace vigie::netpolicy {
namespace {

// nft refuses comments longer than 128 bytes (NFTNL_UDATA_COMMENT_MAXLEN).
constexpr size_t kMaxComment = 128;
constexpr size_t kMaxIdentifier = 40;
constexpr int kV4MappedBits = 96;

// Latin letters with diacritics as French zone names use them, to their ASCII letter.
constexpr std::array<std::pair<std::string_view, char>, 30> kTransliterations{{
    {"à", 'a'}, {"â", 'a'}, {"ä", 'a'}, {"ç", 'c'}, {"é", 'e'}, {"è", 'e'}, {"ê", 'e'}, {"ë", 'e'},
    {"î", 'i'}, {"ï", 'i'}, {"ô", 'o'}, {"ö", 'o'}, {"ù", 'u'}, {"û", 'u'}, {"ü", 'u'}, {"À", 'a'},
    {"Â", 'a'}, {"Ä", 'a'}, {"Ç", 'c'}, {"É", 'e'}, {"È", 'e'}, {"Ê", 'e'}, {"Ë", 'e'}, {"Î", 'i'},
    {"Ï", 'i'}, {"Ô", 'o'}, {"Ö", 'o'}, {"Ù", 'u'}, {"Û", 'u'}, {"Ü", 'u'},
}};

// nft's quoted strings have no escapes: a comment keeps printable text only, '"' becomes '\''.
std::string comment_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"') {
      out += '\'';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  if (out.size() <= kMaxComment) return out;
  size_t cut = kMaxComment - 3;
  // Never cut inside a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
  return out;
}

NftFamily family_of(const IpAddress& ip) {
  return ip.is_v4() ? NftFamily::kIpv4 : NftFamily::kIpv6;
}

bool prefix_in_family(const IpPrefix& p, NftFamily family) {
  bool v4 = p.address.is_v4() && p.length >= kV4MappedBits;
  return (family == NftFamily::kIpv4) == v4;
}

// Sorted, without prefixes contained in others (nft refuses overlapping interval elements).
std::vector<IpPrefix> normalise(std::vector<IpPrefix> prefixes) {
  std::sort(prefixes.begin(), prefixes.end(), [](const IpPrefix& a, const IpPrefix& b) {
    return std::tie(a.address, a.length) < std::tie(b.address, b.length);
  });
  std::vector<IpPrefix> out;
  for (const auto& p : prefixes) {
    if (!out.empty() && out.back().contains(p)) continue;
    out.push_back(p);
  }
  return out;
}

std::string_view family_suffix(NftFamily f) { return f == NftFamily::kIpv4 ? "v4" : "v6"; }

struct Span {
  std::uint32_t first;
  std::uint32_t last;
};

// The elementary intervals of `spans`: cut at every start and after every end, keeping the
// pieces some span covers, each with the indexes of the spans covering it.
std::vector<std::pair<Span, std::vector<size_t>>> elementary(const std::vector<Span>& spans) {
  std::vector<std::uint32_t> cuts;
  cuts.reserve(spans.size() * 2);
  for (const auto& s : spans) {
    cuts.push_back(s.first);
    cuts.push_back(s.last + 1);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::pair<Span, std::vector<size_t>>> out;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    Span piece{cuts[i], cuts[i + 1] - 1};
    std::vector<size_t> covering;
    for (size_t k = 0; k < spans.size(); ++k) {
      if (spans[k].first <= piece.first && piece.last <= spans[k].last) covering.push_back(k);
    }
    if (!covering.empty()) out.emplace_back(piece, std::move(covering));
  }
  return out;
}

// One allow-list entry on its way into a map.
struct Flow {
  IpAddress device;
  Span protocols;
  Span ports;
  // Why: "device 12: philips-essenta-dr-compact" and "intent 10 (To PACS)", kept apart so
  // that an element standing for several intents names the device and profile once.
  std::string source;
  int intent_index = 0;
  std::string intent;
};

Span protocol_span(Protocol p, NftFamily family) {
  switch (p) {
    case Protocol::kTcp:
      return {6, 6};
    case Protocol::kUdp:
      return {17, 17};
    case Protocol::kIcmp:
      return family == NftFamily::kIpv4 ? Span{1, 1} : Span{58, 58};
    case Protocol::kAny:
      break;
  }
  return {0, 255};
}

std::string join_reasons(const std::vector<const Flow*>& flows) {
  std::map<std::string_view, std::set<std::pair<int, std::string_view>>> by_source;
  for (const Flow* f : flows) by_source[f->source].insert({f->intent_index, f->intent});
  std::string out;
  for (const auto& [source, intents] : by_source) {
    if (!out.empty()) out += " | ";
    out += source;
    const char* sep = " ";
    for (auto [index, text] : intents) {
      out += sep;
      out += text;
      sep = "; ";
    }
  }
  return comment_text(out);
}

// Cuts the flows of one map into elements that do not overlap, device by device.
std::vector<NftElement> to_elements(std::vector<Flow> flows) {
  std::sort(flows.begin(), flows.end(),
            [](const Flow& a, const Flow& b) { return a.device < b.device; });
  std::vector<NftElement> out;
  for (size_t begin = 0; begin < flows.size();) {
    size_t end = begin;
    while (end < flows.size() && flows[end].device == flows[begin].device) ++end;
    std::vector<Span> protocols;
    for (size_t i = begin; i < end; ++i) protocols.push_back(flows[i].protocols);
    for (const auto& [proto, proto_flows] : elementary(protocols)) {
      std::vector<Span> ports;
      for (size_t k : proto_flows) ports.push_back(flows[begin + k].ports);
      for (const auto& [port, port_flows] : elementary(ports)) {
        std::vector<const Flow*> covering;
        for (size_t k : port_flows) covering.push_back(&flows[begin + proto_flows[k]]);
        NftElement e;
        e.device = flows[begin].device;
        e.protocol_first = static_cast<std::uint8_t>(proto.first);
        e.protocol_last = static_cast<std::uint8_t>(proto.last);
        e.ports = {static_cast<std::uint16_t>(port.first), static_cast<std::uint16_t>(port.last)};
        e.comment = join_reasons(covering);
        out.push_back(std::move(e));
      }
    }
    begin = end;
  }
  return out;
}

// The peers of an entry as one family sees them. `any` when the entry names no peer or a
// prefix covering every address.
struct Peers {
  bool any = false;
  std::vector<IpPrefix> prefixes;
};

Peers peers_of(const AllowEntry& e, NftFamily family) {
  Peers out;
  if (e.peers.empty()) {
    out.any = true;
    return out;
  }
  for (const auto& p : e.peers) {
    if (p.length == 0 ||
        (p.length == kV4MappedBits && p.address.is_v4() && family == NftFamily::kIpv4)) {
      out.any = true;
      out.prefixes.clear();
      return out;
    }
    if (prefix_in_family(p, family)) out.prefixes.push_back(p);
  }
  out.prefixes = normalise(std::move(out.prefixes));
  return out;
}

struct GroupKey {
  NftFamily family;
  std::string role;  // identifier
  std::vector<IpPrefix> prefixes;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const GroupKey&) const = default;
};

// The map an entry goes to: its family, its direction and its peer group (`group` empty: any
// peer).
struct MapKey {
  Direction direction;
  std::optional<GroupKey> group;
  NftFamily family;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const MapKey&) const = default;
};

std::string source_of(const AllowEntry& e, const NftInput& input) {
  auto it = input.profile_names.find(e.profile_id);
  std::string profile = it != input.profile_names.end() && !it->second.empty()
                            ? it->second
                            : fmt::format("profile {}", e.profile_id);
  return fmt::format("device {}: {}", e.device_id, profile);
}

std::string intent_of(const AllowEntry& e) {
  std::string out = fmt::format("intent {}", e.intent_index);
  if (!e.purpose.empty()) out += fmt::format(" ({})", e.purpose);
  if (e.cleartext) out += " [cleartext]";
  return out;
}

std::string zone_label(const Zone& z) {
  std::string out = z.site.empty() ? z.name : z.site + "/" + z.name;
  if (z.vlan) out += fmt::format(" (VLAN {})", *z.vlan);
  return out;
}

// The zone's own addresses: its networks, plus device addresses outside them.
std::vector<IpPrefix> zone_prefixes(const NftInput& input, NftFamily family) {
  std::vector<IpPrefix> out;
  for (const auto& n : input.zone.networks) {
    if (prefix_in_family(n, family)) out.push_back(n);
  }
  for (const auto& e : input.entries) {
    if (family_of(e.device_ip) == family) out.push_back(IpPrefix::host(e.device_ip));
  }
  return normalise(std::move(out));
}

}  // namespace

std::size_t NftRuleset::element_count() const {
  std::size_t n = 0;
  for (const auto& m : maps) n += m.elements.size();
  return n;
}

std::string nft_identifier(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < kMaxIdentifier;) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (std::isalnum(c) != 0) {
        out += static_cast<char>(std::tolower(c));
      } else if (!out.empty() && out.back() != '_') {
        out += '_';
      }
      ++i;
      continue;
    }
    auto known = std::find_if(kTransliterations.begin(), kTransliterations.end(),
                              [&](const auto& t) { return text.substr(i).starts_with(t.first); });
    if (known != kTransliterations.end()) {
      out += known->second;
      i += known->first.size();
      continue;
    }
    if (!out.empty() && out.back() != '_') out += '_';
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? std::string("zone") : out;
}

Result<NftRuleset> build_ruleset(const NftInput& input) {
  if (input.zone.name.empty()) {
    return core::fail(core::ErrorCode::kInvalidInput, "the zone has no name");
  }
  NftRuleset rs;
  std::string zone_id = nft_identifier(input.zone.name);
  rs.table = "vigie_" + zone_id;
  rs.zone_label = zone_label(input.zone);
  rs.log_prefix = fmt::format("vigie-drop {} ", zone_id);

  for (NftFamily f : {NftFamily::kIpv4, NftFamily::kIpv6}) {
    rs.sets.push_back({fmt::format("zone_{}", family_suffix(f)), f, zone_prefixes(input, f),
                       comment_text(fmt::format("the addresses of zone {}", rs.zone_label))});
  }

  // Peer groups: one set per (family, role, prefixes); a role bound to different prefixes for
  // different entries gets one set per variant rather than a union that would widen both.
  std::map<GroupKey, std::string> groups;
  std::map<GroupKey, std::string> role_names;  // as the profile and the site spell them
  std::map<MapKey, std::vector<Flow>> flows;
  std::set<std::string> warnings;
  for (const auto& e : input.entries) {
    NftFamily f = family_of(e.device_ip);
    Peers peers = peers_of(e, f);
    std::string source = source_of(e, input);
    if (!peers.any && peers.prefixes.empty()) {
      warnings.insert(fmt::format("{} {}: role '{}' has no IPv{} address; the entry allows nothing",
                                  source, intent_of(e), e.role, f == NftFamily::kIpv4 ? 4 : 6));
      continue;
    }
    MapKey key{e.direction, std::nullopt, f};
    if (!peers.any) {
      key.group = GroupKey{f, nft_identifier(e.role.empty() ? "peers" : e.role), peers.prefixes};
      groups.emplace(*key.group, std::string());
      role_names.emplace(*key.group, e.role);
    }
    bool ported = e.protocol == Protocol::kTcp || e.protocol == Protocol::kUdp;
    flows[key].push_back({e.device_ip, protocol_span(e.protocol, f),
                          ported ? Span{e.ports.first, e.ports.last} : Span{0, 65535},
                          std::move(source), e.intent_index, intent_of(e)});
  }

  // Name the role sets deterministically: role_<role>_v4, then role_<role>_2_v4... never
  // "any" (the maps of any-address peers) nor a label another role already has.
  std::set<std::pair<NftFamily, std::string>> used;
  for (auto& [key, label] : groups) {
    std::string base = key.role == "any" ? "any_role" : key.role;
    label = base;
    for (int n = 2; used.contains({key.family, label}); ++n) label = fmt::format("{}_{}", base, n);
    used.insert({key.family, label});
    rs.sets.push_back({fmt::format("role_{}_{}", label, family_suffix(key.family)), key.family,
                       key.prefixes,
                       comment_text(fmt::format("addresses of role {}", role_names.at(key)))});
  }

  for (auto& [key, list] : flows) {
    std::string label = key.group ? groups.at(*key.group) : "any";
    std::string peer_set =
        key.group ? fmt::format("role_{}_{}", label, family_suffix(key.family)) : std::string();
    bool in = key.direction == Direction::kToDevice;
    std::string peer = key.group ? "role " + label : "any address";
    std::string what = in ? "to the devices from " + peer : "from the devices to " + peer;
    std::string base = fmt::format("{}_{}_{}", in ? "in" : "out", label, family_suffix(key.family));
    NftMap exact{base, key.family, key.direction, peer_set, false, {}, comment_text(what)};
    NftMap ranged{base + "_ranges",
                  key.family,
                  key.direction,
                  peer_set,
                  true,
                  {},
                  comment_text(what + ", port or protocol ranges")};
    for (auto& e : to_elements(std::move(list))) {
      (e.exact() ? exact : ranged).elements.push_back(std::move(e));
    }
    if (!exact.elements.empty()) rs.maps.push_back(std::move(exact));
    if (!ranged.elements.empty()) rs.maps.push_back(std::move(ranged));
  }
  std::sort(rs.sets.begin(), rs.sets.end(), [](const NftSet& a, const NftSet& b) {
    return std::tie(a.family, a.name) < std::tie(b.family, b.name);
  });
  std::sort(rs.maps.begin(), rs.maps.end(), [](const NftMap& a, const NftMap& b) {
    return std::tie(a.family, a.direction, a.name) < std::tie(b.family, b.direction, b.name);
  });
  rs.warnings.assign(warnings.begin(), warnings.end());
  return rs;
}

}  // namespace vigie::netpolicy
