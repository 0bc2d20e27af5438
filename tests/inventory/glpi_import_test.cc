#include "import_test_support.h"

namespace vigie::inventory {
namespace {

class GlpiImportTest : public InventoryTest {};

constexpr const char* kExport = R"([
  {"id": 12, "name": "PACS-01", "serial": "CZ1234", "otherserial": "INV-0042",
   "manufacturers_id": "Hewlett Packard Enterprise", "computermodels_id": "ProLiant DL380 Gen10",
   "entities_id": "CHU Nord", "locations_id": "Bâtiment A > Salle serveurs",
   "states_id": "En service", "operatingsystems_id": "Windows Server 2016",
   "groups_id_tech": "DSI",
   "_networkports": {"NetworkPortEthernet": [
     {"name": "eth0", "mac": "3c:a8:2a:01:02:03",
      "NetworkName": {"fqdn": "pacs-01.chu.local", "IPAddress": [{"name": "10.1.30.10"}]}}]}},
  {"id": 13, "name": "cobas-1", "serial": "R-998", "manufacturers_id": "Roche Diagnostics GmbH",
   "peripheralmodels_id": "cobas pro", "software_version": "01-02", "criticality": "diagnostic",
   "zone": "Laboratoire", "zone_vlan": "40", "entities_id": "CHU Nord"}
])";

TEST_P(GlpiImportTest, ExpandedExportIsImported) {
  auto r = import_text("glpi.json", kExport, ImportFormat::kGlpi);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  auto d = all();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].product, "ProLiant DL380 Gen10");
  EXPECT_EQ(d[0].serial_number, "CZ1234");
  EXPECT_EQ(d[0].os, "Windows Server 2016");
  EXPECT_EQ(d[0].owner, "DSI");
  ASSERT_EQ(d[0].interfaces.size(), 1u);
  EXPECT_EQ(d[0].interfaces[0].ip, "10.1.30.10");
  EXPECT_EQ(d[0].interfaces[0].hostname, "pacs-01.chu.local");
  EXPECT_EQ(d[1].vendor_norm, "roche");
  EXPECT_EQ(d[1].software_version, "01-02");
  EXPECT_EQ(d[1].zone, "Laboratoire");
  EXPECT_EQ(d[1].zone_vlan, 40);
}

TEST_P(GlpiImportTest, SearchResultShapeIsAccepted) {
  auto r = import_text(
      "search.json",
      R"({"totalcount": 1, "data": [{"manufacturers_id": "GE", "computermodels_id": "Vivid E95", "serial": "1"}]})",
      ImportFormat::kGlpi);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 1);
}

TEST_P(GlpiImportTest, UnexpandedDropdownIsRefusedWithItsJsonPointer) {
  auto r = import_text("ids.json",
                       R"([{"manufacturers_id": "GE", "computermodels_id": "A", "serial": "1"},
                           {"manufacturers_id": 7, "computermodels_id": "B"}])",
                       ImportFormat::kGlpi);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.errors.front().where.ends_with("ids.json:/1/manufacturers_id"))
      << r.errors.front().where;
  EXPECT_NE(r.errors.front().message.find("expand_dropdowns"), std::string::npos);
  EXPECT_EQ(count(), 0);
}

TEST_P(GlpiImportTest, BadValueNamesThePointer) {
  auto r = import_text(
      "v.json",
      R"({"data": [{"manufacturers_id": "GE", "computermodels_id": "A", "criticality": "maybe"}]})",
      ImportFormat::kGlpi);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.errors.front().where.ends_with(":/data/0/criticality")) << r.errors.front().where;
}

TEST_P(GlpiImportTest, MalformedJsonNamesLineAndColumn) {
  auto r = import_text("m.json", "[\n  {\"serial\": \"1\",}\n]", ImportFormat::kGlpi);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.front().where.find("m.json:2:"), std::string::npos) << r.errors.front().where;
  EXPECT_EQ(count(), 0);
}

TEST_P(GlpiImportTest, NumberTooLargeForAnyTypeIsRefusedNotFatal) {
  auto r =
      import_text("n.json", R"([{"manufacturers_id": "GE", "x": 1e99999}])", ImportFormat::kGlpi);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.front().message.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(count(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, GlpiImportTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
