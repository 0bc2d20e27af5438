#include "vigie/core/csv.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vigie::core {
namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text, char* delimiter = nullptr) {
  testing::TempDir dir;
  testing::write_file(dir / "f.csv", text);
  auto reader = CsvReader::open(dir / "f.csv");
  EXPECT_TRUE(reader);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string_view> fields;
  while (true) {
    auto got = reader->next(fields);
    EXPECT_TRUE(got) << got.error().to_string();
    if (!got || !*got) break;
    rows.emplace_back(fields.begin(), fields.end());
  }
  if (delimiter != nullptr) *delimiter = reader->delimiter();
  return rows;
}

TEST(Csv, DetectsCommaAndSemicolon) {
  char d = 0;
  auto rows = read_all("a;b;c\n1;2,5;3\n", &d);
  EXPECT_EQ(d, ';');
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "2,5");
  read_all("a,b\n1,2\n", &d);
  EXPECT_EQ(d, ',');
}

TEST(Csv, QuotedFieldsWithDoubledQuotesAndNewlines) {
  auto rows = read_all("a,b\r\n\"x, \"\"y\"\"\",\"line1\nline2\"\r\nlast,\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "x, \"y\"");
  EXPECT_EQ(rows[1][1], "line1\nline2");
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last", ""}));
}

TEST(Csv, EmptyTrailingFieldAndNoFinalNewline) {
  auto rows = read_all("a,b\n1,");
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[1].size(), 2u);
  EXPECT_EQ(rows[1][1], "");
}

TEST(Csv, SkipsBomAndBlankLines) {
  auto rows = read_all("\xEF\xBB\xBFvendor\n\nSiemens\n\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "vendor");
}

TEST(Csv, LineNumbersCountEmbeddedNewlines) {
  testing::TempDir dir;
  testing::write_file(dir / "f.csv", "h\n\"a\nb\"\nc\n");
  auto reader = CsvReader::open(dir / "f.csv");
  ASSERT_TRUE(reader);
  std::vector<std::string_view> f;
  ASSERT_TRUE(*reader->next(f));
  ASSERT_TRUE(*reader->next(f));
  EXPECT_EQ(reader->line(), 2u);
  ASSERT_TRUE(*reader->next(f));
  EXPECT_EQ(reader->line(), 4u);
}

TEST(Csv, UnclosedQuoteIsAnErrorWithTheRecordLine) {
  testing::TempDir dir;
  testing::write_file(dir / "f.csv", "h\nok\n\"never closed\n");
  auto reader = CsvReader::open(dir / "f.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*reader->next(f));
  ASSERT_TRUE(*reader->next(f));
  auto got = reader->next(f);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().where, (dir / "f.csv").string() + ":3");
}

TEST(Csv, CharacterAfterClosingQuoteIsAnError) {
  testing::TempDir dir;
  testing::write_file(dir / "f.csv", "a,b\n\"x\"y,2\n");
  auto reader = CsvReader::open(dir / "f.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*reader->next(f));
  auto got = reader->next(f);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().where, (dir / "f.csv").string() + ":2:4");
}

TEST(Csv, RecordsCrossingTheReadChunkStayWhole) {
  std::string text = "a,b\n";
  std::string cell(700, 'x');
  for (int i = 0; i < 3000; ++i) text += cell + "," + std::to_string(i) + "\n";  // ~2 MiB
  auto rows = read_all(text);
  ASSERT_EQ(rows.size(), 3001u);
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i][0], cell) << i;
    ASSERT_EQ(rows[i][1], std::to_string(i - 1));
  }
}

TEST(Csv, OverlongRecordIsRefused) {
  testing::TempDir dir;
  testing::write_file(dir / "f.csv", "a\n" + std::string(2 << 20, 'x') + "\n");
  auto reader = CsvReader::open(dir / "f.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*reader->next(f));
  EXPECT_FALSE(reader->next(f));
}

TEST(Csv, MissingFileIsAnIoError) {
  auto reader = CsvReader::open("/nonexistent/x.csv");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace vigie::core
