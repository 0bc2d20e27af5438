// A streaming RFC 4180 CSV reader: constant memory whatever the file size, ',' or ';'
// detected from the header line, quoted fields with doubled quotes and embedded newlines,
// CRLF or LF, a UTF-8 BOM skipped. Every error names file:line:column.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/file.h"
#include "vigie/core/result.h"

namespace vigie::core {

struct CsvLimits {
  size_t max_record_bytes = 1 << 20;
  size_t max_fields = 256;
};

class CsvReader {
 public:
  static Result<CsvReader> open(const std::filesystem::path& path, CsvLimits limits = {});
  CsvReader(CsvReader&&) noexcept;
  CsvReader& operator=(CsvReader&&) noexcept;
  ~CsvReader();

  // Reads the next record. The views stay valid until the next call. Returns false at the end.
  Result<bool> next(std::vector<std::string_view>& fields);

  // The physical line where the last record read began (1-based).
  [[nodiscard]] size_t line() const { return record_line_; }
  [[nodiscard]] char delimiter() const { return delimiter_; }
  // Bytes consumed so far (for progress).
  [[nodiscard]] size_t offset() const { return consumed_; }
  [[nodiscard]] const std::string& file_name() const { return name_; }

 private:
  CsvReader() = default;
  bool fill();
  Result<void> detect_delimiter();

  FilePtr file_;
  std::string name_;
  CsvLimits limits_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  char delimiter_ = ',';
  size_t line_ = 1;
  size_t record_line_ = 0;
  size_t consumed_ = 0;
  std::string record_;
  std::vector<size_t> bounds_;
};

}  // namespace vigie::core
