// Generation from the store: a zone's allow-list (profiles bound to site roles) becomes its
// ruleset, on both back-ends, and nft accepts it.
#include <gtest/gtest.h>

#include "test_support.h"
#include "vigie/inventory/import.h"
#include "vigie/netpolicy/nft.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {
namespace {

Intent intent(Direction d, std::string role, Protocol proto, const std::string& ports,
              const std::string& purpose) {
  Intent i;
  i.direction = d;
  i.peer = {PeerKind::kRole, std::move(role)};
  i.protocol = proto;
  i.ports = *parse_ports(ports);
  i.purpose = purpose;
  i.provenance = {"002", "Annex A", purpose};
  return i;
}

class NftStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    auto path = dir_ / "devices.csv";
    vigie::testing::write_file(
        path,
        "vendor,product,serial_number,software_version,site,zone,ip,status\n"
        "Philips,Essenta DR Compact,1,,CHU,Imagerie,10.1.110.30,in-service\n"
        "Philips Medical Systems,Essenta DR Compact,2,,CHU,Imagerie,10.1.110.31,in-service\n"
        "Dell,OptiPlex 7090,5,,CHU,Bureautique,10.1.160.10,in-service\n");
    auto r = inventory::import_devices(*store_, path, inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
    Profile p;
    p.name = "philips-essenta-dr-compact";
    p.vendor = "Philips";
    p.product = "Essenta DR Compact";
    p.source = "test";
    p.intents = {
        intent(Direction::kFromDevice, "pacs", Protocol::kTcp, "6104", "To PACS"),
        intent(Direction::kFromDevice, "ntp", Protocol::kUdp, "123", "Time Synchronization"),
        intent(Direction::kFromDevice, "ris", Protocol::kTcp, "5104", "To RIS"),
        intent(Direction::kFromDevice, "ris", Protocol::kTcp, ">1023", "FTP RIS"),
    };
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    std::int64_t site = store_->query_int("SELECT id FROM sites").value();
    ASSERT_TRUE(save_profile(*store_, p, "table", actor_));
    ASSERT_TRUE(bind_role(*store_, site, "pacs", "10.1.150.10", actor_));
    ASSERT_TRUE(bind_role(*store_, site, "ris", "10.1.150.11", actor_));
    ASSERT_TRUE(tx->commit());
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Actor actor_{"secofficer", "cli", "2026-11-25T10:00:00.000Z"};
};

TEST_P(NftStoreTest, AZoneAllowListBecomesItsRulesetAndUnboundRolesAreReported) {
  auto generated = generate_zone_ruleset(*store_, "CHU/Imagerie");
  ASSERT_TRUE(generated) << generated.error().to_string();
  const NftRuleset& rs = generated->ruleset;
  EXPECT_EQ(rs.table, "vigie_imagerie");
  // Per device: PACS 6104, RIS 5104 and the two ranges around it (1024-5103, 5105-65535).
  EXPECT_EQ(rs.element_count(), 8U);
  const NftMap* pacs = nullptr;
  for (const auto& m : rs.maps) {
    if (m.name == "out_pacs_v4") pacs = &m;
  }
  ASSERT_NE(pacs, nullptr);
  EXPECT_EQ(pacs->peer_set, "role_pacs_v4");
  ASSERT_EQ(pacs->elements.size(), 2U);
  EXPECT_EQ(pacs->elements[0].device.to_string(), "10.1.110.30");
  EXPECT_NE(pacs->elements[0].comment.find("philips-essenta-dr-compact intent 0 (To PACS)"),
            std::string::npos)
      << pacs->elements[0].comment;
  // NTP has no address at the site: it allows nothing and is reported.
  ASSERT_FALSE(generated->unbound.empty());
  EXPECT_NE(generated->unbound.front().find("'ntp'"), std::string::npos);
  auto check = nft_check_ruleset(rs, {});
  if (!check && check.error().code == core::ErrorCode::kUnavailable) {
    GTEST_SKIP() << "no network namespace: " << check.error().message;
  }
  ASSERT_TRUE(check) << check.error().to_string();
  EXPECT_TRUE(check->accepted) << check->output;
}

TEST_P(NftStoreTest, AnOfficeZoneWithoutProfilesDropsEverythingOfItsOwn) {
  auto generated = generate_zone_ruleset(*store_, "Bureautique");
  ASSERT_TRUE(generated) << generated.error().to_string();
  EXPECT_EQ(generated->ruleset.element_count(), 0U);
  EXPECT_NE(render_nft(generated->ruleset).find("policy drop;"), std::string::npos);
}

TEST_P(NftStoreTest, AnUnknownZoneIsRefused) {
  auto generated = generate_zone_ruleset(*store_, "Nowhere");
  ASSERT_FALSE(generated);
  EXPECT_EQ(generated.error().code, core::ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, NftStoreTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::netpolicy
