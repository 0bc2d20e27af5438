#include "vigie/phi/profile.h"

#include <gtest/gtest.h>

namespace vigie::phi {
namespace {

const ProfileRow& row_of(std::uint16_t g, std::uint16_t e) {
  const ProfileRow* row = Profile::standard().row(g, e);
  EXPECT_NE(row, nullptr) << std::hex << g << "," << e;
  return *row;
}

Options with(std::initializer_list<Option> list) {
  Options o;
  for (auto x : list) o.set(x);
  return o;
}

TEST(Profile, EmbeddedTableHasEveryRowOf2023b) {
  EXPECT_EQ(Profile::standard().size(), 611U);
  EXPECT_EQ(row_of(0x0010, 0x0010).name, "Patient's Name");
  EXPECT_EQ(row_of(0x0010, 0x0010).basic, "Z");
}

TEST(Profile, WildcardRowsCoverOddGroupsCurvesAndOverlays) {
  EXPECT_NE(row_of(0x0029, 0x1010).tag.find("odd"), std::string::npos);
  EXPECT_EQ(row_of(0x5002, 0x3000).tag, "(50xx,xxxx)");
  EXPECT_EQ(row_of(0x6000, 0x3000).tag, "(60xx,3000)");
  EXPECT_EQ(row_of(0x601E, 0x4000).tag, "(60xx,4000)");
  EXPECT_EQ(Profile::standard().row(0x6000, 0x0010), nullptr);  // Overlay Rows: not listed
  EXPECT_EQ(Profile::standard().row(0x0028, 0x0010), nullptr);  // Rows: kept
}

struct ResolveCase {
  std::uint16_t group;
  std::uint16_t element;
  std::vector<Option> options;
  Action expected;
};

class ResolveTest : public ::testing::TestWithParam<ResolveCase> {};

TEST_P(ResolveTest, CompoundCodesAndOptionsResolvePerTheStandard) {
  const auto& c = GetParam();
  Options o;
  for (auto x : c.options) o.set(x);
  EXPECT_EQ(action_letter(Profile::resolve(row_of(c.group, c.element), o)),
            action_letter(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveTest,
    ::testing::Values(
        // Plain codes.
        ResolveCase{0x0010, 0x0010, {}, Action::kZero},   // Patient's Name Z
        ResolveCase{0x0008, 0x0018, {}, Action::kUid},    // SOP Instance UID U
        ResolveCase{0x0008, 0x0080, {}, Action::kDummy},  // Institution Name X/Z/D: D
        // X/Z in a standard IOD: Z keeps a Type 2 attribute present.
        ResolveCase{0x0008, 0x0022, {}, Action::kZero},  // Acquisition Date X/Z
        // X/Z/D in a standard IOD: D (Type 1 safe).
        ResolveCase{0x0008, 0x002A, {}, Action::kDummy},  // Acquisition DateTime X/Z/D
        // X/D: D.
        ResolveCase{0x0018, 0x1400, {}, Action::kDummy},  // Acq. Device Processing Descr. X/D
        // X/Z/U*: the sequence is kept and its UIDs replaced.
        ResolveCase{0x0008, 0x1140, {}, Action::kUid},  // Referenced Image Sequence
        // Retain options turn codes into K, clean options into C.
        ResolveCase{0x0008, 0x0018, {Option::kRetainUids}, Action::kKeep},
        ResolveCase{0x0008, 0x0022, {Option::kRetainLongitudinalFullDates}, Action::kKeep},
        ResolveCase{0x0008, 0x0022, {Option::kRetainLongitudinalModifiedDates}, Action::kClean},
        ResolveCase{0x0018, 0x1000, {Option::kRetainDeviceIdentity}, Action::kKeep},
        ResolveCase{0x0008, 0x1030, {Option::kCleanDescriptors}, Action::kClean},
        ResolveCase{0x0040, 0xA730, {}, Action::kDummy},  // Content Sequence D
        ResolveCase{0x0040, 0xA730, {Option::kCleanStructuredContent}, Action::kClean},
        ResolveCase{0x6000, 0x3000, {}, Action::kRemove},
        ResolveCase{0x6000, 0x3000, {Option::kCleanGraphics}, Action::kClean},
        ResolveCase{0x0011, 0x1010, {}, Action::kRemove},
        ResolveCase{0x0011, 0x1010, {Option::kRetainSafePrivate}, Action::kClean},
        // Retain and clean both apply (Allergies: Rtn Pat Chars C, Clean Desc C): C.
        ResolveCase{0x0010,
                    0x2110,
                    {Option::kRetainPatientCharacteristics, Option::kCleanDescriptors},
                    Action::kClean}));

TEST(Profile, InstitutionNameFollowsItsTableRow) {
  // Whatever the row says in 2023b, the resolution is one of its alternatives.
  const auto& row = row_of(0x0008, 0x0080);
  auto codes = split_code(row.basic);
  Action a = Profile::resolve(row, Options());
  std::string letter(1, action_letter(a));
  EXPECT_NE(std::find(codes.begin(), codes.end(), letter), codes.end()) << row.basic;
  EXPECT_EQ(Profile::resolve(row, with({Option::kRetainInstitutionIdentity})), Action::kKeep);
}

TEST(Profile, AttributesInNoStandardIodTakeXForCompoundCodes) {
  for (const auto& row : Profile::standard().rows()) {
    if (row.in_standard_iod || split_code(row.basic).size() < 2) continue;
    EXPECT_EQ(Profile::resolve(row, Options()), Action::kRemove) << row.name;
  }
}

TEST(Profile, SafePrivateListIsKeyedByGroupElementAndCreator) {
  const auto& p = Profile::standard();
  EXPECT_TRUE(p.safe_private(0x2001, 0x0A, "Philips Imaging DD 001"));
  EXPECT_TRUE(p.safe_private(0x2001, 0x0A, "Philips Imaging DD 001 "));  // padded
  EXPECT_FALSE(p.safe_private(0x2001, 0x0A, "SOMEONE ELSE"));
  EXPECT_FALSE(p.safe_private(0x4321, 0x0A, "Philips Imaging DD 001"));
}

TEST(Profile, OptionsKnowTheirCodesAndExclusions) {
  EXPECT_EQ(info(Option::kRetainSafePrivate).code, "113111");
  EXPECT_EQ(option_from_name("clean-descriptors"), Option::kCleanDescriptors);
  EXPECT_FALSE(option_from_name("nonsense"));
  EXPECT_TRUE(Options().validate());
  EXPECT_FALSE(
      with({Option::kRetainLongitudinalFullDates, Option::kRetainLongitudinalModifiedDates})
          .validate());
}

TEST(Profile, MalformedTablesAreRefusedWithTheirLine) {
  auto p = Profile::parse("Attribute Name,Tag\nx,y\n", "");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().where.find("table_E.1-1:1"), std::string::npos);
}

TEST(Profile, DummyValuesFitTheirVr) {
  EXPECT_EQ(dummy_value("DA"), "19000101");
  EXPECT_EQ(dummy_value("PN"), "ANONYMIZED");
  EXPECT_LE(dummy_value("CS").size(), 16U);
  EXPECT_TRUE(dummy_value("SQ").empty());
}

}  // namespace
}  // namespace vigie::phi
