// Exposure: first match decides, exactly over address ranges (a rule covering half a zone
// leaves the other half to the next rules), same-zone traffic, flat networks, shadowed rules,
// and ports named in advisories' mitigations.
#include "vigie/netpolicy/exposure.h"

#include <gtest/gtest.h>

#include "vigie/netpolicy/firewall.h"

namespace vigie::netpolicy {
namespace {

Zone zone(std::int64_t id, const std::string& name, const std::string& net) {
  return {id, "CHU", name, std::nullopt, ZoneKind::kOther, {*parse_prefix(net)}};
}

FirewallRule rule(std::int64_t id, const std::string& src, const std::string& dst,
                  const std::string& ports, Action action) {
  FirewallRule r;
  r.id = id;
  r.ruleset = "core";
  r.position = static_cast<int>(id);
  r.name = "r" + std::to_string(id);
  r.source = *parse_endpoint(src);
  r.destination = *parse_endpoint(dst);
  r.protocol = ports == "any" ? Protocol::kAny : Protocol::kTcp;
  if (ports != "any") r.ports = *parse_ports(ports);
  r.action = action;
  return r;
}

class ExposureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_.zones = {zone(1, "Imagerie", "10.1.110.0/24"), zone(2, "Bureautique", "10.1.160.0/24"),
                    zone(3, "Serveurs", "10.1.150.0/24")};
    input_.devices = {{100, *parse_ip("10.1.110.20"), 1, 1, "siemens", "artis zee", "VC14"},
                      {101, *parse_ip("10.1.110.21"), 1, 1, "siemens", "artis zee", "VC14"}};
    input_.ports = {{Protocol::kTcp, 445, "SMB", {}}, {Protocol::kTcp, 3389, "RDP", {}}};
  }

  std::int64_t rule_id(const ZoneReach& z) const { return deciding_rule_id(input_, z); }
  std::string label(const ZoneReach& z) const { return decided_by(input_, z); }

  const ZoneReach& reach(const ExposureReport& report, std::int64_t device, std::uint16_t port,
                         std::int64_t zone) {
    for (const auto& e : report.exposures) {
      if (e.device_id != device || e.port.port != port) continue;
      for (const auto& z : e.zones) {
        if (z.zone_id == zone) return z;
      }
    }
    static const ZoneReach kNone{};
    ADD_FAILURE() << "no answer for device " << device << " port " << port << " zone " << zone;
    return kNone;
  }

  ExposureInput input_;
};

TEST_F(ExposureTest, FirstMatchDecidesAndNamesTheRule) {
  input_.rules = {rule(1, "Bureautique", "Imagerie", "445", Action::kAccept),
                  rule(2, "any", "Imagerie", "any", Action::kDrop)};
  auto report = analyse_exposure(input_);
  ASSERT_EQ(report.exposures.size(), 4U);
  const auto& office = reach(report, 100, 445, 2);
  EXPECT_EQ(office.reach, Reach::kReachable);
  EXPECT_EQ(rule_id(office), 1);
  EXPECT_NE(label(office).find("'r1'"), std::string::npos) << label(office);
  const auto& rdp = reach(report, 100, 3389, 2);
  EXPECT_EQ(rdp.reach, Reach::kBlocked);
  EXPECT_EQ(rule_id(rdp), 2);
  EXPECT_EQ(reach(report, 100, 445, 3).reach, Reach::kBlocked);
  const auto& own = reach(report, 100, 445, 1);
  EXPECT_EQ(own.reach, Reach::kReachable);
  EXPECT_NE(label(own).find("same zone"), std::string::npos);
}

TEST_F(ExposureTest, PartialCoverLeavesTheRestOfTheZoneToLaterRules) {
  // The first half of the office is dropped, then the whole office is accepted: the second
  // half still gets through, so the office reaches the device partly, decided by rule 2.
  input_.rules = {rule(1, "10.1.160.0/25", "Imagerie", "445", Action::kDrop),
                  rule(2, "Bureautique", "Imagerie", "445", Action::kAccept),
                  rule(3, "any", "any", "any", Action::kDrop)};
  auto report = analyse_exposure(input_);
  const auto& office = reach(report, 100, 445, 2);
  EXPECT_EQ(office.reach, Reach::kPartly);
  EXPECT_EQ(rule_id(office), 2);

  // Both halves dropped one after the other: blocked, named by the first drop.
  input_.rules = {rule(1, "10.1.160.0/25", "Imagerie", "445", Action::kDrop),
                  rule(2, "10.1.160.128/25", "Imagerie", "445", Action::kDrop),
                  rule(3, "Bureautique", "Imagerie", "445", Action::kAccept)};
  report = analyse_exposure(input_);
  EXPECT_EQ(reach(report, 100, 445, 2).reach, Reach::kBlocked);
  EXPECT_EQ(rule_id(reach(report, 100, 445, 2)), 1);
}

TEST_F(ExposureTest, HostRulesSeparateDevicesOfOneZone) {
  input_.rules = {rule(1, "Bureautique", "10.1.110.21", "3389", Action::kAccept),
                  rule(2, "any", "any", "any", Action::kDrop)};
  auto report = analyse_exposure(input_);
  EXPECT_EQ(reach(report, 100, 3389, 2).reach, Reach::kBlocked);
  EXPECT_EQ(reach(report, 101, 3389, 2).reach, Reach::kReachable);
}

TEST_F(ExposureTest, NoRuleMatchingMeansDeniedAndNoRulesMeansFlat) {
  input_.rules = {rule(1, "Serveurs", "Imagerie", "104", Action::kAccept)};
  auto report = analyse_exposure(input_);
  EXPECT_EQ(reach(report, 100, 445, 2).reach, Reach::kBlocked);
  EXPECT_NE(label(reach(report, 100, 445, 2)).find("denied by default"), std::string::npos);

  input_.rules.clear();
  report = analyse_exposure(input_);
  EXPECT_TRUE(report.flat_network);
  EXPECT_EQ(reach(report, 100, 445, 2).reach, Reach::kReachable);
}

TEST_F(ExposureTest, ShadowedAndRedundantRulesAreFound) {
  input_.rules = {rule(1, "any", "Imagerie", "any", Action::kDrop),
                  rule(2, "Bureautique", "10.1.110.20", "445", Action::kAccept),
                  rule(3, "10.1.160.0/24", "Imagerie", "3389", Action::kDrop),
                  rule(4, "Serveurs", "Bureautique", "80", Action::kAccept)};
  auto report = analyse_exposure(input_);
  auto anomalies = find_rule_anomalies(input_);
  ASSERT_EQ(anomalies.size(), 2U);
  EXPECT_EQ(anomalies[0].rule_id, 2);
  EXPECT_EQ(anomalies[0].kind, "shadowed");
  EXPECT_EQ(anomalies[1].rule_id, 3);
  EXPECT_EQ(anomalies[1].kind, "redundant");
  EXPECT_EQ(reach(report, 100, 445, 2).reach, Reach::kBlocked) << "a shadowed accept never wins";
}

TEST_F(ExposureTest, Ipv6ZonesAreHandledLikeIpv4) {
  input_.zones.push_back(
      {4, "CHU", "Recherche", std::nullopt, ZoneKind::kOther, {*parse_prefix("2001:db8:10::/48")}});
  input_.devices.push_back({102, *parse_ip("2001:db8:20::5"), 5, 1, "x", "y", ""});
  input_.zones.push_back(
      {5, "CHU", "Labo6", std::nullopt, ZoneKind::kMedical, {*parse_prefix("2001:db8:20::/48")}});
  input_.rules = {rule(1, "2001:db8:10::/49", "Labo6", "445", Action::kAccept),
                  rule(2, "any", "any", "any", Action::kDrop)};
  auto report = analyse_exposure(input_);
  EXPECT_EQ(reach(report, 102, 445, 4).reach, Reach::kPartly);
  EXPECT_EQ(reach(report, 102, 445, 2).reach, Reach::kBlocked);
}

TEST(PortsNamedTest, ReadsTheSiemensMitigationWording) {
  auto ports = ports_named_in(
      "keep them in a segment whose firewall blocks ports 139/tcp, 445/tcp and 3389/tcp, or "
      "disconnect them; also 445/tcp again and 514/udp");
  ASSERT_EQ(ports.size(), 4U);
  EXPECT_EQ(ports[0].port, 139);
  EXPECT_EQ(ports[2].port, 3389);
  EXPECT_EQ(ports[3].protocol, Protocol::kUdp);
  EXPECT_TRUE(ports_named_in("update to VC14J").empty());
}

}  // namespace
}  // namespace vigie::netpolicy
