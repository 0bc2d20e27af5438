#include "vigie/advisory/matcher.h"

#include <gtest/gtest.h>

#include "csaf_builder.h"
#include "vigie/advisory/validate.h"
#include "vigie/inventory/normalize.h"

namespace vigie::advisory {
namespace {

using testing::csaf_document;
using testing::json;
using testing::version_branch;
using testing::wannacry_like;

DeviceFacts device(const std::string& vendor, const std::string& product,
                   const std::string& version, const std::string& serial = "1234",
                   const std::string& part_number = "") {
  DeviceFacts d;
  d.id = 7;
  d.vendor = vendor;
  d.vendor_norm = inventory::normalize_vendor(vendor);
  d.product = product;
  d.product_norm = inventory::normalize_product(d.vendor_norm, product);
  d.part_number = part_number;
  d.serial_number = serial;
  d.software_version = version;
  return d;
}

class MatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { add(wannacry_like()); }

  size_t add(const json& document) {
    std::string text = document.dump();
    auto report = validate_csaf(text);
    for (const auto& i : report.issues)
      ADD_FAILURE() << i.test << " " << i.pointer << " " << i.reason;
    auto doc = read_csaf(text, "test.json");
    EXPECT_TRUE(doc) << doc.error().to_string();
    return matcher_.add(std::move(*doc));
  }

  std::vector<Assessment> assess(const DeviceFacts& d) const {
    std::vector<Assessment> out;
    matcher_.assess(d, out);
    return out;
  }

  Assessment only(const DeviceFacts& d) const {
    auto out = assess(d);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? Assessment{} : out.front();
  }

  Matcher matcher_;
};

TEST_F(MatcherTest, ListedVersionIsAffectedAndUpgradesToTheFixedVersion) {
  auto a = only(device("SIEMENS", "Artis zee", "VC14B"));
  EXPECT_EQ(a.verdict, Verdict::kAffected);
  EXPECT_EQ(a.product_id, "AZ-VC14B");
  ASSERT_FALSE(a.actions.empty());
  EXPECT_EQ(a.actions.front().category, "vendor_fix");
  EXPECT_EQ(a.actions.front().target_version, "VC14J");
  EXPECT_FALSE(a.reason.empty());
}

TEST_F(MatcherTest, TheTargetVersionIsFixedAndOtherVersionsAreNotAffected) {
  EXPECT_EQ(only(device("Siemens Healthcare GmbH", "Artis zee", "VC14J")).verdict, Verdict::kFixed);
  auto other = only(device("Siemens Healthineers", "Artis zee", "VC21C"));
  EXPECT_EQ(other.verdict, Verdict::kNotAffected);
  EXPECT_TRUE(other.actions.empty());
}

TEST_F(MatcherTest, AMissingVersionIsUnknownAndAsksForTheField) {
  auto a = only(device("Siemens Healthineers", "Artis zee", ""));
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_EQ(a.missing, std::vector<std::string>{"software_version"});
  ASSERT_FALSE(a.actions.empty());
  EXPECT_EQ(a.actions.front().category, "inventory");
}

TEST_F(MatcherTest, SerialLimitDecidesAndNoPatchMeansBlockPortsOrDisconnect) {
  auto below = only(device("Siemens Healthineers", "Arcadis Varic Gen2", "", "14999", "10143406"));
  EXPECT_EQ(below.verdict, Verdict::kAffected);
  std::vector<std::string> categories;
  for (const auto& action : below.actions) categories.push_back(action.category);
  EXPECT_EQ(categories, (std::vector<std::string>{"mitigation", "workaround", "no_fix_planned"}));
  EXPECT_NE(below.actions[0].text.find("139/445/3389"), std::string::npos);
  EXPECT_NE(below.actions[2].text.find("isolate or retire"), std::string::npos);

  EXPECT_EQ(
      only(device("Siemens Healthineers", "Arcadis Varic Gen2", "", "15000", "10143406")).verdict,
      Verdict::kNotAffected);
  EXPECT_EQ(only(device("Siemens Healthineers", "Arcadis Varic Gen2", "", "9", "10143406")).verdict,
            Verdict::kAffected);
  auto no_serial = only(device("Siemens Healthineers", "Arcadis Varic Gen2", "", "", "10143406"));
  EXPECT_EQ(no_serial.verdict, Verdict::kUnknown);
  EXPECT_EQ(no_serial.missing, std::vector<std::string>{"serial_number"});
}

TEST_F(MatcherTest, PartNumberShowsTheVariantWhenTheNameDoesNot) {
  // Written "Arcadis Varic" but with the Gen2 part number: judged as a Gen2.
  EXPECT_EQ(only(device("Siemens", "Arcadis Varic", "", "14876", "10143406")).verdict,
            Verdict::kAffected);
  EXPECT_EQ(only(device("Siemens", "Arcadis Varic", "", "15342", "10143406")).verdict,
            Verdict::kNotAffected);
  // A first-generation Varic (another part number) is not the Gen2 the advisory names.
  EXPECT_TRUE(assess(device("Siemens", "Arcadis Varic", "", "3057", "8080017")).empty());
}

TEST_F(MatcherTest, RangesWithTheVendorSchemeAndTheFirstUpgradeRule) {
  auto patchable = only(device("Siemens Healthineers", "Symbia T2", "VA60B"));
  EXPECT_EQ(patchable.verdict, Verdict::kAffected);
  EXPECT_EQ(patchable.product_id, "T2-VA60");
  auto va70 = only(device("Siemens Healthineers", "Symbia T2", "VA70A"));
  EXPECT_EQ(va70.verdict, Verdict::kAffected);
  ASSERT_FALSE(va70.actions.empty());
  EXPECT_EQ(va70.actions.front().target_version, "VB10A");
  EXPECT_NE(va70.actions.front().text.find("first"), std::string::npos);
  EXPECT_EQ(only(device("Siemens Healthineers", "Symbia T2", "VB10A")).verdict,
            Verdict::kNotAffected);
}

TEST_F(MatcherTest, OtherVendorsAndProductsAreNotNamed) {
  EXPECT_TRUE(assess(device("Philips", "Artis zee", "VC14B")).empty());
  EXPECT_TRUE(assess(device("Siemens Healthineers", "SOMATOM Force", "VC14B")).empty());
  EXPECT_TRUE(assess(device("Siemens Healthineers", "Mobilett Elara Max", "VA10B")).empty());
}

TEST_F(MatcherTest, ExplainTracesTheDecidingRule) {
  auto lines = matcher_.explain(device("Siemens Healthineers", "Artis zee", "VC14B"), 0);
  ASSERT_FALSE(lines.empty());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_NE(all.find("AZ-VC14B"), std::string::npos) << all;
  EXPECT_NE(all.find("VC14J"), std::string::npos) << all;
}

TEST_F(MatcherTest, UnderInvestigationAndUnreadableRangesAreNeverNotAffected) {
  json branches = {
      {{"category", "product_name"},
       {"name", "Sensis"},
       {"branches",
        {version_branch("product_version_range", "vers:all/*", "SENSIS-ALL", "Sensis")}}},
      {{"category", "product_name"},
       {"name", "syngo.via"},
       {"branches",
        {version_branch("product_version_range", "some versions, ask us", "VIA-SOME",
                        "syngo.via some versions")}}}};
  json vulnerabilities = {
      {{"title", "Being looked at"},
       {"notes", {{{"category", "description"}, {"text", "Under investigation."}}}},
       {"product_status",
        {{"under_investigation", {"SENSIS-ALL"}}, {"known_affected", {"VIA-SOME"}}}}}};
  size_t index = add(csaf_document("TEST-UI", "Siemens Healthineers", branches, vulnerabilities));
  std::vector<Assessment> out;
  matcher_.assess(device("Siemens Healthineers", "Sensis", "VC12K"), index, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Verdict::kUnderInvestigation);
  out.clear();
  matcher_.assess(device("Siemens Healthineers", "syngo.via", "VB40A"), index, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Verdict::kUnknown) << out[0].reason;
}

TEST_F(MatcherTest, AProductFamilyNamesEveryProductOfTheFamily) {
  json branches = {{{"category", "product_family"},
                    {"name", "Biograph"},
                    {"branches",
                     {version_branch("product_version_range", "vers:vendor/<VG60A", "BIO-OLD",
                                     "Biograph before VG60A")}}}};
  json vulnerabilities = {{{"cve", "CVE-2017-0145"},
                           {"notes", {{{"category", "description"}, {"text", "SMBv1."}}}},
                           {"product_status", {{"known_affected", {"BIO-OLD"}}}}}};
  size_t index = add(csaf_document("TEST-FAM", "Siemens Healthineers", branches, vulnerabilities));
  std::vector<Assessment> out;
  matcher_.assess(device("Siemens Healthineers", "Biograph mCT Flow", "VG50C"), index, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Verdict::kAffected);
  out.clear();
  matcher_.assess(device("Siemens Healthineers", "Biograph Vision", "VG70B"), index, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Verdict::kNotAffected);
}

TEST(MatcherHelpers, TargetVersionAndSerialPatterns) {
  EXPECT_EQ(target_version("Upgrade to VC14J."), "VC14J");
  EXPECT_EQ(target_version("Please upgrade to VB10A first, then patch"), "VB10A");
  EXPECT_EQ(target_version("Block port 445"), "");
  EXPECT_TRUE(serial_matches("14???", "14999"));
  EXPECT_FALSE(serial_matches("14???", "1499"));
  EXPECT_TRUE(serial_matches("SN-*", "sn-0042"));
  EXPECT_FALSE(serial_matches("?", ""));
  EXPECT_TRUE(serial_matches("*", ""));
}

}  // namespace
}  // namespace vigie::advisory
