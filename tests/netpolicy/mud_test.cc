// MUD files (RFC 8520): the four fixture files read into intents (the legacy draft one with a
// warning naming the pointer of each legacy construct), profiles written as MUD and read back
// to the same intents, and refusals naming file, JSON pointer (or line:column) and reason.
#include "vigie/netpolicy/mud.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "test_support.h"
#include "vigie/core/file.h"
#include "vigie/netpolicy/port_table.h"

namespace vigie::netpolicy {
namespace {

using nlohmann::json;

std::string fixture_text(const std::string& name) {
  auto text = core::read_file(testing::fixture("mud/" + name));
  EXPECT_TRUE(text) << name;
  return text.value_or("");
}

// An intent as a line, for comparing lists: direction peer protocol ports source-ports.
std::string flow(const Intent& i) {
  return fmt::format("{} {} {} {} src {}", to_string(i.direction), format_peer(i.peer),
                     to_string(i.protocol), format_ports(i.ports), format_ports(i.source_ports));
}

std::vector<std::string> flows(const Profile& p) {
  std::vector<std::string> out;
  for (const auto& i : p.intents) out.push_back(flow(i));
  return out;
}

struct FixtureCase {
  const char* file;
  const char* name;  // the profile's
  std::vector<std::string> flows;
  std::vector<std::string> pointers;  // provenance of each intent
  size_t legacy_warnings;
};

TEST(MudRead, EachFixtureGivesItsIntents) {
  const std::string acls = "/ietf-access-control-list:acls/acl/";
  const std::vector<FixtureCase> cases = {
      {"ieft-draft.json",
       "lighting-example-com-the-bms-example-lightbulb",
       {"from-device test.example.com tcp 443 src any"},
       {acls + "1/aces/ace/0"},
       0},
      {"lightbulb2000.json",
       "bms-example-com-the-bms-example-lightbulb",
       {"from-device service.bms.example.com tcp 443 src any"},
       {"/ietf-access-control-list:access-lists/acl/1/access-list-entries/ace/0"},
       11},
      {"mudfile-local-and-same-mfg-test.json",
       "nist-super1",
       {"from-device www.nist.local tcp 443 src any", "to-device local-networks tcp 80 src any",
        "from-device same-manufacturer any any src any",
        "to-device same-manufacturer any any src any"},
       {acls + "1/aces/ace/0", acls + "1/aces/ace/1", acls + "1/aces/ace/2", acls + "0/aces/ace/2"},
       0},
      {"mudfile-mycontrollerclass-test.json",
       "mycontrollerclass-test-nist-local-https-mud-nist-local-toaster",
       {"from-device www.nist.local tcp 80 src any", "from-device my-controller udp 8002 src any",
        "from-device local-networks udp 8000 src any",
        "from-device same-manufacturer udp 4000 src any"},
       {acls + "1/aces/ace/0", acls + "1/aces/ace/1", acls + "1/aces/ace/2", acls + "1/aces/ace/3"},
       0},
  };
  for (const auto& c : cases) {
    auto got = read_mud(fixture_text(c.file), c.file);
    ASSERT_TRUE(got) << c.file << ": " << got.error().to_string();
    EXPECT_EQ(got->profile.name, c.name) << c.file;
    EXPECT_EQ(flows(got->profile), c.flows) << c.file;
    ASSERT_EQ(got->profile.intents.size(), c.pointers.size()) << c.file;
    for (size_t i = 0; i < c.pointers.size(); ++i) {
      const auto& prov = got->profile.intents[i].provenance;
      EXPECT_EQ(prov.document, c.file);
      EXPECT_EQ(prov.locator, c.pointers[i]) << c.file << " intent " << i;
      EXPECT_TRUE(json::accept(prov.quote)) << prov.quote;
    }
    EXPECT_EQ(got->warnings.size(), c.legacy_warnings) << c.file;
    EXPECT_TRUE(got->profile.mud_url.starts_with("https://")) << c.file;
  }
}

TEST(MudRead, LegacyDraftWarningsNameEachPointer) {
  auto got = read_mud(fixture_text("lightbulb2000.json"), "lightbulb2000.json");
  ASSERT_TRUE(got) << got.error().to_string();
  const std::string base = "lightbulb2000.json:/ietf-access-control-list:access-lists";
  for (const std::string& expected : {
           base + ": legacy draft name 'ietf-access-control-list:access-lists' (RFC 8520: "
                  "'ietf-access-control-list:acls')",
           base + "/acl/0/acl-type: legacy draft name 'acl-type' (RFC 8520: 'type')",
           base + "/acl/0/access-list-entries: legacy draft name 'access-list-entries'",
           base + "/acl/1/access-list-entries/ace/0/rule-name: legacy draft name 'rule-name'",
           base + "/acl/1/access-list-entries/ace/0/matches/ipv6-acl: legacy draft name "
                  "'ipv6-acl' (RFC 8520: 'ipv6')",
           base + "/acl/1/access-list-entries/ace/0/matches/ipv6-acl/"
                  "destination-port-range-or-operator: legacy draft name",
           base + "/acl/0/access-list-entries/ace/0/matches/ipv6-acl/"
                  "source-port-range-or-operator: legacy draft name",
       }) {
    const bool found = std::any_of(got->warnings.begin(), got->warnings.end(),
                                   [&](const std::string& w) { return w.starts_with(expected); });
    EXPECT_TRUE(found) << "no warning " << expected;
  }
}

// The intents' network fields, purpose and cleartext flag, in a stable order.
std::vector<std::tuple<std::string, std::string, bool>> comparable(const Profile& p) {
  std::vector<std::tuple<std::string, std::string, bool>> out;
  for (const auto& i : p.intents) out.emplace_back(flow(i), i.purpose, i.cleartext);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MudWrite, FixturesRoundTripToTheSameIntents) {
  for (const char* file :
       {"ieft-draft.json", "lightbulb2000.json", "mudfile-local-and-same-mfg-test.json",
        "mudfile-mycontrollerclass-test.json"}) {
    auto first = read_mud(fixture_text(file), file);
    ASSERT_TRUE(first) << file;
    auto written = write_mud(first->profile, "2026-11-25T00:00:00Z");
    ASSERT_TRUE(written) << file;
    auto again = read_mud(*written, "exported.json");
    ASSERT_TRUE(again) << file << ": " << again.error().to_string() << "\n" << *written;
    EXPECT_TRUE(again->warnings.empty()) << file;
    EXPECT_EQ(comparable(again->profile), comparable(first->profile)) << file;
    EXPECT_EQ(again->profile.mud_url, first->profile.mud_url);
  }
}

constexpr const char* kTable = R"(name: acme-x
vendor: Acme
product: X
intents:
  - {direction: to-device, peer: pacs, protocol: TCP, ports: "80, 4440", purpose: web}
  - {direction: from-device, peer: printer, protocol: TCP&UDP, ports: "137-139", purpose: smb}
  - {direction: from-device, peer: ris, protocol: TCP, ports: ">1023", purpose: ftp, cleartext: y}
  - {direction: to-device, peer: "2001:db8::/32", protocol: UDP, ports: "5000", source_ports: "<=1023"}
  - {direction: from-device, peer: 10.1.2.3, protocol: ICMP, ports: any}
  - {direction: to-device, peer: "controller:urn:x:ctl", protocol: UDP, ports: any, source_ports: "53"}
  - {direction: from-device, peer: "manufacturer:acme.example", protocol: any, ports: any}
)";

TEST(MudWrite, TableProfileRoundTripsRolesRangesAndFamilies) {
  auto table = read_port_table_yaml(kTable, "acme.yaml");
  ASSERT_TRUE(table) << table.error().to_string();
  auto written = write_mud(*table, "2026-11-25T00:00:00Z");
  ASSERT_TRUE(written) << written.error().to_string();
  auto again = read_mud(*written, "acme.json");
  ASSERT_TRUE(again) << again.error().to_string() << "\n" << *written;
  EXPECT_EQ(comparable(again->profile), comparable(*table));
  EXPECT_EQ(again->profile.vendor, "Acme");
  EXPECT_EQ(again->profile.product, "X");

  const json doc = json::parse(*written);
  const json& mud = doc["ietf-mud:mud"];
  EXPECT_EQ(mud["mud-version"], 1);
  EXPECT_EQ(mud["mud-url"], "https://mud.vigie.invalid/acme-x");
  EXPECT_EQ(mud["last-update"], "2026-11-25T00:00:00Z");
  EXPECT_EQ(mud["mfg-name"], "Acme");
  EXPECT_EQ(mud["model-name"], "X");
  const json& acls = doc["ietf-access-control-list:acls"]["acl"];
  // v4 from and to the device; v6 only to it (its one intent's source port is given, so only
  // the initiator's half is written).
  ASSERT_EQ(acls.size(), 3U);
  const json& first_ace = acls[0]["aces"]["ace"][0];
  EXPECT_EQ(acls[0]["name"], "acme-x-v4fr");
  EXPECT_EQ(acls[0]["type"], "ipv4-acl-type");
  // A role is a controller class of Vigie's own URN.
  EXPECT_EQ(first_ace["matches"]["ietf-mud:mud"]["controller"], "urn:vigie:role:pacs");
  EXPECT_EQ(first_ace["matches"]["tcp"]["ietf-mud:direction-initiated"], "to-device");
  EXPECT_EQ(first_ace["matches"]["tcp"]["source-port"], json({{"operator", "eq"}, {"port", 80}}));
  const std::string text = *written;
  EXPECT_NE(text.find(R"("lower-port": 137)"), std::string::npos);
  EXPECT_NE(text.find(R"("operator": "gte",)"), std::string::npos);
  EXPECT_NE(text.find(R"("destination-ipv4-network": "10.1.2.3/32")"), std::string::npos);
  EXPECT_NE(text.find(R"("source-ipv6-network": "2001:db8::/32")"), std::string::npos);
  EXPECT_EQ(*write_mud(*table, "2026-11-25T00:00:00Z"), text);  // deterministic
}

TEST(MudWrite, RefusesPortsWithoutProtocol) {
  Profile p;
  p.name = "x";
  p.intents.push_back(
      Intent{Direction::kToDevice, Peer{}, Protocol::kAny, {{80, 80}}, {}, "", false, {}});
  auto written = write_mud(p, "2026-11-25T00:00:00Z");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("ports but no protocol"), std::string::npos);
}

// The NIST fixture with one change applied at a JSON pointer.
std::string mutated(const json& patch_value, const std::string& pointer) {
  json doc = json::parse(fixture_text("mudfile-local-and-same-mfg-test.json"));
  doc[json::json_pointer(pointer)] = patch_value;
  return doc.dump();
}

TEST(MudRead, RefusesWhatAProfileCannotSayNamingThePointer) {
  const std::string ace = "/ietf-access-control-list:acls/acl/1/aces/ace/0";
  struct Case {
    const char* name;
    std::string text;
    std::string where;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"neq", mutated("neq", ace + "/matches/tcp/destination-port/operator"),
       "m.json:" + ace + "/matches/tcp/destination-port/operator", "operator 'neq'"},
      {"unknown operator", mutated("lt", ace + "/matches/tcp/destination-port/operator"),
       "m.json:" + ace + "/matches/tcp/destination-port/operator", "unknown operator 'lt'"},
      {"port too large", mutated(70000, ace + "/matches/tcp/destination-port/port"),
       "m.json:" + ace + "/matches/tcp/destination-port/port", "integer from 0 to 65535"},
      {"tcp flags", mutated("syn", ace + "/matches/tcp/flags"),
       "m.json:" + ace + "/matches/tcp/flags", "'flags' cannot be expressed"},
      {"ethernet", mutated(json::object(), ace + "/matches/eth"), "m.json:" + ace + "/matches/eth",
       "'eth' cannot be expressed"},
      {"protocol 47", mutated(47, ace + "/matches/ipv4/protocol"),
       "m.json:" + ace + "/matches/ipv4/protocol", "protocol 47 is not TCP, UDP or ICMP"},
      {"device's own name", mutated("x.example", ace + "/matches/ipv4/ietf-acldns:src-dnsname"),
       "m.json:" + ace + "/matches/ipv4/ietf-acldns:src-dnsname", "the device's own address"},
      {"direction", mutated("sideways", ace + "/matches/tcp/ietf-mud:direction-initiated"),
       "m.json:" + ace + "/matches/tcp/ietf-mud:direction-initiated", "must be 'from-device'"},
      {"abstraction",
       mutated(json::array({nullptr}),
               "/ietf-access-control-list:acls/acl/1/aces/"
               "ace/1/matches/ietf-mud:mud/same-manufacturer"),
       "m.json:/ietf-access-control-list:acls/acl/1/aces/ace/1/matches/ietf-mud:mud",
       "exactly one MUD abstraction"},
      {"missing acl",
       mutated("nope", "/ietf-mud:mud/from-device-policy/access-lists/access-list/0/name"),
       "m.json:/ietf-mud:mud/from-device-policy/access-lists/access-list/0/name",
       "no ACL named 'nope'"},
      {"version", mutated(2, "/ietf-mud:mud/mud-version"), "m.json:/ietf-mud:mud/mud-version",
       "mud-version must be 1"},
      {"forwarding", mutated("maybe", ace + "/actions/forwarding"),
       "m.json:" + ace + "/actions/forwarding", "must be 'accept', 'drop' or 'reject'"},
      {"malformed", "{\n  \"ietf-mud:mud\": {,\n}", "m.json:2:20", "malformed JSON"},
      {"too deep", std::string(40, '[') + std::string(40, ']'), "m.json",
       "nested deeper than 32 levels"},
      {"not an object", "[]", "m.json:/", "a MUD file is a JSON object"},
      {"no container", R"({"x": 1})", "m.json:/ietf-mud:mud", "ietf-mud:mud container is missing"},
      {"no aces", mutated(json::object(), "/ietf-access-control-list:acls/acl/0/aces"),
       "m.json:/ietf-access-control-list:acls/acl/0/aces/ace", "ace is missing"},
      {"extension", mutated(json::array({1}), "/ietf-mud:mud/vigie-intents:intents"),
       "m.json:/ietf-mud:mud/vigie-intents:intents/0", "must be an object with an 'aces' array"},
  };
  for (const auto& c : cases) {
    auto got = read_mud(c.text, "m.json");
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().where, c.where) << c.name;
    EXPECT_NE(got.error().message.find(c.reason), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

TEST(MudRead, DropEntriesAreWarnedNotIntents) {
  const std::string ace = "/ietf-access-control-list:acls/acl/1/aces/ace/2";
  auto got = read_mud(mutated("drop", ace + "/actions/forwarding"), "m.json");
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_EQ(got->warnings.size(), 1U);
  EXPECT_TRUE(got->warnings[0].starts_with("m.json:" + ace + ": ACE 'myman0-frdev' drops"))
      << got->warnings[0];
  EXPECT_EQ(got->profile.intents.size(), 3U);
}

TEST(MudRead, PortRangesAndBoundsBecomeRanges) {
  const std::string ace = "/ietf-access-control-list:acls/acl/1/aces/ace/0";
  struct Case {
    json spec;
    const char* ports;
  };
  const std::vector<Case> cases = {
      {{{"operator", "lte"}, {"port", 1023}}, "0-1023"},
      {{{"operator", "gte"}, {"port", 1024}}, "1024-65535"},
      {{{"port", 8080}}, "8080"},
      {{{"lower-port", 137}, {"upper-port", 139}}, "137-139"},
  };
  for (const auto& c : cases) {
    auto got = read_mud(mutated(c.spec, ace + "/matches/tcp/destination-port"), "m.json");
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(format_ports(got->profile.intents.front().ports), c.ports);
  }
}

}  // namespace
}  // namespace vigie::netpolicy
