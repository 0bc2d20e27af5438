// The stored policy on both back-ends: profiles, zones and their kinds, site roles, the
// allow-list they produce, and the audit entries every change leaves.
#include "vigie/netpolicy/policy_store.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/inventory/import.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {
namespace {

Intent intent(Direction d, Peer peer, Protocol proto, const std::string& ports,
              const std::string& purpose, bool cleartext = false) {
  Intent i;
  i.direction = d;
  i.peer = std::move(peer);
  i.protocol = proto;
  i.ports = *parse_ports(ports);
  i.purpose = purpose;
  i.cleartext = cleartext;
  i.provenance = {"002", "Annex A row 1", purpose};
  return i;
}

Profile essenta_like() {
  Profile p;
  p.name = "essenta";
  p.vendor = "Philips";
  p.product = "Essenta DR Compact";
  p.source = "test";
  p.intents = {
      intent(Direction::kFromDevice, {PeerKind::kRole, "pacs"}, Protocol::kTcp, "6104", "To PACS"),
      intent(Direction::kFromDevice, {PeerKind::kRole, "ntp"}, Protocol::kUdp, "123", "Time"),
      intent(Direction::kToDevice, {PeerKind::kLocalNetworks, ""}, Protocol::kTcp, "3010", "DICOM"),
      intent(Direction::kToDevice, {PeerKind::kSameManufacturer, ""}, Protocol::kTcp, "21, >1023",
             "FTP for PCR reader", true),
  };
  return p;
}

class PolicyStoreTest : public ::testing::TestWithParam<std::string> {
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
        "Philips,Essenta DR Compact,3,,CHU,Imagerie,10.1.110.32,decommissioned\n"
        "Siemens,Artis zee,4,VC14B,CHU,Imagerie,10.1.110.20,in-service\n"
        "Dell,OptiPlex 7090,5,,CHU,Bureautique,10.1.160.10,in-service\n"
        "Dell,PowerEdge,6,,CHU,Serveurs,10.1.150.10,in-service\n");
    auto r = inventory::import_devices(*store_, path, inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  }

  Status in_transaction(const std::function<Status()>& body) {
    auto tx = store::Transaction::begin(*store_);
    if (!tx) return tl::unexpected(tx.error());
    VIGIE_TRY(body());
    return tx->commit();
  }

  std::int64_t site_id() { return store_->query_int("SELECT id FROM sites").value(); }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Actor actor_{"secofficer", "cli", "2026-11-25T10:00:00.000Z"};
};

TEST_P(PolicyStoreTest, ProfileRoundTripsAndReplacesByName) {
  Profile p = essenta_like();
  ASSERT_TRUE(in_transaction([&] { return save_profile(*store_, p, "table", actor_); }));
  auto loaded = find_profile(*store_, "essenta");
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ((*loaded)->intents.size(), 4U);
  const Intent& ftp = (*loaded)->intents[3];
  EXPECT_EQ(format_ports(ftp.ports), "21,1024-65535");
  EXPECT_TRUE(ftp.cleartext);
  EXPECT_EQ(ftp.peer.kind, PeerKind::kSameManufacturer);
  EXPECT_EQ(ftp.provenance.locator, "Annex A row 1");

  p.intents.resize(1);
  ASSERT_TRUE(in_transaction([&] { return save_profile(*store_, p, "table", actor_); }));
  auto all = load_profiles(*store_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ(all->front().intents.size(), 1U);
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM profile_intents").value(), 1);
}

TEST_P(PolicyStoreTest, ProfileWithBadVersionRangeIsRefusedAndStoresNothing) {
  Profile p = essenta_like();
  p.versions = "vers:generic/>=1.0|<<2";
  auto st = in_transaction([&] { return save_profile(*store_, p, "table", actor_); });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("versions"), std::string::npos) << st.error().message;
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM profiles").value(), 0);
}

TEST_P(PolicyStoreTest, ZonesHaveGuessedKindsAndNetworksUntilSet) {
  auto zones = load_zones(*store_);
  ASSERT_TRUE(zones);
  ASSERT_EQ(zones->size(), 3U);
  std::map<std::string, Zone> by_name;
  for (const auto& z : *zones) by_name[z.name] = z;
  EXPECT_EQ(by_name["Imagerie"].kind, ZoneKind::kMedical);
  EXPECT_EQ(by_name["Bureautique"].kind, ZoneKind::kOffice);
  EXPECT_EQ(by_name["Serveurs"].kind, ZoneKind::kServers);
  ASSERT_EQ(by_name["Imagerie"].networks.size(), 1U);
  EXPECT_EQ(by_name["Imagerie"].networks.front().to_string(), "10.1.110.0/24");

  const auto office = by_name["Bureautique"].id;
  ASSERT_TRUE(in_transaction([&]() -> Status {
    VIGIE_TRY(set_zone_kind(*store_, office, ZoneKind::kClinical, actor_));
    return set_zone_networks(*store_, office, {*parse_prefix("10.1.160.0/23")}, actor_);
  }));
  auto zone = find_zone(*store_, "CHU/Bureautique");
  ASSERT_TRUE(zone) << zone.error().to_string();
  EXPECT_EQ(zone->kind, ZoneKind::kClinical);
  ASSERT_EQ(zone->networks.size(), 1U);
  EXPECT_EQ(zone->networks.front().to_string(), "10.1.160.0/23");
  EXPECT_FALSE(find_zone(*store_, "Nowhere"));
}

TEST_P(PolicyStoreTest, AllowListBindsIntentsToSiteRolesAndReportsUnbound) {
  Profile p = essenta_like();
  ASSERT_TRUE(in_transaction([&]() -> Status {
    VIGIE_TRY(save_profile(*store_, p, "table", actor_));
    return bind_role(*store_, site_id(), "PACS", "10.1.150.10", actor_);
  }));
  auto list = load_allow_list(*store_, {});
  ASSERT_TRUE(list) << list.error().to_string();
  // Two devices in service (the decommissioned one has no entries); per device: PACS (1),
  // DICOM from local networks (1), FTP from the other Essenta (2 port ranges). NTP unbound.
  EXPECT_EQ(list->entries.size(), 8U);
  ASSERT_EQ(list->unbound.size(), 2U);
  EXPECT_NE(list->unbound.front().find("'ntp'"), std::string::npos) << list->unbound.front();
  for (const auto& e : list->entries) {
    EXPECT_NE(e.device_ip.to_string(), "10.1.110.32");
    if (e.role == "pacs") {
      ASSERT_EQ(e.peers.size(), 1U);
      EXPECT_EQ(e.peers.front().to_string(), "10.1.150.10");
      EXPECT_EQ(e.direction, Direction::kFromDevice);
      EXPECT_EQ(e.ports.to_string(), "6104");
    }
    if (e.role == "same-manufacturer") {
      ASSERT_EQ(e.peers.size(), 1U);
      EXPECT_NE(e.peers.front().address, e.device_ip) << "a device is not its own peer";
      EXPECT_TRUE(e.cleartext);
    }
    if (e.role == "local-networks") {
      EXPECT_EQ(e.peers.size(), 3U);  // the site's three /24s
    }
  }
  auto zone = find_zone(*store_, "Bureautique");
  ASSERT_TRUE(zone);
  auto office = load_allow_list(*store_, {zone->id});
  ASSERT_TRUE(office);
  EXPECT_TRUE(office->entries.empty());
}

TEST_P(PolicyStoreTest, ProfileVersionRangeSelectsDevices) {
  Profile p;
  p.name = "artis-vc14";
  p.vendor = "Siemens Healthineers";
  p.product = "Artis zee";
  p.versions = "vers:generic/>=VC14A|<VC15";
  p.source = "test";
  p.intents = {intent(Direction::kToDevice, {PeerKind::kCidr, "10.1.150.0/24"}, Protocol::kTcp,
                      "5900", "VNC", true)};
  ASSERT_TRUE(in_transaction([&] { return save_profile(*store_, p, "table", actor_); }));
  auto list = load_allow_list(*store_, {});
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->entries.size(), 1U);
  EXPECT_EQ(list->entries.front().device_ip.to_string(), "10.1.110.20");

  p.versions = "vers:generic/>=VC15";
  ASSERT_TRUE(in_transaction([&] { return save_profile(*store_, p, "table", actor_); }));
  list = load_allow_list(*store_, {});
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->entries.empty());
}

TEST_P(PolicyStoreTest, DnsRolesStandForTheirLiveAddressesElseTheLatest) {
  const auto site = site_id();
  ASSERT_TRUE(
      in_transaction([&] { return bind_role(*store_, site, "ntp", "ntp.chu.example", actor_); }));
  auto role_id = store_->query_int("SELECT id FROM site_roles WHERE kind = 'dns'").value();
  const auto add = [&](const std::string& ip, const std::string& seen, const std::string& expires) {
    const store::Value row[] = {role_id, ip, seen, seen, expires};
    ASSERT_TRUE(store_->execute(
        "INSERT INTO dns_addresses (site_role_id, address, first_seen, last_seen, expires_at) "
        "VALUES (?,?,?,?,?)",
        row));
  };
  add("10.1.150.1", "2026-11-20T00:00:00.000Z", "2026-11-20T01:00:00.000Z");
  add("10.1.150.2", "2026-11-25T00:00:00.000Z", "2026-11-25T01:00:00.000Z");
  auto live = role_addresses_at(*store_, site, "2026-11-25T00:30:00.000Z");
  ASSERT_TRUE(live);
  ASSERT_EQ((*live)["ntp"].size(), 1U);
  EXPECT_EQ((*live)["ntp"].front().to_string(), "10.1.150.2");
  auto stale = role_addresses_at(*store_, site, "2026-12-01T00:00:00.000Z");
  ASSERT_TRUE(stale);
  ASSERT_EQ((*stale)["ntp"].size(), 1U) << "the latest resolution, not every address ever seen";
  EXPECT_EQ((*stale)["ntp"].front().to_string(), "10.1.150.2");
}

TEST_P(PolicyStoreTest, RoleBindingsRefuseNonsenseAndAreAudited) {
  const auto site = site_id();
  auto bad =
      in_transaction([&] { return bind_role(*store_, site, "pacs", "10.1.2.3/16", actor_); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidInput);
  ASSERT_TRUE(in_transaction([&]() -> Status {
    VIGIE_TRY(bind_role(*store_, site, "pacs", "10.1.150.0/28", actor_));
    VIGIE_TRY(bind_role(*store_, site, "pacs", "10.1.150.0/28", actor_));  // idempotent
    return unbind_role(*store_, site, "pacs", "10.1.150.0/28", actor_);
  }));
  EXPECT_FALSE(
      in_transaction([&] { return unbind_role(*store_, site, "pacs", "10.9.9.9", actor_); }));
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->entries, 2);
  auto actions = store_->query("SELECT action, actor, object FROM audit_log ORDER BY id");
  ASSERT_TRUE(actions);
  EXPECT_EQ(actions->at(0).text(0), "netpolicy.role.bind");
  EXPECT_EQ(actions->at(0).text(1), "secofficer");
  EXPECT_EQ(actions->at(1).text(0), "netpolicy.role.unbind");
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyStoreTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::netpolicy
