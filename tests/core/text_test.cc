#include "vigie/core/text.h"

#include <gtest/gtest.h>

#include "vigie/core/ids.h"
#include "vigie/core/result.h"

namespace vigie::core {
namespace {

TEST(Utf8, AcceptsValidText) { EXPECT_FALSE(find_invalid_utf8("Bâtiment B – salle 2 日本")); }

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);       // overlong '/'
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);  // surrogate
  EXPECT_EQ(find_invalid_utf8("\xe2\x82"), 0u);       // truncated
}

TEST(Text, TrimAndLower) {
  EXPECT_EQ(trim("  a b\t"), "a b");
  EXPECT_EQ(ascii_lower("AbC-É"), "abc-É");
}

TEST(Ids, UuidsAreVersion4AndDistinct) {
  std::string a = new_uuid();
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, new_uuid());
  EXPECT_EQ(random_hex(16).size(), 32u);
}

TEST(Result, ExitCodesFollowTheConvention) {
  EXPECT_EQ(exit_code({ErrorCode::kInvalidInput, "x", ""}), 1);
  EXPECT_EQ(exit_code({ErrorCode::kUsage, "x", ""}), 2);
  EXPECT_EQ(exit_code({ErrorCode::kIo, "x", ""}), 2);
  EXPECT_EQ((Error{ErrorCode::kInvalidInput, "bad", "f.csv:3"}.to_string()), "f.csv:3: bad");
}

}  // namespace
}  // namespace vigie::core
