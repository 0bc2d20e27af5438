#include "vigie/inventory/model.h"

#include <gtest/gtest.h>

namespace vigie::inventory {
namespace {

TEST(Model, AddressesAreCanonical) {
  EXPECT_EQ(canonical_ip("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(canonical_ip("2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_FALSE(canonical_ip("10.1.2"));
  EXPECT_FALSE(canonical_ip("10.1.2.3/24"));
  EXPECT_EQ(canonical_mac("00-1B-63-84-45-E6"), "00:1b:63:84:45:e6");
  EXPECT_EQ(canonical_mac("001b.6384.45e6"), "00:1b:63:84:45:e6");
  EXPECT_FALSE(canonical_mac("00:1b:63:84:45"));
  EXPECT_FALSE(canonical_mac("zz:1b:63:84:45:e6"));
}

TEST(Model, EnumsAcceptFrenchAndLooseSpellings) {
  EXPECT_EQ(parse_status("In_Service"), DeviceStatus::kInService);
  EXPECT_EQ(parse_status("vendu"), DeviceStatus::kSold);
  EXPECT_EQ(parse_status("Réformé"), DeviceStatus::kDecommissioned);
  EXPECT_EQ(parse_status("En stock"), DeviceStatus::kDisconnected);
  EXPECT_EQ(parse_criticality("Life supporting"), Criticality::kLifeSupporting);
  EXPECT_EQ(parse_criticality("vital"), Criticality::kLifeSupporting);
  EXPECT_FALSE(parse_criticality("important"));
  EXPECT_EQ(parse_trust("HIGH"), Trust::kHigh);
}

TEST(Model, FieldNamesAndSynonyms) {
  EXPECT_EQ(find_field("Serial_Number"), Field::kSerialNumber);
  EXPECT_EQ(find_field("P/N"), Field::kPartNumber);
  EXPECT_EQ(find_field("REF"), Field::kPartNumber);
  EXPECT_EQ(find_field("model"), Field::kProduct);
  EXPECT_FALSE(find_field("colour"));
  for (const auto& f : fields()) EXPECT_EQ(find_field(f.name), f.field) << f.name;
}

TEST(Model, SoldDevicesNeedTheirNewOwner) {
  Device d;
  ASSERT_FALSE(set_field(d, Field::kVendor, "Philips"));
  ASSERT_FALSE(set_field(d, Field::kProduct, "Essenta DR Compact"));
  ASSERT_FALSE(set_field(d, Field::kStatus, "sold"));
  EXPECT_TRUE(check_device(d));
  ASSERT_FALSE(set_field(d, Field::kNewOwner, "Clinique du Lac"));
  EXPECT_FALSE(check_device(d));
}

TEST(Model, ProductNormalisationFollowsTheVendorWhateverTheColumnOrder) {
  Device d;
  ASSERT_FALSE(set_field(d, Field::kProduct, "X-WP"));
  ASSERT_FALSE(set_field(d, Field::kVendor, "Siemens"));
  EXPECT_EQ(d.product_norm, "syngo x workplace");
}

}  // namespace
}  // namespace vigie::inventory
