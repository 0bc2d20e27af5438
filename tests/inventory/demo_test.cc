// The demo hospital must import cleanly and contain the cases the advisories will need.
#include <set>

#include "import_test_support.h"
#include "vigie/demo_data.h"

namespace vigie::inventory {
namespace {

class DemoTest : public InventoryTest {};

TEST_P(DemoTest, DemoHospitalImportsWithEveryLetterCase) {
  auto r = import_text("demo.csv", std::string(demo::devices_csv()));
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_GE(r.summary.created, 300u);
  auto devices = all();
  std::set<std::string> sites;
  std::set<std::string> zones;
  std::set<std::string> products;
  std::set<std::string> gen2_serials;
  size_t sold = 0;
  for (const auto& d : devices) {
    sites.insert(d.site);
    zones.insert(d.site + "/" + d.zone);
    products.insert(d.product_norm);
    if (d.product_norm == "arcadis varic gen2") gen2_serials.insert(d.serial_number);
    if (d.status == DeviceStatus::kSold) {
      ++sold;
      EXPECT_FALSE(d.new_owner.empty());
    }
  }
  EXPECT_GE(sites.size(), 3u);
  EXPECT_GE(zones.size(), 8u);
  for (const char* p : {"artis zee", "axiom artis", "arcadis varic", "arcadis orbic",
                        "arcadis avantic", "arcadis varic gen2", "sensis", "essenta dr compact"}) {
    EXPECT_TRUE(products.contains(p)) << p;
  }
  // Serial numbers on both sides of the letter's limit (before 15000 is affected).
  bool below = false;
  bool above = false;
  for (const auto& s : gen2_serials) {
    (std::stoi(s) < 15000 ? below : above) = true;
  }
  EXPECT_TRUE(below && above);
  EXPECT_GE(sold, 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, DemoTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
