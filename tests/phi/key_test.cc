#include "vigie/phi/key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "test_support.h"

namespace vigie::phi {
namespace {

TEST(Key, UidsAreStableValidAndKeyed) {
  Key a = Key::from_passphrase("hospital A");
  Key b = Key::from_passphrase("hospital B");
  const std::string uid = "1.2.840.113619.2.1.1.322987881.621.736170080.681";
  EXPECT_EQ(a.map_uid(uid), a.map_uid(uid));
  EXPECT_NE(a.map_uid(uid), b.map_uid(uid));
  EXPECT_NE(a.map_uid(uid), a.map_uid(uid + "1"));
  static const std::regex kUid(R"(2\.25\.(0|[1-9][0-9]*))");
  for (int i = 0; i < 200; ++i) {
    std::string mapped = a.map_uid(uid + "." + std::to_string(i));
    EXPECT_TRUE(std::regex_match(mapped, kUid)) << mapped;
    EXPECT_LE(mapped.size(), 64U);
  }
}

TEST(Key, DateOffsetsArePerPatientAndBounded) {
  Key a = Key::from_passphrase("hospital A");
  EXPECT_EQ(a.date_offset_days("p1"), a.date_offset_days("p1"));
  for (int i = 0; i < 100; ++i) {
    int d = a.date_offset_days("patient " + std::to_string(i));
    EXPECT_GE(d, 1);
    EXPECT_LE(d, 3652);
  }
}

TEST(Key, CreatedOnceWithMode0600AndReloaded) {
  vigie::testing::TempDir dir;
  auto first = load_or_create_key(dir.path());
  ASSERT_TRUE(first) << first.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(key_path(dir.path()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  auto again = load_or_create_key(dir.path());
  ASSERT_TRUE(again);
  EXPECT_EQ(first->map_uid("1.2.3"), again->map_uid("1.2.3"));
}

TEST(Key, KeyReadableByOthersIsRefused) {
  vigie::testing::TempDir dir;
  ASSERT_TRUE(load_or_create_key(dir.path()));
  ::chmod(key_path(dir.path()).c_str(), 0644);
  auto key = load_or_create_key(dir.path());
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("readable by others"), std::string::npos);
}

TEST(Key, CorruptKeyIsRefusedNamingTheFile) {
  vigie::testing::TempDir dir;
  ASSERT_TRUE(load_or_create_key(dir.path()));
  vigie::testing::write_file(key_path(dir.path()), "not hex\n");
  ::chmod(key_path(dir.path()).c_str(), 0600);
  auto key = load_or_create_key(dir.path());
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().where, key_path(dir.path()).string());
}

}  // namespace
}  // namespace vigie::phi
