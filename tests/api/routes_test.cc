#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "routes_internal.h"
#include "test_support.h"
#include "vigie/inventory/import.h"

namespace vigie::api {
namespace {

using nlohmann::json;

class RoutesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    vigie::testing::write_file(
        dir_ / "d.csv",
        "vendor,product,serial_number,zone,site\n"
        "Siemens,Artis zee,1,Imagerie,Nord\nPhilips,Essenta DR Compact,2,Imagerie,Sud\n"
        "GE,Carescape B450,3,Rea,Nord\n");
    auto r = inventory::import_devices(*store_, dir_ / "d.csv", inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok());
  }
  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(RoutesTest, HealthAndStatus) {
  auto h = route(*store_, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  auto s = route(*store_, "GET", "/api/v1/status");
  ASSERT_EQ(s.status, 200);
  auto j = json::parse(s.body);
  EXPECT_EQ(j["devices"], 3);
  EXPECT_EQ(j["store"], GetParam());
  EXPECT_GE(j["schema_version"].get<int>(), 1);
}

TEST_P(RoutesTest, DeviceListFiltersAndPages) {
  auto r = route(*store_, "GET", "/api/v1/devices?zone=Imagerie&limit=1");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["total"], 2);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["product"], "Artis zee");
  auto v = json::parse(route(*store_, "GET", "/api/v1/devices?vendor=Siemens%20Healthcare").body);
  EXPECT_EQ(v["total"], 1);
}

TEST_P(RoutesTest, OneDeviceAndProblemsForTheRest) {
  auto d = route(*store_, "GET", "/api/v1/devices/2");
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(json::parse(d.body)["product"], "Essenta DR Compact");
  auto missing = route(*store_, "GET", "/api/v1/devices/42");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.content_type, "application/problem+json");
  EXPECT_EQ(json::parse(missing.body)["status"], 404);
  EXPECT_EQ(route(*store_, "DELETE", "/api/v1/devices/2").status, 405);
  EXPECT_EQ(route(*store_, "GET", "/api/v1/devices?limit=0").status, 400);
  EXPECT_EQ(route(*store_, "GET", "/api/v1/devices?colour=red").status, 400);
  EXPECT_EQ(route(*store_, "GET", "/api/v1/devices?status=broken").status, 400);
  EXPECT_EQ(route(*store_, "GET", "/nothing").status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, RoutesTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::api
