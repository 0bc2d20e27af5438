#include "import_test_support.h"

#include <nlohmann/json.hpp>

namespace vigie::inventory {
namespace {

class QueryTest : public InventoryTest {
 protected:
  void SetUp() override {
    InventoryTest::SetUp();
    auto r = import_text(
        "inv.csv",
        "vendor,product,serial_number,software_version,site,zone,ip,status,new_owner\n"
        "Siemens Healthcare,Artis zee,1001,VC14B,CHU Nord,Imagerie,10.1.110.10,in-service,\n"
        "SIEMENS,Sensis,2002,VC11B,CHU Nord,Cardio,10.1.120.11,in-service,\n"
        "Philips,Essenta DR Compact,3003,2.1,CHU Sud,Imagerie,10.2.110.12,sold,Clinique du Lac\n"
        "GE Medical Systems,Carescape B450,4004,2.0,CHU Sud,Reanimation,10.2.50.13,in-service,\n");
    ASSERT_TRUE(r.ok()) << errors_of(r);
  }
};

TEST_P(QueryTest, FiltersByZoneVendorSiteAndStatus) {
  DeviceFilter f;
  f.zone = "imagerie";
  EXPECT_EQ(all(f).size(), 2u);
  f.zone = "CHU Sud/Imagerie";
  ASSERT_EQ(all(f).size(), 1u);
  EXPECT_EQ(all(f)[0].product, "Essenta DR Compact");
  DeviceFilter v;
  v.vendor = "Siemens Healthineers";  // matches every spelling of Siemens
  EXPECT_EQ(all(v).size(), 2u);
  v.vendor = "ge";
  EXPECT_EQ(all(v).size(), 1u);
  DeviceFilter s;
  s.site = "chu sud";
  s.status = "sold";
  EXPECT_EQ(all(s).size(), 1u);
  EXPECT_EQ(count_devices(*store_, s).value(), 1);
}

TEST_P(QueryTest, PagesWithLimitAndOffset) {
  DeviceFilter f;
  f.limit = 2;
  f.offset = 1;
  auto page = all(f);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].serial_number, "2002");
  EXPECT_EQ(page[1].serial_number, "3003");
}

TEST_P(QueryTest, UnknownDeviceIsNotFound) {
  auto d = get_device(*store_, 999);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, core::ErrorCode::kNotFound);
}

TEST_P(QueryTest, SetChangesFieldsAndMovesZones) {
  ASSERT_TRUE(set_device_fields(*store_, 1,
                                {{"software_version", "VC14J"},
                                 {"zone", "Hybride"},
                                 {"zone_trust", "high"},
                                 {"criticality", "life-supporting"}}));
  auto d = get_device(*store_, 1);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->software_version, "VC14J");
  EXPECT_EQ(d->zone, "Hybride");
  EXPECT_EQ(d->site, "CHU Nord");
  EXPECT_EQ(d->zone_trust, Trust::kHigh);
  EXPECT_EQ(d->criticality, Criticality::kLifeSupporting);
  EXPECT_EQ(d->interfaces.size(), 1u);  // untouched
}

TEST_P(QueryTest, SetRefusesBadValuesAndChangesNothing) {
  auto st = set_device_fields(*store_, 1, {{"software_version", "X"}, {"ip", "not-an-ip"}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, core::ErrorCode::kInvalidInput);
  EXPECT_EQ(get_device(*store_, 1)->software_version, "VC14B");
  EXPECT_FALSE(set_device_fields(*store_, 1, {{"status", "sold"}}));  // no new_owner
  EXPECT_FALSE(set_device_fields(*store_, 1, {{"colour", "red"}}));
  auto dup = set_device_fields(*store_, 2, {{"product", "Artis zee"}, {"serial_number", "1001"}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(get_device(*store_, 2)->product, "Sensis");
}

TEST_P(QueryTest, JsonShapeIsStable) {
  auto d = get_device(*store_, 3);
  ASSERT_TRUE(d);
  auto j = nlohmann::json::parse(to_json_text(*d));
  for (const char* key : {"id",
                          "vendor",
                          "vendor_normalized",
                          "product",
                          "product_normalized",
                          "part_number",
                          "serial_number",
                          "udi",
                          "software_version",
                          "hardware_revision",
                          "os",
                          "site",
                          "zone",
                          "location",
                          "owner",
                          "criticality",
                          "status",
                          "new_owner",
                          "remote_service",
                          "maintenance_contract",
                          "identified",
                          "interfaces",
                          "created_at",
                          "updated_at"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["status"], "sold");
  EXPECT_EQ(j["new_owner"], "Clinique du Lac");
  EXPECT_EQ(j["zone"]["name"], "Imagerie");
  EXPECT_EQ(j["interfaces"][0]["ip"], "10.2.110.12");
  EXPECT_TRUE(j["part_number"].is_null());
}

INSTANTIATE_TEST_SUITE_P(Backends, QueryTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
