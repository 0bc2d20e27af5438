#include "vigie/phi/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include "vigie/phi_tables.h"

namespace vigie::phi {
namespace {

using core::ErrorCode;

// The one table of options: CLI name, CID 7050 code and meaning, Table E.1-1 column.
const std::vector<OptionInfo>& option_table() {
  static const std::vector<OptionInfo> kTable = {
      {Option::kCleanPixelData, "clean-pixel-data", "113101", "Clean Pixel Data Option", ""},
      {Option::kCleanGraphics, "clean-graphics", "113103", "Clean Graphics Option",
       "Clean Graph. Opt."},
      {Option::kCleanStructuredContent, "clean-structured-content", "113104",
       "Clean Structured Content Option", "Clean Struct. Cont. Opt."},
      {Option::kCleanDescriptors, "clean-descriptors", "113105", "Clean Descriptors Option",
       "Clean Desc. Opt."},
      {Option::kRetainLongitudinalFullDates, "retain-full-dates", "113106",
       "Retain Longitudinal Temporal Information Full Dates Option", "Rtn. Long. Full Dates Opt."},
      {Option::kRetainLongitudinalModifiedDates, "retain-modified-dates", "113107",
       "Retain Longitudinal Temporal Information Modified Dates Option",
       "Rtn. Long. Modif. Dates Opt."},
      {Option::kRetainPatientCharacteristics, "retain-patient-characteristics", "113108",
       "Retain Patient Characteristics Option", "Rtn. Pat. Chars. Opt."},
      {Option::kRetainDeviceIdentity, "retain-device-identity", "113109",
       "Retain Device Identity Option", "Rtn. Dev. Id. Opt."},
      {Option::kRetainUids, "retain-uids", "113110", "Retain UIDs Option", "Rtn. UIDs Opt."},
      {Option::kRetainSafePrivate, "retain-safe-private", "113111", "Retain Safe Private Option",
       "Rtn. Safe Priv. Opt."},
      {Option::kRetainInstitutionIdentity, "retain-institution-identity", "113112",
       "Retain Institution Identity Option", "Rtn. Inst. Id. Opt."},
  };
  return kTable;
}

// RFC 4180 records of a trusted, embedded table (or a test's): quoted fields, doubled quotes.
std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::optional<std::uint16_t> hex16(std::string_view s) {
  std::uint16_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size() || s.size() != 4) return std::nullopt;
  return v;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::string safe_key(std::uint16_t group, std::uint8_t element_low, std::string_view creator) {
  return fmt::format("{:04X},{:02X},{}", group, element_low, trim_spaces(creator));
}

Action from_letter(std::string_view code) {
  if (code == "D") return Action::kDummy;
  if (code == "Z") return Action::kZero;
  if (code == "K") return Action::kKeep;
  if (code == "C") return Action::kClean;
  if (code == "U" || code == "U*") return Action::kUid;
  return Action::kRemove;
}

}  // namespace

const std::vector<OptionInfo>& all_options() { return option_table(); }

std::optional<Option> option_from_name(std::string_view name) {
  for (const auto& o : option_table()) {
    if (o.name == name) return o.option;
  }
  return std::nullopt;
}

const OptionInfo& info(Option option) { return option_table().at(static_cast<size_t>(option)); }

core::Status Options::validate() const {
  if (has(Option::kRetainLongitudinalFullDates) && has(Option::kRetainLongitudinalModifiedDates)) {
    return core::fail(ErrorCode::kUsage,
                      "retain-full-dates and retain-modified-dates exclude each other");
  }
  return {};
}

std::vector<Option> Options::list() const {
  std::vector<Option> out;
  for (const auto& o : option_table()) {
    if (has(o.option)) out.push_back(o.option);
  }
  return out;
}

char action_letter(Action a) {
  static constexpr std::array<char, 6> kLetters = {'X', 'Z', 'D', 'K', 'C', 'U'};
  return kLetters.at(static_cast<size_t>(a));
}

std::vector<std::string> split_code(std::string_view code) {
  std::vector<std::string> out;
  while (!code.empty()) {
    size_t slash = code.find('/');
    out.emplace_back(trim_spaces(code.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    code.remove_prefix(slash + 1);
  }
  return out;
}

Action Profile::resolve(const ProfileRow& row, const Options& options) {
  std::optional<Action> chosen;
  for (const auto& o : option_table()) {
    const std::string& code = row.options[static_cast<size_t>(o.option)];
    if (code.empty() || !options.has(o.option)) continue;
    Action a = from_letter(code);
    if (!chosen || a == Action::kClean) chosen = a;
  }
  if (chosen) return *chosen;
  auto codes = split_code(row.basic);
  if (codes.size() == 1) return from_letter(codes.front());
  if (!row.in_standard_iod) return Action::kRemove;
  return from_letter(codes.back());
}

core::Result<Profile> Profile::parse(std::string_view table_e1_1, std::string_view safe_private) {
  Profile p;
  auto records = parse_csv(table_e1_1);
  if (records.empty()) return core::fail(ErrorCode::kInvalidInput, "empty Table E.1-1");
  const auto& header = records.front();
  auto column = [&](std::string_view name) -> std::optional<size_t> {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    return std::nullopt;
  };
  auto tag_col = column("Tag");
  auto basic_col = column("Basic Prof.");
  auto name_col = column("Attribute Name");
  auto retired_col = column("Retd. (from PS3.6)");
  auto iod_col = column("In Std. Comp. IOD (from PS3.3)");
  if (!tag_col || !basic_col || !name_col || !retired_col || !iod_col) {
    return core::fail(ErrorCode::kInvalidInput, "Table E.1-1 lacks a required column",
                      "table_E.1-1:1");
  }
  std::array<std::optional<size_t>, kOptionCount> option_cols{};
  for (const auto& o : option_table()) {
    if (o.table_column.empty()) continue;
    option_cols.at(static_cast<size_t>(o.option)) = column(o.table_column);
    if (!option_cols.at(static_cast<size_t>(o.option))) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("Table E.1-1 lacks the column '{}'", o.table_column),
                        "table_E.1-1:1");
    }
  }
  for (size_t line = 1; line < records.size(); ++line) {
    const auto& r = records[line];
    if (r.size() == 1 && r[0].empty()) continue;
    if (r.size() != header.size()) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("{} fields, the header has {}", r.size(), header.size()),
                        fmt::format("table_E.1-1:{}", line + 1));
    }
    ProfileRow row;
    row.name = r[*name_col];
    row.tag = r[*tag_col];
    row.retired = r[*retired_col] == "Y";
    row.in_standard_iod = r[*iod_col] == "Y";
    row.basic = r[*basic_col];
    for (size_t i = 0; i < option_cols.size(); ++i) {
      if (option_cols.at(i)) row.options[i] = r[*option_cols.at(i)];
    }
    size_t index = p.rows_.size();
    const std::string& t = row.tag;
    if (t.find("gggg is odd") != std::string::npos) {
      p.odd_group_ = index + 1;
    } else if (t == "(50xx,xxxx)") {
      p.curve_ = index + 1;
    } else if (t == "(60xx,3000)") {
      p.overlay_data_ = index + 1;
    } else if (t == "(60xx,4000)") {
      p.overlay_comments_ = index + 1;
    } else {
      auto g = t.size() == 11 ? hex16(std::string_view(t).substr(1, 4)) : std::nullopt;
      auto e = t.size() == 11 ? hex16(std::string_view(t).substr(6, 4)) : std::nullopt;
      if (!g || !e) {
        return core::fail(ErrorCode::kInvalidInput, fmt::format("unreadable tag '{}'", t),
                          fmt::format("table_E.1-1:{}", line + 1));
      }
      p.by_tag_[(std::uint32_t{*g} << 16) | *e] = index;
    }
    p.rows_.push_back(std::move(row));
  }
  if (p.odd_group_ == 0 || p.curve_ == 0 || p.overlay_data_ == 0 || p.overlay_comments_ == 0) {
    return core::fail(ErrorCode::kInvalidInput, "Table E.1-1 lacks a wildcard row");
  }
  auto safe = parse_csv(safe_private);
  for (size_t line = 1; line < safe.size(); ++line) {
    const auto& r = safe[line];
    if (r.size() == 1 && r[0].empty()) continue;
    // "(gggg,xxee)",creator,...
    std::string_view t = r.empty() ? std::string_view() : std::string_view(r[0]);
    auto g = t.size() == 11 ? hex16(t.substr(1, 4)) : std::nullopt;
    auto e = t.size() == 11 && (t.substr(6, 2) == "xx" || t.substr(6, 2) == "XX")
                 ? hex16(fmt::format("00{}", t.substr(8, 2)))
                 : std::nullopt;
    if (r.size() < 2 || !g || !e) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("unreadable private tag '{}'", t),
                        fmt::format("table_E.3.10-1:{}", line + 1));
    }
    p.safe_.insert(safe_key(*g, static_cast<std::uint8_t>(*e), r[1]));
  }
  return p;
}

const Profile& Profile::standard() {
  static const Profile kProfile = [] {
    auto p = parse(phi_tables::table_e1_1_csv(), phi_tables::table_e3_10_1_csv());
    if (!p) std::abort();  // the embedded tables are part of the program, checked by tests
    return std::move(*p);
  }();
  return kProfile;
}

const ProfileRow* Profile::row(std::uint16_t group, std::uint16_t element) const {
  if ((group & 1U) != 0) return &rows_[odd_group_ - 1];
  if ((group & 0xFF00U) == 0x5000U) return &rows_[curve_ - 1];
  if ((group & 0xFF00U) == 0x6000U && element == 0x3000U) return &rows_[overlay_data_ - 1];
  if ((group & 0xFF00U) == 0x6000U && element == 0x4000U) return &rows_[overlay_comments_ - 1];
  auto it = by_tag_.find((std::uint32_t{group} << 16) | element);
  return it == by_tag_.end() ? nullptr : &rows_[it->second];
}

bool Profile::safe_private(std::uint16_t group, std::uint8_t element_low,
                           std::string_view creator) const {
  return safe_.contains(safe_key(group, element_low, creator));
}

std::string_view dummy_value(std::string_view vr) {
  static const std::unordered_map<std::string_view, std::string_view> kDummies = {
      {"AE", "ANONYMOUS"},  {"AS", "000Y"},       {"CS", "ANONYMIZED"},
      {"DA", "19000101"},   {"DS", "0"},          {"DT", "19000101000000"},
      {"IS", "0"},          {"LO", "ANONYMIZED"}, {"LT", "ANONYMIZED"},
      {"PN", "ANONYMIZED"}, {"SH", "ANONYMIZED"}, {"ST", "ANONYMIZED"},
      {"TM", "000000"},     {"UC", "ANONYMIZED"}, {"UR", "urn:anonymized"},
      {"UT", "ANONYMIZED"},
  };
  auto it = kDummies.find(vr);
  return it == kDummies.end() ? std::string_view() : it->second;
}

}  // namespace vigie::phi
