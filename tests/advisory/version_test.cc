#include "vigie/advisory/version.h"

#include <gtest/gtest.h>

namespace vigie::advisory {
namespace {

struct Order {
  Scheme scheme;
  const char* lower;
  const char* higher;
};

TEST(Version, SchemesOrderAsDocumented) {
  const Order cases[] = {
      {Scheme::kGeneric, "1.9", "1.10"},
      {Scheme::kGeneric, "1.0", "1.0.1"},
      {Scheme::kGeneric, "2.0a", "2.0b"},
      {Scheme::kGeneric, "1.0", "1.0a"},
      {Scheme::kGeneric, "14999", "15000"},
      {Scheme::kSemver, "1.0.0-rc.1", "1.0.0"},
      {Scheme::kSemver, "1.0.0-alpha", "1.0.0-alpha.1"},
      {Scheme::kSemver, "1.0.0-alpha.1", "1.0.0-alpha.beta"},
      {Scheme::kSemver, "1.0.0-beta.2", "1.0.0-beta.11"},
      {Scheme::kSemver, "1.9.0", "1.10.0"},
      {Scheme::kVendor, "VB22N", "VB23D"},
      {Scheme::kVendor, "VB23D", "VB23P"},
      {Scheme::kVendor, "VB23", "VB23P"},
      {Scheme::kVendor, "VA70", "VA70A"},
      {Scheme::kVendor, "VA70A", "VB10"},
      {Scheme::kVendor, "VC14G", "VC14J"},
      {Scheme::kVendor, "VC14J", "VC21A"},
      {Scheme::kVendor, "vb11a", "VB11B"},
      {Scheme::kVendor, "VA60A", "VF70B"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.lower) + " < " + c.higher);
    EXPECT_LT(compare_versions(c.scheme, c.lower, c.higher).value(), 0);
    EXPECT_GT(compare_versions(c.scheme, c.higher, c.lower).value(), 0);
  }
  EXPECT_EQ(compare_versions(Scheme::kGeneric, "1.0", "1.0.0").value(), 0);
  EXPECT_EQ(compare_versions(Scheme::kSemver, "1.0.0+build.1", "1.0.0+build.2").value(), 0);
  EXPECT_EQ(compare_versions(Scheme::kVendor, "VB11a", "VB11A").value(), 0);
}

TEST(Version, UnreadableVersionsAreErrors) {
  EXPECT_FALSE(compare_versions(Scheme::kSemver, "1.0", "1.0.0"));
  EXPECT_FALSE(compare_versions(Scheme::kSemver, "01.0.0", "1.0.0"));
  EXPECT_FALSE(compare_versions(Scheme::kGeneric, "---", "1"));
}

TEST(Vers, ParsesAndNormalises) {
  auto r = parse_vers("vers:semver/<2.0.0|>=1.2.3");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->to_vers(), "vers:semver/>=1.2.3|<2.0.0");
  auto v = parse_vers("vers:vendor/ >= VB22N | < VB23P ");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->to_vers(), "vers:vendor/>=VB22N|<VB23P");
  EXPECT_EQ(parse_vers("vers:generic/*")->to_vers(), "vers:generic/*");
  EXPECT_EQ(parse_vers("vers:pypi/1.0%2Bx")->constraints[0].version, "1.0+x");
}

TEST(Vers, RefusesMalformedRanges) {
  for (const char* bad :
       {"generic/1.0", "vers:generic", "vers:Bad!/1", "vers:generic/", "vers:generic/*|1.0",
        "vers:generic/>=1|>=2", "vers:generic/1.0|1.0", "vers:semver/>=1.0", "vers:generic/>="}) {
    EXPECT_FALSE(parse_vers(bad)) << bad;
  }
}

struct Membership {
  const char* range;
  const char* version;
  bool inside;
};

TEST(Vers, ContainmentFollowsTheSpecAlgorithm) {
  const Membership cases[] = {
      {"vers:generic/*", "anything1", true},
      {"vers:generic/>=1.0|<2.0", "1.5", true},
      {"vers:generic/>=1.0|<2.0", "2.0", false},
      {"vers:generic/>=1.0|<2.0", "0.9", false},
      {"vers:generic/<1.0|>=2.0", "0.5", true},
      {"vers:generic/<1.0|>=2.0", "3", true},
      {"vers:generic/<1.0|>=2.0", "1.5", false},
      {"vers:generic/>=1.0|<2.0|!=1.5", "1.5", false},
      {"vers:generic/>=1.0|<2.0|!=1.5", "1.6", true},
      {"vers:generic/1.0|1.2", "1.2", true},
      {"vers:generic/1.0|1.2", "1.1", false},
      {"vers:generic/!=1.0", "1.1", true},
      {"vers:generic/>=1.0|<=1.4|>=2.0|<2.5", "2.2", true},
      {"vers:generic/>=1.0|<=1.4|>=2.0|<2.5", "1.7", false},
      {"vers:vendor/>=VB22N|<VB23P", "VB23D", true},
      {"vers:vendor/>=VB22N|<VB23P", "VB23P", false},
      {"vers:semver/>=1.0.0-rc.1|<1.0.0", "1.0.0-rc.2", true},
  };
  for (const auto& c : cases) {
    auto r = parse_vers(c.range);
    ASSERT_TRUE(r) << c.range << ": " << r.error().to_string();
    auto in = contains(*r, c.version);
    ASSERT_TRUE(in) << c.range << " " << c.version;
    EXPECT_EQ(*in, c.inside) << c.range << " contains " << c.version;
  }
}

struct Text {
  const char* text;
  Scheme scheme;
  const char* vers;
};

TEST(RangeText, ReadsTheFormsOfRealAdvisoriesAndLetters) {
  const Text cases[] = {
      {"<= 4.2", Scheme::kGeneric, "vers:generic/<=4.2"},
      {"< VB23P", Scheme::kVendor, "vers:vendor/<VB23P"},
      {"all versions", Scheme::kGeneric, "vers:generic/*"},
      {"Toutes versions", Scheme::kVendor, "vers:vendor/*"},
      {"prior to 15000", Scheme::kGeneric, "vers:generic/<15000"},
      {"VB11A/B", Scheme::kVendor, "vers:vendor/VB11A|VB11B"},
      {"VA70, VA71, VA72, VB11A/B, VB11M", Scheme::kVendor,
       "vers:vendor/VA70|VA71|VA72|VB11A|VB11B|VB11M"},
      {"VB22N, VB23D/F/G/H/J", Scheme::kVendor, "vers:vendor/VB22N|VB23D|VB23F|VB23G|VB23H|VB23J"},
      {"6.6x (VF70x)", Scheme::kGeneric, "vers:generic/>=6.6|<6.7"},
      {"VF70x", Scheme::kVendor, "vers:vendor/>=VF70|<VF71"},
      {"9.x (with Wireless Battery Modules >= 22D19 | <= v22D28)", Scheme::kGeneric,
       "vers:generic/>=9|<10"},
      {"< B.06.18", Scheme::kGeneric, "vers:generic/<B.06.18"},
      {"VB10 and later", Scheme::kVendor, "vers:vendor/>=VB10"},
      {"from 2.0 to 2.4", Scheme::kGeneric, "vers:generic/>=2.0|<=2.4"},
      {"between 1.1 and 1.3", Scheme::kGeneric, "vers:generic/>=1.1|<=1.3"},
      {"up to version 3.1", Scheme::kGeneric, "vers:generic/<=3.1"},
      {"vers:semver/>=1.0.0", Scheme::kGeneric, "vers:semver/>=1.0.0"},
  };
  for (const auto& c : cases) {
    auto r = parse_range_text(c.text, c.scheme);
    if (std::string(c.vers).empty()) {
      EXPECT_FALSE(r) << c.text;
      continue;
    }
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(r->to_vers(), c.vers) << c.text;
  }
}

TEST(RangeText, UnreadableTextIsAnErrorNotAnEmptyRange) {
  for (const char* bad : {"", "see the table below", "VB23D/ /F", "<", "versions affected",
                          "v1|>=3", "1.0\xff", "antérieur"}) {
    auto r = parse_range_text(bad, Scheme::kVendor);
    EXPECT_FALSE(r) << bad;
  }
}

TEST(RangeText, SiemensLetterCasesMatch) {
  auto affected = parse_range_text("VB22N, VB23D/F/G/H/J", Scheme::kVendor).value();
  EXPECT_TRUE(contains(affected, "VB23D").value());
  EXPECT_FALSE(contains(affected, "VB23P").value());
  auto serial = parse_range_text("prior to 15000", Scheme::kGeneric).value();
  EXPECT_TRUE(contains(serial, "14999").value());
  EXPECT_FALSE(contains(serial, "15000").value());
}

}  // namespace
}  // namespace vigie::advisory

namespace vigie::advisory {
namespace {

// version_key() must agree with compare_versions() == 0: the matcher relies on it.
TEST(VersionKey, EqualKeysExactlyWhenVersionsCompareEqual) {
  const std::vector<std::string> versions = {
      "VB23P", "vb23p", "VB23",  "VB23P1", "VB023P", "1.0",  "1.0.0",  "1",      "1.0a", "01.00",
      "0",     "0.0.0", "6.5.4", "6.5.04", "VA70A",  "VA70", "2.0-rc", "2.0.rc", "a",    "1..0"};
  for (Scheme scheme : {Scheme::kGeneric, Scheme::kVendor}) {
    for (const auto& a : versions) {
      for (const auto& b : versions) {
        auto c = compare_versions(scheme, a, b);
        ASSERT_TRUE(c);
        EXPECT_EQ(*c == 0, version_key(scheme, a) == version_key(scheme, b))
            << to_string(scheme) << " " << a << " " << b;
      }
    }
  }
  EXPECT_EQ(version_key(Scheme::kGeneric, "--"), "");
}

}  // namespace
}  // namespace vigie::advisory
