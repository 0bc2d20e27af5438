// The mandatory tests of CSAF 2.0 on /document: language tags (6.1.12), translator (6.1.15),
// the revision history and document version (6.1.14, 6.1.16 to 6.1.22, 6.1.30), the
// prohibited category names (6.1.26) and translation (6.1.28).
//
// Versions follow version_t: integer versioning ("0", "1", "2"...) or semantic versioning
// ("1.0.0-rc.1+build.5"). To order a revision history that mixes both (which 6.1.30 reports),
// an integer N ranks as N.0.0. Dates are RFC 3339 date-times compared as instants, so time
// zones do not matter. A test that needs to order the revision history is skipped when an item
// has a number or date that does not parse: the schema check reports those.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "mandatory_support.h"
#include "vigie/advisory/validate.h"

namespace vigie::advisory::mandatory_detail {

using nlohmann::json;

namespace {

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A number without leading zeros ("0" itself is fine).
bool is_numeric_identifier(std::string_view text) {
  return is_digits(text) && (text.size() == 1 || text.front() != '0');
}

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
}

// Dot-separated non-empty identifiers of [0-9A-Za-z-]; numeric ones without leading zeros
// when `numbers_strict` (pre-release), any digits otherwise (build metadata).
std::optional<std::vector<std::string_view>> split_identifiers(std::string_view text,
                                                               bool numbers_strict) {
  std::vector<std::string_view> identifiers;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(text.find('.', start), text.size());
    const std::string_view identifier = text.substr(start, end - start);
    if (identifier.empty() ||
        !std::all_of(identifier.begin(), identifier.end(), is_identifier_char)) {
      return std::nullopt;
    }
    if (numbers_strict && is_digits(identifier) && !is_numeric_identifier(identifier)) {
      return std::nullopt;
    }
    identifiers.push_back(identifier);
    if (end == text.size()) break;
    start = end + 1;
  }
  return identifiers;
}

struct Version {
  bool integer = false;  // integer versioning
  std::string_view major, minor = "0", patch = "0";
  std::vector<std::string_view> prerelease;
};

std::optional<Version> parse_version(std::string_view text) {
  Version version;
  if (is_numeric_identifier(text)) {
    version.integer = true;
    version.major = text;
    return version;
  }
  std::string_view core = text;
  if (const size_t plus = core.find('+'); plus != std::string_view::npos) {
    if (!split_identifiers(core.substr(plus + 1), false)) return std::nullopt;
    core = core.substr(0, plus);
  }
  if (const size_t dash = core.find('-'); dash != std::string_view::npos) {
    auto prerelease = split_identifiers(core.substr(dash + 1), true);
    if (!prerelease) return std::nullopt;
    version.prerelease = std::move(*prerelease);
    core = core.substr(0, dash);
  }
  const size_t first_dot = core.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : core.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return std::nullopt;
  version.major = core.substr(0, first_dot);
  version.minor = core.substr(first_dot + 1, second_dot - first_dot - 1);
  version.patch = core.substr(second_dot + 1);
  if (!is_numeric_identifier(version.major) || !is_numeric_identifier(version.minor) ||
      !is_numeric_identifier(version.patch)) {
    return std::nullopt;
  }
  return version;
}

int compare_numbers(std::string_view a, std::string_view b) {  // no leading zeros
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

// Semantic versioning precedence (build metadata ignored).
int compare_versions(const Version& a, const Version& b) {
  for (auto [x, y] : {std::pair{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}}) {
    if (int c = compare_numbers(x, y); c != 0) return c;
  }
  if (a.prerelease.empty() != b.prerelease.empty()) return a.prerelease.empty() ? 1 : -1;
  for (size_t i = 0; i < std::min(a.prerelease.size(), b.prerelease.size()); ++i) {
    const std::string_view x = a.prerelease[i], y = b.prerelease[i];
    const bool x_numeric = is_digits(x), y_numeric = is_digits(y);
    int c = 0;
    if (x_numeric && y_numeric) {
      c = compare_numbers(x, y);
    } else if (x_numeric != y_numeric) {
      c = x_numeric ? -1 : 1;
    } else {
      c = x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
    }
    if (c != 0) return c;
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

// An RFC 3339 date-time as seconds since 1970 (UTC) and nanoseconds.
struct Instant {
  int64_t seconds;
  int64_t nanoseconds;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const Instant&) const = default;
};

int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

std::optional<Instant> parse_date_time(std::string_view text) {
  auto number = [&](size_t at, size_t length) -> std::optional<int64_t> {
    if (at + length > text.size() || !is_digits(text.substr(at, length))) return std::nullopt;
    int64_t value = 0;
    for (char c : text.substr(at, length)) value = value * 10 + (c - '0');
    return value;
  };
  auto separator = [&](size_t at, std::string_view allowed) {
    return at < text.size() && allowed.find(text[at]) != std::string_view::npos;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !separator(4, "-") ||
      !separator(7, "-") || !separator(10, "Tt ") || !separator(13, ":") || !separator(16, ":")) {
    return std::nullopt;
  }
  constexpr std::array<int, 12> kDaysInMonth = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1 || *day > kDaysInMonth[*month - 1] || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t nanoseconds = 0;
  if (separator(at, ".")) {
    ++at;
    int digits = 0;
    while (at < text.size() && is_digits(text.substr(at, 1))) {
      if (digits < 9) {
        nanoseconds = nanoseconds * 10 + (text[at] - '0');
        ++digits;
      }
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanoseconds *= 10;
  }
  int64_t offset_seconds = 0;
  if (separator(at, "Zz") && at + 1 == text.size()) {
    offset_seconds = 0;
  } else if (separator(at, "+-") && at + 6 == text.size() && separator(at + 3, ":")) {
    const auto offset_hours = number(at + 1, 2), offset_minutes = number(at + 4, 2);
    if (!offset_hours || !offset_minutes || *offset_hours > 23 || *offset_minutes > 59) {
      return std::nullopt;
    }
    offset_seconds = (*offset_hours * 60 + *offset_minutes) * 60 * (text[at] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const int64_t seconds = days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 +
                          *minute * 60 + *second - offset_seconds;
  return Instant{seconds, nanoseconds};
}

struct Revision {
  size_t index;
  const std::string* number;  // null when not a string
  std::optional<Version> version;
  std::optional<Instant> date;
  [[nodiscard]] std::string pointer() const {
    return child_pointer("/document/tracking/revision_history", index) + "/number";
  }
};

class TrackingChecker {
 public:
  TrackingChecker(const json& document, std::vector<ValidationIssue>& out) : out_(out) {
    const json* doc = find_member(document, "document");
    tracking_ = doc != nullptr ? find_member(*doc, "tracking") : nullptr;
    if (tracking_ == nullptr) return;
    status_ = find_string(*tracking_, "status");
    version_text_ = find_string(*tracking_, "version");
    if (version_text_ != nullptr) version_ = parse_version(*version_text_);
    const json* history = find_array(*tracking_, "revision_history");
    if (history == nullptr) return;
    for (size_t i = 0; i < history->size(); ++i) {
      Revision revision{i, find_string((*history)[i], "number"), std::nullopt, std::nullopt};
      if (revision.number != nullptr) revision.version = parse_version(*revision.number);
      if (const std::string* date = find_string((*history)[i], "date")) {
        revision.date = parse_date_time(*date);
      }
      all_ordered_ = all_ordered_ && revision.version && revision.date;
      revisions_.push_back(std::move(revision));
    }
    if (all_ordered_) {
      by_date_ = revisions_;
      std::stable_sort(by_date_.begin(), by_date_.end(), [](const Revision& a, const Revision& b) {
        if (*a.date != *b.date) return *a.date < *b.date;
        return compare_versions(*a.version, *b.version) < 0;
      });
    }
  }

  void run() {
    if (tracking_ == nullptr) return;
    check_sorted();
    check_latest_version();
    check_draft_status();
    check_released_history();
    check_prerelease_history();
    check_non_draft_version();
    check_missing_items();
    check_duplicate_numbers();
    check_mixed_versioning();
  }

 private:
  [[nodiscard]] bool released() const {
    return status_ != nullptr && (*status_ == "final" || *status_ == "interim");
  }

  // 6.1.14: sorted by date, the numbers must not go down.
  void check_sorted() {
    const Revision* highest = nullptr;
    for (const Revision& revision : by_date_) {
      if (highest != nullptr && compare_versions(*revision.version, *highest->version) < 0) {
        out_.push_back({"6.1.14", revision.pointer(),
                        fmt::format("revision {} is dated after revision {} but has a lower number",
                                    *revision.number, *highest->number)});
      }
      if (highest == nullptr || compare_versions(*revision.version, *highest->version) > 0) {
        highest = &revision;
      }
    }
  }

  // 6.1.16: build metadata never counts; a pre-release part does not count in a draft.
  void check_latest_version() {
    if (by_date_.empty() || version_text_ == nullptr || status_ == nullptr) return;
    auto normalize = [&](std::string_view version) {
      version = version.substr(0, version.find('+'));
      if (*status_ == "draft") version = version.substr(0, version.find('-'));
      return version;
    };
    const Revision& latest = by_date_.back();
    if (normalize(*latest.number) == normalize(*version_text_)) return;
    out_.push_back({"6.1.16", "/document/tracking/version",
                    fmt::format("document version is {} but the latest revision by date has "
                                "number {}",
                                *version_text_, *latest.number)});
  }

  // 6.1.17.
  void check_draft_status() {
    if (status_ == nullptr || *status_ == "draft" || !version_) return;
    if (version_->major != "0" && version_->prerelease.empty()) return;
    out_.push_back({"6.1.17", "/document/tracking/status",
                    fmt::format("document status is {} but version {} is a draft version (major "
                                "version 0 or a pre-release)",
                                *status_, *version_text_)});
  }

  // 6.1.18.
  void check_released_history() {
    if (!released()) return;
    for (const Revision& revision : revisions_) {
      if (!revision.version || revision.version->major != "0") continue;
      out_.push_back({"6.1.18", revision.pointer(),
                      fmt::format("document status is {} but the revision history has number {}",
                                  *status_, *revision.number)});
    }
  }

  // 6.1.19.
  void check_prerelease_history() {
    for (const Revision& revision : revisions_) {
      if (!revision.version || revision.version->prerelease.empty()) continue;
      out_.push_back({"6.1.19", revision.pointer(),
                      fmt::format("revision number {} has a pre-release part", *revision.number)});
    }
  }

  // 6.1.20.
  void check_non_draft_version() {
    if (!released() || !version_ || version_->prerelease.empty()) return;
    out_.push_back({"6.1.20", "/document/tracking/version",
                    fmt::format("document status is {} but version {} has a pre-release part",
                                *status_, *version_text_)});
  }

  // 6.1.21: sorted by date, the history starts at (major) version 0 or 1 and skips no
  // (major) version.
  void check_missing_items() {
    if (by_date_.empty()) return;
    std::vector<std::pair<uint64_t, const Revision*>> majors;  // each major, first by date
    std::unordered_map<uint64_t, bool> seen;
    for (const Revision& revision : by_date_) {
      if (revision.version->major.size() > 18) return;  // beyond any real history
      uint64_t major = 0;
      for (char c : revision.version->major) major = major * 10 + static_cast<uint64_t>(c - '0');
      if (seen.emplace(major, true).second) majors.emplace_back(major, &revision);
    }
    const Revision& first = by_date_.front();
    if (majors.front().first > 1) {
      out_.push_back({"6.1.21", first.pointer(),
                      fmt::format("the earliest revision by date has number {}; the history must "
                                  "start with version 0 or 1",
                                  *first.number)});
    }
    std::sort(majors.begin(), majors.end());
    for (size_t i = 1; i < majors.size(); ++i) {
      const uint64_t previous = majors[i - 1].first, next = majors[i].first;
      if (next == previous + 1) continue;
      const std::string missing = next == previous + 2
                                      ? fmt::format("version {}", previous + 1)
                                      : fmt::format("versions {} to {}", previous + 1, next - 1);
      out_.push_back(
          {"6.1.21", majors[i].second->pointer(),
           fmt::format("the revision history has no item for {} (between revisions {} "
                       "and {})",
                       missing, *majors[i - 1].second->number, *majors[i].second->number)});
    }
  }

  // 6.1.22.
  void check_duplicate_numbers() {
    std::unordered_map<std::string_view, size_t> first_index;
    for (const Revision& revision : revisions_) {
      if (revision.number == nullptr) continue;
      auto [it, inserted] = first_index.emplace(*revision.number, revision.index);
      if (inserted) continue;
      out_.push_back({"6.1.22", revision.pointer(),
                      fmt::format("revision number {} is already used by revision_history/{}",
                                  *revision.number, it->second)});
    }
  }

  // 6.1.30: the first revision sets the versioning every other version must follow.
  void check_mixed_versioning() {
    const Revision* reference = nullptr;
    for (const Revision& revision : revisions_) {
      if (revision.number != nullptr) {
        reference = &revision;
        break;
      }
    }
    if (reference == nullptr) return;
    auto scheme = [](const std::string& number) {
      return is_numeric_identifier(number) ? "integer" : "semantic";
    };
    const std::string_view expected = scheme(*reference->number);
    for (const Revision& revision : revisions_) {
      if (revision.number == nullptr || scheme(*revision.number) == expected) continue;
      out_.push_back(
          {"6.1.30", revision.pointer(),
           fmt::format("revision number {} uses {} versioning but revision {} uses {} "
                       "versioning",
                       *revision.number, scheme(*revision.number), *reference->number, expected)});
    }
    if (version_text_ != nullptr && scheme(*version_text_) != expected) {
      out_.push_back({"6.1.30", "/document/tracking/version",
                      fmt::format("document version {} uses {} versioning but the revision "
                                  "history uses {} versioning",
                                  *version_text_, scheme(*version_text_), expected)});
    }
  }

  std::vector<ValidationIssue>& out_;
  const json* tracking_ = nullptr;
  const std::string* status_ = nullptr;
  const std::string* version_text_ = nullptr;
  std::optional<Version> version_;
  std::vector<Revision> revisions_;  // in document order
  bool all_ordered_ = true;          // every revision has a valid number and date
  std::vector<Revision> by_date_;    // sorted by date then number; empty unless all_ordered_
};

std::string lower_case(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// 6.1.26: only "CSAF Base" documents may use a category of their own, and it must not pass for
// another profile's name or value, nor start with the reserved prefix csaf_.
void check_category(const json& doc, std::vector<ValidationIssue>& out) {
  const std::string* category = find_string(doc, "category");
  if (category == nullptr) return;
  constexpr std::array<std::string_view, 5> kProfileValues = {
      "csaf_base", "csaf_security_incident_response", "csaf_informational_advisory",
      "csaf_security_advisory", "csaf_vex"};
  if (std::find(kProfileValues.begin(), kProfileValues.end(), *category) != kProfileValues.end()) {
    return;
  }
  const std::string lower = lower_case(*category);
  if (lower.starts_with("csaf_")) {
    out.push_back(
        {"6.1.26", "/document/category",
         fmt::format("document category {} starts with the reserved prefix csaf_", *category)});
    return;
  }
  std::string squeezed;
  for (char c : lower) {
    if (c != '-' && c != '_' && std::isspace(static_cast<unsigned char>(c)) == 0) squeezed += c;
  }
  // The other profiles' names and values, without dashes, spaces and underscores.
  constexpr std::array<std::string_view, 8> kProhibited = {"securityincidentresponse",
                                                           "informationaladvisory",
                                                           "securityadvisory",
                                                           "vex",
                                                           "csafsecurityincidentresponse",
                                                           "csafinformationaladvisory",
                                                           "csafsecurityadvisory",
                                                           "csafvex"};
  if (std::find(kProhibited.begin(), kProhibited.end(), squeezed) != kProhibited.end()) {
    out.push_back({"6.1.26", "/document/category",
                   fmt::format("document category {} is the name of another profile than CSAF "
                               "Base",
                               *category)});
  }
}

}  // namespace

// A key equal for two date-times that name the same instant (6.1.24); an unparsable text is its
// own key.
std::string date_time_key(std::string_view text) {
  const auto instant = parse_date_time(text);
  if (!instant) return "unparsed:" + std::string(text);
  return fmt::format("{}.{:09}", instant->seconds, instant->nanoseconds);
}

void check_document(const json& document, std::vector<ValidationIssue>& out) {
  const json* doc = find_member(document, "document");
  if (doc == nullptr) return;

  // 6.1.12.
  for (std::string_view key : {"lang", "source_lang"}) {
    const std::string* tag = find_string(*doc, key);
    if (tag != nullptr && !is_valid_language_tag(*tag)) {
      out.push_back({"6.1.12", child_pointer("/document", key),
                     fmt::format("{} is not a valid BCP 47 language tag", *tag)});
    }
  }

  // 6.1.15.
  const json* publisher = find_member(*doc, "publisher");
  const std::string* publisher_category =
      publisher != nullptr ? find_string(*publisher, "category") : nullptr;
  const std::string* source_lang = find_string(*doc, "source_lang");
  if (publisher_category != nullptr && *publisher_category == "translator" &&
      (source_lang == nullptr || source_lang->empty())) {
    out.push_back({"6.1.15", "/document/source_lang",
                   "the publisher is a translator but the source language is not given"});
  }

  TrackingChecker(document, out).run();
  check_category(*doc, out);

  // 6.1.28: language tags are case-insensitive.
  const std::string* lang = find_string(*doc, "lang");
  if (lang != nullptr && source_lang != nullptr && lower_case(*lang) == lower_case(*source_lang)) {
    out.push_back(
        {"6.1.28", "/document/source_lang",
         fmt::format("the source language {} is the document language {}", *source_lang, *lang)});
  }
}

}  // namespace vigie::advisory::mandatory_detail
