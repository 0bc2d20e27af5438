#include <fmt/format.h>

#include "import_test_support.h"

namespace vigie::inventory {
namespace {

constexpr const char* kGood =
    "vendor,product,part_number,serial_number,software_version,site,zone,zone_vlan,zone_trust,"
    "ip,mac,hostname,location,owner,criticality,status,new_owner\n"
    "Siemens Healthcare GmbH,Arcadis Varic Gen2,10143406,14999,VB10,CHU Nord,Imagerie,110,high,"
    "10.1.110.5,00-1B-63-84-45-E6,arcadis-1,Bâtiment B - Salle 2,Radiologie,diagnostic,"
    "in-service,\n"
    "SIEMENS,Arcadis Varic Gen2,10143406,15342,VB10,CHU Nord,imagerie,110,high,10.1.110.6,,"
    "arcadis-2,\"Bloc, salle 3\",Bloc opératoire,diagnostic,in-service,\n"
    "Philips Medical Systems,Essenta DR Compact,,SN-77,1.2,CHU Nord,Imagerie,,,,,,,"
    "Radiologie,diagnostic,sold,Clinique du Lac\n";

TEST_P(InventoryTest, CsvImportCreatesDevicesSitesAndZones) {
  auto r = import_text("devices.csv", kGood);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.summary.records, 3u);
  EXPECT_EQ(r.summary.created, 3u);
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(count("sites"), 1);
  EXPECT_EQ(count("zones"), 1);  // "Imagerie" and "imagerie" are one zone
  auto devices = all();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0].vendor, "Siemens Healthcare GmbH");
  EXPECT_EQ(devices[0].vendor_norm, "siemens healthineers");
  EXPECT_EQ(devices[1].vendor_norm, "siemens healthineers");
  EXPECT_EQ(devices[2].vendor_norm, "philips");
  EXPECT_EQ(devices[0].zone_vlan, 110);
  EXPECT_EQ(devices[0].zone_trust, Trust::kHigh);
  ASSERT_EQ(devices[0].interfaces.size(), 1u);
  EXPECT_EQ(devices[0].interfaces[0].mac, "00:1b:63:84:45:e6");
  EXPECT_EQ(devices[0].location, "Bâtiment B - Salle 2");
  EXPECT_EQ(devices[1].location, "Bloc, salle 3");
  EXPECT_EQ(devices[2].status, DeviceStatus::kSold);
  EXPECT_EQ(devices[2].new_owner, "Clinique du Lac");
  EXPECT_EQ(count("imports"), 1);
}

TEST_P(InventoryTest, ReimportingTheSameFileUpdatesInsteadOfDuplicating) {
  ASSERT_TRUE(import_text("a.csv", kGood).ok());
  std::string changed = kGood;
  changed.replace(changed.find("14999,VB10"), 10, "14999,VB11");
  auto r = import_text("b.csv", changed);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.summary.created, 0u);
  EXPECT_EQ(r.summary.updated, 3u);
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(count("interfaces"), 2);
  EXPECT_EQ(all().front().software_version, "VB11");
}

TEST_P(InventoryTest, SemicolonSeparatedFilesAreRead) {
  auto r = import_text(
      "fr.csv",
      "Vendor;Product;Serial_Number;Software_Version\n"
      "B. Braun;Space Infusomat;123;686E\nB Braun Melsungen AG;Space Infusomat;124;686E\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  auto d = all();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].vendor_norm, "b braun");
  EXPECT_EQ(d[1].vendor_norm, "b braun");
}

struct BadCase {
  const char* name;
  std::string csv;
  std::string where_suffix;  // expected end of Error::where
  std::string reason;        // expected part of the message
};

TEST_P(InventoryTest, BadInputIsRefusedWithPositionAndChangesNothing) {
  ASSERT_TRUE(import_text("base.csv", kGood).ok());
  const std::string header = "vendor,product,serial_number,ip,criticality,status,new_owner\n";
  const std::vector<BadCase> cases = {
      {"bad ip",
       header + "GE,Carescape B450,1,10.0.0.1,other,in-service,\nGE,Carescape "
                "B450,2,10.0.0.300,other,in-service,\n",
       ":3:column 4", "'10.0.0.300' is not an IP address"},
      {"bad criticality", header + "GE,B450,1,,essential,in-service,\n", ":2:column 5",
       "is not a criticality"},
      {"sold without owner", header + "GE,B450,1,,other,sold,\n", ":2", "new_owner"},
      {"missing vendor", header + ",B450,1,,other,in-service,\n", ":2", "vendor is required"},
      {"field count", header + "GE,B450\n", ":2", "expected 7 fields"},
      {"duplicate serial",
       header + "GE,B450,7,,other,in-service,\nGE Healthcare,B450,7,,other,in-service,\n", ":3",
       "duplicate serial number '7'"},
      {"unknown column", "vendor,product,colour\nGE,B450,red\n", ":1:column 3",
       "unknown column 'colour'"},
      {"no product column", "vendor,serial_number\nGE,1\n", ":1", "no 'product' column"},
      {"invalid utf-8", header + "GE,B450\xff,1,,other,in-service,\n", ":2:column 2",
       "invalid UTF-8"},
      {"unclosed quote", header + "GE,\"B450,1,,other,in-service,\n", ":2", "never closed"},
      {"zone redefined",
       "vendor,product,serial_number,site,zone,zone_vlan\nGE,B450,1,S,Z,10\nGE,B450,2,S,Z,11\n",
       ":3", "described differently"},
      {"empty file", "", ":1", "header line is required"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto before_devices = count();
    auto before_interfaces = count("interfaces");
    auto before_zones = count("zones");
    auto r = import_text("bad.csv", c.csv);
    ASSERT_FALSE(r.ok());
    const auto& e = r.errors.front();
    EXPECT_EQ(e.code, core::ErrorCode::kInvalidInput);
    EXPECT_TRUE(e.where.ends_with(c.where_suffix)) << e.where;
    EXPECT_NE(e.where.find("bad.csv"), std::string::npos) << e.where;
    EXPECT_NE(e.message.find(c.reason), std::string::npos) << e.message;
    EXPECT_EQ(count(), before_devices);
    EXPECT_EQ(count("interfaces"), before_interfaces);
    EXPECT_EQ(count("zones"), before_zones);
    EXPECT_EQ(count("imports"), 1);
  }
}

TEST_P(InventoryTest, DuplicateFarFromItsFirstRowNamesBothLines) {
  // Enough rows for the parser to reuse its row batches and the duplicate set to grow.
  std::string csv = "vendor,product,serial_number\n";
  for (int i = 0; i < 20000; ++i) csv += "Mindray,BeneView T5," + std::to_string(i) + "\n";
  csv += "MINDRAY,BeneView T5,1234\n";
  auto r = import_text("big.csv", csv);
  ASSERT_FALSE(r.ok());
  const auto& e = r.errors.front();
  EXPECT_TRUE(e.where.ends_with("big.csv:20002")) << e.where;
  EXPECT_NE(e.message.find("duplicate serial number '1234'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("first at " + e.where.substr(0, e.where.size() - 6) + ":1236"),
            std::string::npos)
      << e.message;
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(r.summary.records, 20001u);  // the duplicate was read too, then refused
}

TEST_P(InventoryTest, ReusedRowsKeepNothingOfThePreviousRow) {
  // Rows are parsed into reused objects: a field one row leaves empty must not inherit the
  // value of an earlier row.
  std::string csv =
      "vendor,product,serial_number,ip,hostname,zone_vlan,status,new_owner,site,zone\n";
  for (int i = 0; i < 10000; ++i) {
    std::string n = std::to_string(i);
    csv += "GE,B450,";
    csv += n;
    if (i % 2 == 0) {
      csv += fmt::format(",10.0.{}.{},h{},12,sold,Clinique,S,Z\n", i / 256, i % 256, n);
    } else {
      csv += ",,,,,,,\n";
    }
  }
  auto r = import_text("reuse.csv", csv);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 10000);
  EXPECT_EQ(count("interfaces"), 5000);
  auto devices = all();
  ASSERT_EQ(devices.size(), 10000u);
  for (size_t i = 1; i < devices.size(); i += 2) {
    ASSERT_TRUE(devices[i].interfaces.empty()) << i;
    ASSERT_EQ(devices[i].status, DeviceStatus::kInService) << i;
    ASSERT_TRUE(devices[i].new_owner.empty()) << i;
    ASSERT_TRUE(devices[i].site.empty()) << i;
  }
}

TEST_P(InventoryTest, BadRowAfterManyGoodOnesStillChangesNothing) {
  std::string csv = "vendor,product,serial_number\n";
  for (int i = 0; i < 5000; ++i) csv += "Mindray,BeneView T5," + std::to_string(i) + "\n";
  csv += "Mindray,,5001\n";
  auto r = import_text("big.csv", csv);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.errors.front().where.ends_with(":5002")) << r.errors.front().where;
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(count("sites"), 0);
}

TEST_P(InventoryTest, FailedBulkLoadLeavesTheStoreReadyForTheNextImport) {
  // The first import into an empty store drops and rebuilds indexes; a failed one must leave
  // neither missing indexes nor a pending rebuild on the connection.
  ASSERT_FALSE(import_text("bad.csv", "vendor,product,serial_number\nGE,B450,1\nGE,,2\n").ok());
  auto indexes = store_->secondary_indexes("devices");
  ASSERT_TRUE(indexes);
  EXPECT_GE(indexes->size(), 2u);
  auto r = import_text("good.csv", "vendor,product,serial_number\nGE,B450,1\nGE,B450,2\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(store_->secondary_indexes("devices")->size(), indexes->size());
}

TEST_P(InventoryTest, ReportModeListsEveryBadRowAndWritesNothing) {
  ImportOptions options;
  options.report_all = true;
  auto r = import_text("r.csv",
                       "vendor,product,serial_number,ip\nGE,B450,1,x\nGE,B450,2,10.0.0.2\n"
                       "GE,B450,3,y\n,B450,4,\n",
                       ImportFormat::kCsv, options);
  ASSERT_EQ(r.errors.size(), 3u) << errors_of(r);
  EXPECT_TRUE(r.errors[0].where.ends_with(":2:column 4"));
  EXPECT_TRUE(r.errors[1].where.ends_with(":4:column 4"));
  EXPECT_TRUE(r.errors[2].where.ends_with(":5"));
  EXPECT_EQ(count(), 0);
}

TEST_P(InventoryTest, UnknownColumnsCanBeIgnoredOnRequest) {
  ImportOptions options;
  options.ignore_unknown_columns = true;
  auto r =
      import_text("u.csv", "vendor,product,colour\nGE,B450,red\n", ImportFormat::kCsv, options);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 1);
}

TEST_P(InventoryTest, SeveralInterfacesPerDevice) {
  auto r = import_text(
      "m.csv",
      "vendor,product,serial_number,ip,mac,vlan\n"
      "Philips,IntelliVue MX800,1,10.2.20.5|10.9.0.5,aa:bb:cc:00:00:01|aa:bb:cc:00:00:02,20|900\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  auto d = all();
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].interfaces.size(), 2u);
  EXPECT_EQ(d[0].interfaces[1].ip, "10.9.0.5");
  EXPECT_EQ(d[0].interfaces[1].vlan, 900);
}

INSTANTIATE_TEST_SUITE_P(Backends, InventoryTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
