#include "vigie/core/csv.h"

#include <fmt/format.h>

#include <cstring>

namespace vigie::core {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr int kEof = -1;

}  // namespace

CsvReader::CsvReader(CsvReader&&) noexcept = default;
CsvReader& CsvReader::operator=(CsvReader&&) noexcept = default;
CsvReader::~CsvReader() = default;

Result<CsvReader> CsvReader::open(const std::filesystem::path& path, CsvLimits limits) {
  CsvReader reader;
  reader.name_ = path.string();
  reader.limits_ = limits;
  reader.file_ = open_file(path, "rb");
  if (!reader.file_) {
    return fail(ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)), reader.name_);
  }
  reader.buf_.resize(kChunk);
  reader.fill();
  if (reader.end_ >= 3 && std::memcmp(reader.buf_.data(), "\xEF\xBB\xBF", 3) == 0) {
    reader.pos_ = 3;
  }
  VIGIE_TRY(reader.detect_delimiter());
  return reader;
}

bool CsvReader::fill() {
  if (eof_) return false;
  size_t keep = end_ - pos_;
  if (keep > 0 && pos_ > 0) std::memmove(buf_.data(), buf_.data() + pos_, keep);
  pos_ = 0;
  end_ = keep;
  size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_.get());
  end_ += n;
  if (n == 0) eof_ = true;
  return n > 0;
}

Result<void> CsvReader::detect_delimiter() {
  // Count candidate delimiters on the header line, outside quotes. The header is assumed to
  // fit in the first chunk (it is bounded by max_record_bytes anyway).
  size_t commas = 0;
  size_t semicolons = 0;
  bool quoted = false;
  for (size_t i = pos_; i < end_; ++i) {
    char c = buf_[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    if (c == ',') ++commas;
    if (c == ';') ++semicolons;
  }
  delimiter_ = semicolons > commas ? ';' : ',';
  return {};
}

Result<bool> CsvReader::next(std::vector<std::string_view>& fields) {
  fields.clear();
  record_.clear();
  bounds_.clear();
  size_t col = 1;
  auto peek = [&]() -> int {
    if (pos_ == end_ && !fill()) return kEof;
    return static_cast<unsigned char>(buf_[pos_]);
  };
  auto err = [&](std::string_view why) {
    return fail(ErrorCode::kInvalidInput, std::string(why),
                fmt::format("{}:{}:{}", name_, line_, col));
  };

  // Skip empty lines between records.
  for (int c = peek(); c == '\n' || c == '\r'; c = peek()) {
    ++pos_;
    ++consumed_;
    if (c == '\n') ++line_;
  }
  if (peek() == kEof) return false;
  record_line_ = line_;

  while (true) {
    if (bounds_.size() / 2 >= limits_.max_fields) {
      return err(fmt::format("more than {} fields in a record", limits_.max_fields));
    }
    bounds_.push_back(record_.size());
    int c = peek();
    bool record_done = false;
    if (c == '"') {
      ++pos_, ++consumed_, ++col;
      while (true) {
        c = peek();
        if (c == kEof) {
          return fail(ErrorCode::kInvalidInput, "quoted field is never closed",
                      fmt::format("{}:{}", name_, record_line_));
        }
        ++pos_, ++consumed_, ++col;
        if (c == '"') {
          if (peek() == '"') {
            ++pos_, ++consumed_, ++col;
            record_ += '"';
            continue;
          }
          break;
        }
        if (c == '\n') ++line_, col = 1;
        record_ += static_cast<char>(c);
        if (record_.size() > limits_.max_record_bytes) return err("record too long");
      }
      c = peek();
      if (c != kEof && c != delimiter_ && c != '\n' && c != '\r') {
        return err("unexpected character after a closing quote");
      }
    } else {
      // Unquoted field: copy up to the delimiter or the end of line in one block.
      while (true) {
        if (pos_ == end_ && !fill()) break;
        const char* start = buf_.data() + pos_;
        const char* stop = buf_.data() + end_;
        const char* p = start;
        while (p != stop && *p != delimiter_ && *p != '\n' && *p != '\r') ++p;
        auto n = static_cast<size_t>(p - start);
        record_.append(start, n);
        pos_ += n, consumed_ += n, col += n;
        if (record_.size() > limits_.max_record_bytes) return err("record too long");
        if (p != stop) break;
      }
    }
    bounds_.push_back(record_.size());
    c = peek();
    if (c == delimiter_) {
      ++pos_, ++consumed_, ++col;
      continue;
    }
    if (c == '\r') {
      ++pos_, ++consumed_;
      if (peek() == '\n') ++pos_, ++consumed_;
      ++line_;
      record_done = true;
    } else if (c == '\n') {
      ++pos_, ++consumed_;
      ++line_;
      record_done = true;
    } else {
      record_done = true;  // end of file
    }
    if (record_done) break;
  }
  fields.reserve(bounds_.size() / 2);
  for (size_t i = 0; i + 1 < bounds_.size(); i += 2) {
    fields.emplace_back(record_.data() + bounds_[i], bounds_[i + 1] - bounds_[i]);
  }
  return true;
}

}  // namespace vigie::core
