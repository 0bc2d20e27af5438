#include "vigie/core/time.h"

#include <gtest/gtest.h>

namespace vigie::core {
namespace {

TEST(Time, FormatsUtcIso8601) {
  auto t = parse_utc("2017-07-01T12:30:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_utc(*t), "2017-07-01T12:30:05Z");
  EXPECT_EQ(format_utc(*t + std::chrono::milliseconds(7)), "2017-07-01T12:30:05.007Z");
}

TEST(Time, ConvertsOffsetsToUtc) {
  auto t = parse_utc("2023-09-15T10:00:00+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_utc(*t), "2023-09-15T08:00:00Z");
}

TEST(Time, DateOnlyIsMidnightUtc) {
  EXPECT_EQ(format_utc(*parse_utc("2024-02-29")), "2024-02-29T00:00:00Z");
}

TEST(Time, RefusesBadDatesAndMissingZone) {
  EXPECT_FALSE(parse_utc("2023-02-29"));
  EXPECT_FALSE(parse_utc("2023-01-01T10:00:00"));
  EXPECT_FALSE(parse_utc("yesterday"));
  EXPECT_FALSE(parse_utc("2023-01-01T25:00:00Z"));
}

TEST(Time, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(*parse_utc("2026-01-01T00:00:00Z"));
  auto before = clock.now();
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(clock.now() - before, std::chrono::seconds(30));
}

}  // namespace
}  // namespace vigie::core
