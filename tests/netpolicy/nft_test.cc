// nftables generation: the structure of the ruleset (parsed back from its JSON), determinism,
// IPv6, port ranges, comments, and the real `nft -c` in a scratch network namespace.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "vigie/netpolicy/nft.h"

namespace vigie::netpolicy {
namespace {

using nlohmann::json;

IpAddress ip(std::string_view text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

IpPrefix prefix(std::string_view text) {
  auto p = parse_prefix(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(IpPrefix{});
}

AllowEntry entry(std::int64_t device, std::string_view device_ip, Direction d, std::string role,
                 const std::vector<std::string_view>& peers, Protocol proto, PortRange ports,
                 int intent, std::string purpose) {
  AllowEntry e;
  e.device_id = device;
  e.device_ip = ip(device_ip);
  e.direction = d;
  e.role = std::move(role);
  for (auto p : peers) e.peers.push_back(prefix(p));
  e.protocol = proto;
  e.ports = ports;
  e.profile_id = 7;
  e.intent_index = intent;
  e.purpose = std::move(purpose);
  return e;
}

// A few rows of the Essenta DR Annex A bound to two devices of a medical VLAN.
NftInput essenta_input() {
  NftInput in;
  in.zone.id = 3;
  in.zone.site = "CHU";
  in.zone.name = "Imagerie médicale";
  in.zone.vlan = 150;
  in.zone.kind = ZoneKind::kMedical;
  in.zone.networks = {prefix("10.1.150.0/24"), prefix("2001:db8:150::/64")};
  in.profile_names[7] = "philips-essenta-dr-compact";
  const auto out = Direction::kFromDevice;
  const auto to = Direction::kToDevice;
  for (int d = 0; d < 2; ++d) {
    std::string dev = d == 0 ? "10.1.150.10" : "10.1.150.11";
    in.entries.push_back(
        entry(d + 1, dev, out, "pacs", {"10.1.20.5"}, Protocol::kTcp, {6104, 6104}, 17, "To PACS"));
    in.entries.push_back(
        entry(d + 1, dev, out, "ris", {"10.1.20.6"}, Protocol::kTcp, {5104, 5104}, 16, "To RIS"));
    in.entries.push_back(
        entry(d + 1, dev, out, "ris", {"10.1.20.6"}, Protocol::kTcp, {1024, 65535}, 25, "FTP RIS"));
    in.entries.push_back(entry(d + 1, dev, out, "ntp", {"10.1.20.1", "10.1.20.2"}, Protocol::kUdp,
                               {123, 123}, 23, "Time Synchronization"));
    in.entries.push_back(entry(d + 1, dev, to, "pcr-reader", {"10.1.150.40"}, Protocol::kTcp,
                               {18015, 18020}, 5, "PCR Reader Integration"));
  }
  in.entries.back().cleartext = true;
  return in;
}

NftRuleset build(const NftInput& in) {
  auto rs = build_ruleset(in);
  EXPECT_TRUE(rs.has_value()) << (rs ? "" : rs.error().to_string());
  return rs.value_or(NftRuleset{});
}

json parsed_json(const NftRuleset& rs) { return json::parse(render_json(rs)); }

// The "add" objects of one kind ("set", "map", "rule"...).
std::vector<json> added(const json& doc, std::string_view kind) {
  std::vector<json> out;
  for (const auto& cmd : doc.at("nftables")) {
    if (cmd.contains("add") && cmd["add"].contains(kind)) out.push_back(cmd["add"][kind]);
  }
  return out;
}

const json* named(const std::vector<json>& objects, std::string_view name) {
  for (const auto& o : objects) {
    if (o.at("name") == name) return &o;
  }
  return nullptr;
}

// The check could not run because network namespaces are impossible here: the only reason
// a test of nft is skipped.
bool no_namespace(const Result<NftCheck>& r) {
  return !r && r.error().code == core::ErrorCode::kUnavailable;
}

TEST(NftGenerate, ChainDropsByDefaultAndAcceptsEstablishedFirst) {
  json doc = parsed_json(build(essenta_input()));
  auto chains = added(doc, "chain");
  ASSERT_EQ(chains.size(), 1U);
  EXPECT_EQ(chains[0]["hook"], "forward");
  EXPECT_EQ(chains[0]["policy"], "drop");
  auto rules = added(doc, "rule");
  ASSERT_GE(rules.size(), 4U);
  const json& first = rules[0]["expr"];
  EXPECT_EQ(first[0]["match"]["left"]["ct"]["key"], "state");
  EXPECT_EQ(first[0]["match"]["right"], json::array({"established", "related"}));
  EXPECT_TRUE(first[1].contains("accept"));
  // The last two rules log (rate-limited, with the zone in the prefix) and count the drop.
  const json& log = rules[rules.size() - 2]["expr"];
  EXPECT_EQ(log[0]["limit"]["per"], "second");
  EXPECT_EQ(log[1]["log"]["prefix"], "vigie-drop imagerie_medicale ");
  const json& drop = rules.back()["expr"];
  EXPECT_EQ(drop[0]["counter"], "dropped");
  EXPECT_TRUE(drop[1].contains("drop"));
  auto tables = added(doc, "table");
  ASSERT_FALSE(tables.empty());
  EXPECT_EQ(tables[0]["name"], "vigie_imagerie_medicale");
  EXPECT_EQ(tables[0]["family"], "inet");
}

TEST(NftGenerate, RoleSetsHoldTheRoleAddressesAndGuardTheirMaps) {
  NftRuleset rs = build(essenta_input());
  json doc = parsed_json(rs);
  auto sets = added(doc, "set");
  const json* ntp = named(sets, "role_ntp_v4");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(ntp->at("elem"), json::array({"10.1.20.1", "10.1.20.2"}));
  const json* zone = named(sets, "zone_v4");
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(zone->at("elem")[0]["prefix"]["addr"], "10.1.150.0");
  EXPECT_EQ(zone->at("elem")[0]["prefix"]["len"], 24);
  // The rule of out_ntp_v4 matches the peer set, then looks the device side up in the map.
  bool found = false;
  for (const auto& r : added(doc, "rule")) {
    const json& e = r["expr"];
    if (e.size() == 2 && e[1].contains("vmap") && e[1]["vmap"]["data"] == "@out_ntp_v4") {
      EXPECT_EQ(e[0]["match"]["right"], "@role_ntp_v4");
      EXPECT_EQ(e[0]["match"]["left"]["payload"]["field"], "daddr");
      EXPECT_EQ(e[1]["vmap"]["key"]["concat"][0]["payload"]["field"], "saddr");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(NftGenerate, EveryEntryHasItsMapElementWithCounterAndNote) {
  NftRuleset rs = build(essenta_input());
  json doc = parsed_json(rs);
  auto maps = added(doc, "map");
  const json* pacs = named(maps, "out_pacs_v4");
  ASSERT_NE(pacs, nullptr);
  EXPECT_EQ(pacs->at("stmt"), json::parse(R"([{"counter": null}])"));
  EXPECT_EQ(pacs->at("type"), json::array({"ipv4_addr", "inet_proto", "inet_service"}));
  ASSERT_EQ(pacs->at("elem").size(), 2U);  // one per device
  const json& el = pacs->at("elem")[0];
  EXPECT_EQ(el[0]["concat"], json::array({"10.1.150.10", "tcp", 6104}));
  EXPECT_TRUE(el[1].contains("accept"));
  // The reviewer reads where each element comes from in the .nft view.
  std::string text = render_nft(rs);
  EXPECT_NE(text.find("10.1.150.10 . tcp . 6104 : accept,  # device 1: "
                      "philips-essenta-dr-compact intent 17 (To PACS)\n"),
            std::string::npos)
      << text;
  const json* ntp = named(maps, "out_ntp_v4");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(ntp->at("elem")[1][0]["concat"], json::array({"10.1.150.11", "udp", 123}));
  // The to-device flow marked cleartext says so to the reviewer.
  const json* pcr = named(maps, "in_pcr_reader_v4_ranges");
  ASSERT_NE(pcr, nullptr);
  const NftMap* pcr_map = nullptr;
  for (const auto& m : rs.maps) {
    if (m.name == "in_pcr_reader_v4_ranges") pcr_map = &m;
  }
  ASSERT_NE(pcr_map, nullptr);
  ASSERT_GE(pcr_map->elements.size(), 2U);
  EXPECT_NE(pcr_map->elements[1].comment.find("[cleartext]"), std::string::npos);
  EXPECT_NE(text.find(pcr_map->elements[1].comment), std::string::npos);
}

TEST(NftGenerate, OverlappingPortRangesAreCutIntoDisjointElements) {
  NftRuleset rs = build(essenta_input());
  // RIS: 5104 and >1023 for the same device become 1024-5103, 5104, 5105-65535.
  std::vector<std::string> ris;
  for (const auto& m : rs.maps) {
    if (m.name.starts_with("out_ris_v4")) {
      for (const auto& e : m.elements) {
        if (e.device == ip("10.1.150.10")) ris.push_back(e.ports.to_string() + " " + e.comment);
      }
    }
  }
  std::sort(ris.begin(), ris.end());
  ASSERT_EQ(ris.size(), 3U);
  EXPECT_EQ(ris[0], "1024-5103 device 1: philips-essenta-dr-compact intent 25 (FTP RIS)");
  // One element, two intents: the device and the profile are named once.
  EXPECT_EQ(ris[1],
            "5104 device 1: philips-essenta-dr-compact intent 16 (To RIS); intent 25 (FTP RIS)");
  EXPECT_EQ(ris[2], "5105-65535 device 1: philips-essenta-dr-compact intent 25 (FTP RIS)");
  // The single port is in the hashed map, the ranges in the interval map.
  json doc = parsed_json(rs);
  auto maps = added(doc, "map");
  ASSERT_NE(named(maps, "out_ris_v4"), nullptr);
  EXPECT_FALSE(named(maps, "out_ris_v4")->contains("flags"));
  ASSERT_NE(named(maps, "out_ris_v4_ranges"), nullptr);
  EXPECT_EQ(named(maps, "out_ris_v4_ranges")->at("flags"), json::array({"interval"}));
  EXPECT_EQ(named(maps, "out_ris_v4_ranges")->at("elem")[0][0]["concat"][2],
            json::parse(R"({"range": [1024, 5103]})"));
}

TEST(NftGenerate, AnyProtocolAndIcmpCoverEveryPort) {
  NftInput in;
  in.zone.name = "bio";
  in.entries.push_back(entry(1, "10.2.0.5", Direction::kFromDevice, "syslog", {"10.9.0.1"},
                             Protocol::kAny, {0, 65535}, 1, "anything"));
  in.entries.push_back(entry(1, "10.2.0.5", Direction::kFromDevice, "syslog", {"10.9.0.1"},
                             Protocol::kUdp, {514, 514}, 2, "Audit Trail"));
  in.entries.push_back(entry(1, "10.2.0.5", Direction::kToDevice, "monitor", {"10.9.0.2"},
                             Protocol::kIcmp, {0, 65535}, 3, "ping"));
  NftRuleset rs = build(in);
  std::string text = render_nft(rs);
  // udp/514 is cut out of the any-protocol element; the rest of the protocol space stays.
  EXPECT_NE(text.find("10.2.0.5 . 0-16 . 0-65535"), std::string::npos) << text;
  EXPECT_NE(text.find("10.2.0.5 . udp . 0-513"), std::string::npos);
  EXPECT_NE(text.find("10.2.0.5 . udp . 514 : accept"), std::string::npos);
  EXPECT_NE(text.find("10.2.0.5 . 18-255 . 0-65535"), std::string::npos);
  EXPECT_NE(text.find("10.2.0.5 . icmp . 0-65535"), std::string::npos);
}

TEST(NftGenerate, Ipv6DevicesGetTheirOwnSetsAndMaps) {
  NftInput in;
  in.zone.name = "Imagerie";
  in.zone.networks = {prefix("2001:db8:150::/64")};
  in.entries.push_back(entry(4, "2001:db8:150::10", Direction::kFromDevice, "pacs",
                             {"2001:db8:20::5", "10.1.20.5"}, Protocol::kTcp, {6104, 6104}, 17,
                             "To PACS"));
  in.entries.push_back(entry(4, "2001:db8:150::10", Direction::kToDevice, "monitor",
                             {"2001:db8:99::/48"}, Protocol::kIcmp, {0, 65535}, 2, "ping"));
  NftRuleset rs = build(in);
  json doc = parsed_json(rs);
  auto sets = added(doc, "set");
  const json* pacs = named(sets, "role_pacs_v6");
  ASSERT_NE(pacs, nullptr);
  EXPECT_EQ(pacs->at("type"), "ipv6_addr");
  EXPECT_EQ(pacs->at("elem"), json::array({"2001:db8:20::5"}));  // the IPv4 peer is left out
  EXPECT_EQ(named(sets, "role_pacs_v4"), nullptr);
  const json* monitor = named(sets, "role_monitor_v6");
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(monitor->at("elem")[0]["prefix"]["len"], 48);
  auto maps = added(doc, "map");
  const json* out = named(maps, "out_pacs_v6");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->at("type")[0], "ipv6_addr");
  EXPECT_EQ(out->at("elem")[0][0]["concat"][0], "2001:db8:150::10");
  const json* icmp = named(maps, "in_monitor_v6_ranges");
  ASSERT_NE(icmp, nullptr);
  EXPECT_EQ(icmp->at("elem")[0][0]["concat"][1], "ipv6-icmp");
  EXPECT_NE(render_nft(rs).find("ip6 saddr @role_monitor_v6 ip6 daddr . meta l4proto . th dport "
                                "vmap @in_monitor_v6_ranges"),
            std::string::npos);
}

TEST(NftGenerate, ARoleBoundToDifferentAddressesGetsOneSetPerVariant) {
  NftInput in;
  in.zone.name = "z";
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kFromDevice, "pacs", {"10.1.0.1"},
                             Protocol::kTcp, {104, 104}, 1, "a"));
  in.entries.push_back(entry(2, "10.0.0.2", Direction::kFromDevice, "pacs", {"10.1.0.2"},
                             Protocol::kTcp, {104, 104}, 1, "b"));
  NftRuleset rs = build(in);
  std::vector<std::string> names;
  for (const auto& s : rs.sets) names.push_back(s.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"role_pacs_2_v4", "role_pacs_v4", "zone_v4", "zone_v6"}));
  ASSERT_EQ(rs.maps.size(), 2U);
  EXPECT_EQ(rs.maps[0].peer_set, "role_pacs_2_v4");
  EXPECT_EQ(rs.maps[1].peer_set, "role_pacs_v4");
}

TEST(NftGenerate, RoleNamesNeverCollideWithAnyAddressMapsOrEachOther) {
  NftInput in;
  in.zone.name = "z";
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "any", {"10.1.0.1"},
                             Protocol::kTcp, {80, 80}, 1, "a role named any"));
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "", {}, Protocol::kTcp, {81, 81},
                             2, "any address"));
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "pacs", {"10.1.0.2"},
                             Protocol::kTcp, {82, 82}, 3, "pacs"));
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "pacs", {"10.1.0.3"},
                             Protocol::kTcp, {83, 83}, 4, "pacs elsewhere"));
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "pacs-2", {"10.1.0.4"},
                             Protocol::kTcp, {84, 84}, 5, "a role named pacs-2"));
  NftRuleset rs = build(in);
  std::vector<std::string> maps;
  for (const auto& m : rs.maps) maps.push_back(m.name + " " + m.peer_set);
  std::sort(maps.begin(), maps.end());
  EXPECT_EQ(maps,
            (std::vector<std::string>{"in_any_role_v4 role_any_role_v4", "in_any_v4 ",
                                      "in_pacs_2_2_v4 role_pacs_2_2_v4",
                                      "in_pacs_2_v4 role_pacs_2_v4", "in_pacs_v4 role_pacs_v4"}));
}

TEST(NftGenerate, APeerWithoutAnAddressOfTheDeviceFamilyAllowsNothingAndWarns) {
  NftInput in;
  in.zone.name = "z";
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kFromDevice, "pacs", {"2001:db8::1"},
                             Protocol::kTcp, {104, 104}, 3, "To PACS"));
  NftRuleset rs = build(in);
  EXPECT_EQ(rs.element_count(), 0U);
  ASSERT_EQ(rs.warnings.size(), 1U);
  EXPECT_NE(rs.warnings[0].find("role 'pacs' has no IPv4 address"), std::string::npos);
}

TEST(NftGenerate, AnEntryWithoutPeersAllowsAnyAddressWithoutASet) {
  NftInput in;
  in.zone.name = "z";
  in.entries.push_back(
      entry(1, "10.0.0.1", Direction::kToDevice, "any", {}, Protocol::kTcp, {443, 443}, 3, "web"));
  NftRuleset rs = build(in);
  ASSERT_EQ(rs.maps.size(), 1U);
  EXPECT_EQ(rs.maps[0].name, "in_any_v4");
  EXPECT_TRUE(rs.maps[0].peer_set.empty());
  EXPECT_NE(render_nft(rs).find("\t\tip daddr . meta l4proto . th dport vmap @in_any_v4\n"),
            std::string::npos);
}

TEST(NftGenerate, LongCommentsAreCutAndQuotesReplaced) {
  NftInput in;
  in.zone.name = "z";
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "r", {"10.0.1.1"}, Protocol::kTcp,
                             {80, 80}, 3, std::string(200, 'x') + "\"é"));
  in.entries.push_back(entry(1, "10.0.0.1", Direction::kToDevice, "r", {"10.0.1.1"}, Protocol::kTcp,
                             {81, 81}, 4, "say \"hi\""));
  NftRuleset rs = build(in);
  ASSERT_EQ(rs.maps.size(), 1U);
  ASSERT_EQ(rs.maps[0].elements.size(), 2U);
  EXPECT_LE(rs.maps[0].elements[0].comment.size(), 128U);
  EXPECT_TRUE(rs.maps[0].elements[0].comment.ends_with("..."));
  EXPECT_EQ(rs.maps[0].elements[1].comment, "device 1: profile 7 intent 4 (say 'hi')");
}

TEST(NftGenerate, SameInputInAnyOrderGivesByteIdenticalOutput) {
  NftInput in = essenta_input();
  std::string text = render_nft(build(in));
  std::string json_text = render_json(build(in));
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(in.entries.begin(), in.entries.end(), rng);
    std::reverse(in.zone.networks.begin(), in.zone.networks.end());
    EXPECT_EQ(render_nft(build(in)), text);
    EXPECT_EQ(render_json(build(in)), json_text);
  }
}

TEST(NftGenerate, ZoneNamesBecomeIdentifiers) {
  EXPECT_EQ(nft_identifier("Imagerie médicale"), "imagerie_medicale");
  EXPECT_EQ(nft_identifier("Biomédical / Réa-2"), "biomedical_rea_2");
  EXPECT_EQ(nft_identifier("日本"), "zone");
  EXPECT_EQ(nft_identifier("  "), "zone");
  EXPECT_FALSE(build_ruleset(NftInput{}).has_value());
}

TEST(NftGenerate, TextAndJsonCarryTheSameElements) {
  NftRuleset rs = build(essenta_input());
  std::string text = render_nft(rs);
  size_t text_elements = 0;
  for (size_t at = text.find(" : accept"); at != std::string::npos;
       at = text.find(" : accept", at + 1)) {
    ++text_elements;
  }
  size_t json_elements = 0;
  for (const auto& m : added(parsed_json(rs), "map")) json_elements += m.at("elem").size();
  EXPECT_EQ(text_elements, rs.element_count());
  EXPECT_EQ(json_elements, rs.element_count());
  EXPECT_EQ(rs.element_count(), 12U);  // 2 devices x (pacs 1, ris 3, ntp 1, pcr 1)
}

// nft itself --------------------------------------------------------------------------------

TEST(NftCheck, NftAcceptsTheGeneratedTextAndJson) {
  NftRuleset rs = build(essenta_input());
  auto text = nft_check_buffer(render_nft(rs), NftFormat::kText);
  if (no_namespace(text)) GTEST_SKIP() << text.error().message;
  ASSERT_TRUE(text) << text.error().to_string();
  EXPECT_TRUE(text->accepted) << text->output;
  auto js = nft_check_buffer(render_json(rs), NftFormat::kJson);
  if (no_namespace(js)) GTEST_SKIP() << js.error().message;
  ASSERT_TRUE(js) << js.error().to_string();
  EXPECT_TRUE(js->accepted) << js->output;
}

TEST(NftCheck, NftAcceptsIpv6AnyProtocolAndEmptyZones) {
  NftInput in;
  in.zone.name = "Réanimation";
  in.entries.push_back(entry(1, "2001:db8:1::5", Direction::kFromDevice, "syslog",
                             {"2001:db8:9::/48"}, Protocol::kAny, {0, 65535}, 1, "any"));
  in.entries.push_back(entry(1, "2001:db8:1::5", Direction::kToDevice, "monitor", {"2001:db8:9::1"},
                             Protocol::kIcmp, {0, 65535}, 2, "ping"));
  in.entries.push_back(entry(1, "2001:db8:1::5", Direction::kToDevice, "any", {}, Protocol::kUdp,
                             {137, 139}, 3, "NetBIOS"));
  for (const auto& input : {in, NftInput{Zone{0, "", "empty", std::nullopt, {}, {}}, {}, {}}}) {
    NftRuleset rs = build(input);
    auto text = nft_check_buffer(render_nft(rs), NftFormat::kText);
    if (no_namespace(text)) GTEST_SKIP() << text.error().message;
    ASSERT_TRUE(text) << text.error().to_string();
    EXPECT_TRUE(text->accepted) << text->output << render_nft(rs);
    auto js = nft_check_buffer(render_json(rs), NftFormat::kJson);
    if (no_namespace(js)) GTEST_SKIP() << js.error().message;
    ASSERT_TRUE(js) << js.error().to_string();
    EXPECT_TRUE(js->accepted) << js->output;
  }
}

TEST(NftCheck, ABrokenFileIsRefusedWithItsLineAndColumn) {
  auto dir = std::filesystem::temp_directory_path() / "vigie-nft-test";
  std::filesystem::create_directories(dir);
  auto file = dir / "broken.nft";
  {
    std::ofstream out(file);
    out << "table inet t {\n\tchain c {\n\t\ttcp dport 99999 accept\n\t}\n}\n";
  }
  auto check = nft_check_file(file);
  if (no_namespace(check)) GTEST_SKIP() << check.error().message;
  ASSERT_TRUE(check) << check.error().to_string();
  EXPECT_FALSE(check->accepted);
  ASSERT_FALSE(check->diagnostics.empty()) << check->output;
  const auto& d = check->diagnostics[0];
  EXPECT_EQ(d.file, file.string());
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 13);
  EXPECT_EQ(d.column_end, 17);
  EXPECT_EQ(d.severity, "Error");
  EXPECT_EQ(d.message, "Service out of range");
  EXPECT_EQ(d.to_string(), file.string() + ":3:13: Error: Service out of range");
  std::filesystem::remove_all(dir);
}

TEST(NftCheck, AJsonRulesetNamingAnUnknownSetIsRefused) {
  std::string doc =
      R"({"nftables": [{"add": {"table": {"family": "inet", "name": "t"}}},
{"add": {"chain": {"family": "inet", "table": "t", "name": "c"}}},
{"add": {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@nope"}}, {"accept": null}]}}}]})";
  auto check = nft_check_buffer(doc, NftFormat::kJson);
  if (no_namespace(check)) GTEST_SKIP() << check.error().message;
  ASSERT_TRUE(check) << check.error().to_string();
  EXPECT_FALSE(check->accepted);
  ASSERT_FALSE(check->diagnostics.empty()) << check->output;
  // nft's JSON parser gives no position: the diagnostic names the input instead.
  EXPECT_EQ(check->diagnostics[0].file, "<buffer>");
  EXPECT_EQ(check->diagnostics[0].severity, "Error");
  EXPECT_FALSE(check->diagnostics[0].message.empty());
}

TEST(NftCheck, ARulesetCheckedInParallelBatchesIsAcceptedWhole) {
  NftRuleset rs = build(essenta_input());
  for (auto format : {NftFormat::kText, NftFormat::kJson}) {
    auto check = nft_check_ruleset(rs, {format, 2, 5});
    if (no_namespace(check)) GTEST_SKIP() << check.error().message;
    ASSERT_TRUE(check) << check.error().to_string();
    EXPECT_TRUE(check->accepted) << check->output;
  }
}

TEST(NftCheck, ARefusedBatchIsReportedAtItsLineInTheWholeRuleset) {
  NftRuleset rs = build(essenta_input());
  // An element nft must refuse (a protocol range running backwards), in the last batch.
  NftMap& last = rs.maps.back();
  last.elements.back().protocol_first = 17;
  last.elements.back().protocol_last = 6;
  std::string text = render_nft(rs);
  size_t at = text.find(" . 17-6 . ");
  ASSERT_NE(at, std::string::npos);
  int line =
      static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')) + 1;
  auto check = nft_check_ruleset(rs, {NftFormat::kText, 2, 4});
  if (no_namespace(check)) GTEST_SKIP() << check.error().message;
  ASSERT_TRUE(check) << check.error().to_string();
  EXPECT_FALSE(check->accepted);
  ASSERT_FALSE(check->diagnostics.empty()) << check->output;
  EXPECT_EQ(check->diagnostics[0].line, line) << check->output;
  EXPECT_EQ(check->diagnostics[0].severity, "Error");
}

TEST(NftCheck, FormatIsGuessedFromTheFirstCharacter) {
  EXPECT_EQ(detect_nft_format("  \n{\"nftables\": []}"), NftFormat::kJson);
  EXPECT_EQ(detect_nft_format("table inet t {}"), NftFormat::kText);
  EXPECT_EQ(detect_nft_format(""), NftFormat::kText);
}

}  // namespace
}  // namespace vigie::netpolicy
