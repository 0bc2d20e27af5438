// Port lists as vendors print them, IP prefixes of both families, enumeration names.
#include "vigie/netpolicy/model.h"

#include <gtest/gtest.h>

namespace vigie::netpolicy {
namespace {

struct PortCase {
  std::string text;
  std::string canonical;
};

class PortListTest : public ::testing::TestWithParam<PortCase> {};

TEST_P(PortListTest, ParsesMergesAndFormats) {
  auto ports = parse_ports(GetParam().text);
  ASSERT_TRUE(ports) << ports.error().to_string();
  EXPECT_EQ(format_ports(*ports), GetParam().canonical);
}

INSTANTIATE_TEST_SUITE_P(
    VendorTables, PortListTest,
    ::testing::Values(PortCase{"445", "445"}, PortCase{"80, 4440", "80,4440"},
                      PortCase{"18015 - 18020, 18030, 18050", "18015-18020,18030,18050"},
                      PortCase{"137-139", "137-139"}, PortCase{">1023", "1024-65535"},
                      PortCase{">=1024", "1024-65535"}, PortCase{"<1024", "0-1023"},
                      PortCase{"any", "any"}, PortCase{"*", "any"},
                      PortCase{"443, 8086, 9006, 9900", "443,8086,9006,9900"},
                      PortCase{"139, 137-138, 140", "137-140"}, PortCase{"0-65535", "any"}));

TEST(PortListTest, RefusesWhatIsNotAPortList) {
  for (const char* bad :
       {"", "abc", "70000", "139-137", "80,,81", ">65535", ">65535", "-5", "80 81", "<0"}) {
    auto ports = parse_ports(bad);
    EXPECT_FALSE(ports) << bad;
    if (!ports) {
      EXPECT_EQ(ports.error().code, core::ErrorCode::kInvalidInput) << bad;
    }
  }
}

TEST(IpTest, PrefixesOfBothFamilies) {
  auto net = parse_prefix("10.1.110.0/24");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->to_string(), "10.1.110.0/24");
  EXPECT_TRUE(net->contains(*parse_ip("10.1.110.20")));
  EXPECT_FALSE(net->contains(*parse_ip("10.1.111.20")));
  EXPECT_EQ(net->last().to_string(), "10.1.110.255");
  EXPECT_TRUE(net->contains(*parse_prefix("10.1.110.128/25")));
  EXPECT_FALSE(parse_prefix("10.1.110.128/25")->contains(*net));
  EXPECT_TRUE(net->overlaps(*parse_prefix("10.0.0.0/8")));

  auto v6 = parse_prefix("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "2001:db8::/32");
  EXPECT_TRUE(v6->contains(*parse_ip("2001:db8:1::5")));
  EXPECT_FALSE(v6->contains(*parse_ip("10.1.110.20")));
  EXPECT_FALSE(net->contains(*parse_ip("::ffff:10.1.111.1")));
  EXPECT_TRUE(net->contains(*parse_ip("::ffff:10.1.110.1")));

  EXPECT_EQ(parse_prefix("10.1.2.3")->to_string(), "10.1.2.3");
  EXPECT_EQ(parse_prefix("0.0.0.0/0")->to_string(), "0.0.0.0/0");
  EXPECT_FALSE(parse_prefix("10.1.2.3/16")) << "host bits set";
  EXPECT_FALSE(parse_prefix("10.1.2.0/33"));
  EXPECT_FALSE(parse_prefix("10.1.2.0/"));
  EXPECT_FALSE(parse_prefix("pacs.example"));
  EXPECT_EQ(IpAddress::v4(0x0A016E14).to_string(), "10.1.110.20");
  EXPECT_EQ(parse_ip("10.1.110.20")->v4_value(), 0x0A016E14U);
}

TEST(NamesTest, RoundTripAndAcceptVariants) {
  EXPECT_EQ(parse_direction("FROM_DEVICE"), Direction::kFromDevice);
  EXPECT_EQ(parse_peer_kind("same_manufacturer"), PeerKind::kSameManufacturer);
  EXPECT_EQ(parse_zone_kind("Medical"), ZoneKind::kMedical);
  EXPECT_EQ(parse_action("reject"), Action::kReject);
  EXPECT_FALSE(parse_protocol("gre"));
  for (auto k : {ZoneKind::kMedical, ZoneKind::kClinical, ZoneKind::kOffice, ZoneKind::kServers,
                 ZoneKind::kDmz, ZoneKind::kInternet, ZoneKind::kOther}) {
    EXPECT_EQ(parse_zone_kind(to_string(k)), k);
  }
  EXPECT_EQ(protocol_number(Protocol::kUdp), 17);
}

}  // namespace
}  // namespace vigie::netpolicy
