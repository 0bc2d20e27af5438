#include "vigie/phi/scrub.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <unordered_map>

#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/phi/profile.h"

namespace vigie::phi {
namespace {

using core::ErrorCode;

constexpr std::string_view kHl7Mask = "***";

// Built-in detectors: kind, ECMAScript pattern, case-insensitive, masked submatch.
struct BuiltinDetector {
  std::string_view kind;
  std::string_view pattern;
  bool icase;
  int group;
};
constexpr std::array<BuiltinDetector, 9> kBuiltins = {{
    {"birth-date",
     R"((dob|d\.o\.b\.|birth\s*date|date\s+of\s+birth|born(\s+on)?|n[e\xC3\xA9]{1,2}e?\s+le|naissance|ddn)\s*[:=]?\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8}))",
     true, 3},
    {"email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", false, 0},
    {"national-id", R"(\b\d{3}-\d{2}-\d{4}\b)", false, 0},
    {"national-id",
     R"(\b[12][ .]?\d{2}[ .]?(0[1-9]|1[0-2]|[2-9]\d)[ .]?(\d{2}|2A|2B)[ .]?\d{3}[ .]?\d{3}([ .]?\d{2})?\b)",
     false, 0},
    {"phone",
     R"((\+\d{1,3}[ .-]?\(?\d{1,4}\)?([ .-]?\d{2,4}){2,5})|(\b0[1-9]([ .-]?\d{2}){4}\b)|(\(\d{3}\)\s?\d{3}-\d{4}))",
     false, 0},
    {"name", R"(\b[A-Za-z][A-Za-z'\-]*\^[A-Za-z][A-Za-z'\-]*(\^[A-Za-z'\-]*)*)", false, 0},
    {"name",
     R"(\b(Mr|Mrs|Ms|Miss|Dr|Mme|Mlle|Pr|M)\.?\s+([A-Z][A-Za-z'\-]+(\s+[A-Z][A-Za-z'\-]+)?))",
     false, 2},
    {"name", R"(\b[Pp]atient\s+([A-Z][A-Za-z'\-]+(\s+[A-Z][A-Za-z'\-]+){0,2}))", false, 1},
    {"hl7-in-log", R"(\b(PID|NK1|PV1|ORC|OBR|MRG|IN1|GT1|PD1)\|(.*)$)", false, 2},
}};

// Keys whose values are PHI: contained anywhere in the key (lower case, separators removed)...
constexpr std::array<std::string_view, 24> kPhiKeyParts = {
    "patient",   "birth",      "accession",  "firstname", "lastname",  "surname",
    "givenname", "familyname", "maidenname", "address",   "street",    "phone",
    "mobile",    "email",      "mrn",        "physician", "doctor",    "referring",
    "operator",  "username",   "ssn",        "insee",     "guarantor", "nextofkin"};
// ...or equal to the whole key...
constexpr std::array<std::string_view, 12> kPhiKeys = {
    "nom", "prenom", "name", "dob", "nir", "ipp", "patid", "patname", "pid", "user", "tel", "ddn"};
// ...or ending in "name" unless what is named is technical.
constexpr std::array<std::string_view, 34> kTechnicalNames = {
    "host",        "file",     "server",  "device", "model",    "station", "app",
    "application", "class",    "type",    "path",   "table",    "dir",     "directory",
    "field",       "key",      "tag",     "module", "service",  "package", "product",
    "method",      "function", "process", "db",     "database", "schema",  "column",
    "attribute",   "node",     "domain",  "queue",  "thread",   "logger"};

bool is_phi_key(std::string_view raw_key) {
  std::string key;
  for (char c : raw_key) {
    if (c != '_' && c != '-' && c != '.')
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (std::find(kPhiKeys.begin(), kPhiKeys.end(), key) != kPhiKeys.end()) return true;
  for (auto part : kPhiKeyParts) {
    if (key.find(part) != std::string::npos) return true;
  }
  if (key.size() > 4 && key.ends_with("name")) {
    std::string_view prefix = std::string_view(key).substr(0, key.size() - 4);
    return std::find(kTechnicalNames.begin(), kTechnicalNames.end(), prefix) ==
           kTechnicalNames.end();
  }
  return false;
}

bool already_masked(std::string_view value) {
  return value.empty() || value.starts_with("[PHI:") || value == kHl7Mask;
}

bool is_word_byte(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// HL7 v2: which fields of a segment carry PHI. `all_but` rules mask every field except those.
struct SegmentRule {
  std::vector<int> fields;
  bool all_but = false;
};
const std::unordered_map<std::string_view, SegmentRule>& segment_rules() {
  static const std::unordered_map<std::string_view, SegmentRule> kRules = {
      {"MSH", {{}, false}},
      {"EVN", {{5}, false}},
      {"PID", {{2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 18, 19, 20, 21, 23, 26, 29}, false}},
      {"PD1", {{3, 4}, false}},
      {"NK1", {{1, 3}, true}},
      {"PV1", {{7, 8, 9, 17, 19, 50, 52}, false}},
      {"PV2", {{}, false}},
      {"ORC", {{2, 3, 4, 10, 11, 12, 19}, false}},
      {"OBR", {{2, 3, 16, 18, 19, 20, 21, 28, 32, 33, 34, 35}, false}},
      {"OBX", {{16}, false}},
      {"NTE", {{}, false}},
      {"MSA", {{}, false}},
      {"ERR", {{}, false}},
      {"AL1", {{}, false}},
      {"DG1", {{16}, false}},
      {"TQ1", {{}, false}},
      {"SPM", {{2, 3}, false}},
  };
  return kRules;
}

// Splits text into lines, each with its terminator ("\r\n", "\n" or "\r") kept apart.
struct Line {
  std::string_view text;
  std::string_view end;
};
std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    size_t end_len = (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
    lines.push_back({text.substr(start, i - start), text.substr(i, end_len)});
    i += end_len - 1;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back({text.substr(start), {}});
  return lines;
}

core::Status check_text(std::string_view text, std::string_view name, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return core::fail(
        ErrorCode::kInvalidInput,
        fmt::format("text of {} bytes exceeds the limit of {}", text.size(), max_bytes),
        std::string(name));
  }
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("binary content (NUL byte at offset {}): not a text the "
                                  "scrubber can make safe",
                                  nul),
                      std::string(name));
  }
  if (auto bad = core::find_invalid_utf8(text)) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("not UTF-8 text (invalid byte at offset {}): refused rather "
                                  "than passed unread",
                                  *bad),
                      std::string(name));
  }
  return {};
}

MaskCounts diff(const MaskCounts& after, const MaskCounts& before) {
  MaskCounts out;
  for (const auto& [kind, n] : after) {
    auto it = before.find(kind);
    size_t was = it == before.end() ? 0 : it->second;
    if (n > was) out[kind] = n - was;
  }
  return out;
}

}  // namespace

std::string Scrubber::mask(std::string_view kind) { return fmt::format("[PHI:{}]", kind); }

core::Result<std::vector<SitePattern>> load_patterns(const std::filesystem::path& path) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  std::vector<SitePattern> out;
  size_t number = 0;
  for (const auto& line : split_lines(*text)) {
    ++number;
    auto t = core::trim(line.text);
    if (t.empty() || t.front() == '#') continue;
    size_t space = t.find_first_of(" \t");
    if (space == std::string_view::npos) {
      return core::fail(ErrorCode::kInvalidInput, "expected '<kind> <regular expression>'",
                        fmt::format("{}:{}", path.string(), number));
    }
    out.push_back({std::string(t.substr(0, space)), std::string(core::trim(t.substr(space)))});
  }
  return out;
}

// Compiled once per process: std::regex construction costs far more than a scrub.
const std::vector<Scrubber::Detector>& Scrubber::builtins() {
  static const std::vector<Detector> kCompiled = [] {
    std::vector<Detector> out;
    for (const auto& b : kBuiltins) {
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (b.icase) flags |= std::regex::icase;
      out.push_back({std::string(b.kind), std::regex(std::string(b.pattern), flags), b.group});
    }
    return out;
  }();
  return kCompiled;
}

core::Result<Scrubber> Scrubber::create(ScrubConfig config) {
  Scrubber s;
  for (const auto& p : config.patterns) {
    try {
      s.detectors_.push_back({p.kind, std::regex(p.regex, std::regex::ECMAScript), 0});
    } catch (const std::regex_error& e) {
      return core::fail(
          ErrorCode::kInvalidInput,
          fmt::format("site pattern '{}' is not a valid regular expression: {}", p.kind, e.what()));
    }
  }
  for (const auto& v : config.deny_list) {
    auto t = core::trim(v);
    if (t.size() >= 2) s.deny_lower_.push_back(core::ascii_lower(t));
  }
  std::sort(s.deny_lower_.begin(), s.deny_lower_.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  s.deny_lower_.erase(std::unique(s.deny_lower_.begin(), s.deny_lower_.end()), s.deny_lower_.end());
  s.config_ = std::move(config);
  return s;
}

std::string Scrubber::scrub_deny(std::string_view text, MaskCounts& masks) const {
  std::string out(text);
  for (const auto& term : deny_lower_) {
    std::string lower = core::ascii_lower(out);
    std::string next;
    size_t from = 0;
    size_t pos = 0;
    bool changed = false;
    while ((pos = lower.find(term, from)) != std::string::npos) {
      size_t end = pos + term.size();
      bool word_start = pos == 0 || !is_word_byte(lower[pos - 1]);
      bool word_end = end == lower.size() || !is_word_byte(lower[end]);
      if (!word_start || !word_end) {
        next.append(out, from, pos + 1 - from);
        from = pos + 1;
        continue;
      }
      next.append(out, from, pos - from);
      next += mask("deny-list");
      ++masks["deny-list"];
      from = end;
      changed = true;
    }
    if (changed) {
      next.append(out, from, std::string::npos);
      out = std::move(next);
    }
  }
  return out;
}

std::string Scrubber::scrub_key_values(std::string_view line, MaskCounts& masks) const {
  static const std::regex kKeyValue(
      R"(([A-Za-z_][A-Za-z0-9_.\-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|\[PHI:[^\]]*\]|[^\s,;&|]+))",
      std::regex::ECMAScript | std::regex::optimize);
  std::string out;
  std::string text(line);
  auto begin = std::sregex_iterator(text.begin(), text.end(), kKeyValue);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    std::string value = m[3].str();
    std::string_view unquoted = value;
    if (unquoted.size() >= 2 && (unquoted.front() == '"' || unquoted.front() == '\'')) {
      unquoted = unquoted.substr(1, unquoted.size() - 2);
    }
    if (!is_phi_key(m[1].str()) || already_masked(unquoted)) continue;
    auto value_pos = static_cast<size_t>(m.position(3));
    out.append(text, last, value_pos - last);
    out += mask("key-value");
    ++masks["key-value"];
    last = value_pos + value.size();
  }
  out.append(text, last, std::string::npos);
  return out;
}

std::string Scrubber::scrub_value(std::string_view text, MaskCounts& masks) const {
  std::string out = scrub_deny(text, masks);
  out = scrub_key_values(out, masks);
  for (const auto* detectors : {&builtins(), &detectors_}) {
    out = apply_detectors(*detectors, out, masks);
  }
  return out;
}

std::string Scrubber::apply_detectors(const std::vector<Detector>& detectors, std::string out,
                                      MaskCounts& masks) {
  for (const auto& d : detectors) {
    std::string next;
    size_t last = 0;
    bool changed = false;
    for (auto it = std::sregex_iterator(out.begin(), out.end(), d.regex);
         it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      if (!m[d.group].matched || m[d.group].length() == 0) continue;
      if (already_masked(m[d.group].str())) continue;
      auto pos = static_cast<size_t>(m.position(d.group));
      if (pos < last) continue;
      next.append(out, last, pos - last);
      next += mask(d.kind);
      ++masks[d.kind];
      last = pos + static_cast<size_t>(m.length(d.group));
      changed = true;
    }
    if (changed) {
      next.append(out, last, std::string::npos);
      out = std::move(next);
    }
  }
  return out;
}

std::string Scrubber::scrub_dump_line(std::string_view line, MaskCounts& masks) const {
  static const std::regex kDump(
      R"(^(\s*\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\)\s+([A-Za-z?]{2})\s+)(.*?)(\s+#.*)?$)",
      std::regex::ECMAScript | std::regex::optimize);
  std::string text(line);
  std::smatch m;
  if (!std::regex_match(text, m, kDump)) return scrub_line(line, masks);
  std::string value = m[5].str();
  if (value.empty() || value.starts_with("(no value") || value.starts_with("(Sequence") ||
      value.starts_with("(Item") || value.starts_with("[PHI:") || value.starts_with("na ")) {
    return text;
  }
  auto group = static_cast<std::uint16_t>(std::stoul(m[2].str(), nullptr, 16));
  auto element = static_cast<std::uint16_t>(std::stoul(m[3].str(), nullptr, 16));
  const ProfileRow* row = Profile::standard().row(group, element);
  bool identifying =
      m[4].str() == "PN" || (row != nullptr && Profile::resolve(*row, Options()) != Action::kKeep);
  if (!identifying) return m[1].str() + scrub_value(value, masks) + m[6].str();
  ++masks["dicom-dump"];
  return m[1].str() + mask("dicom-dump") + m[6].str();
}

std::string Scrubber::scrub_line(std::string_view line, MaskCounts& masks) const {
  if (line.size() > config_.max_line) {
    ++masks["unparsed-line"];
    return mask("unparsed-line");
  }
  return scrub_value(line, masks);
}

core::Result<std::string> Scrubber::scrub_hl7(std::string_view text, std::string_view name,
                                              MaskCounts& masks) const {
  std::string out;
  out.reserve(text.size());
  char field_sep = '|';
  std::string encoding = "^~\\&";
  size_t number = 0;
  for (const auto& line : split_lines(text)) {
    ++number;
    std::string_view seg = line.text;
    std::string prefix;
    while (!seg.empty() && (seg.front() == '\x0b' || seg.front() == '\x1c')) {
      prefix += seg.front();
      seg.remove_prefix(1);
    }
    std::string suffix;
    while (!seg.empty() && seg.back() == '\x1c') {
      suffix.insert(suffix.begin(), seg.back());
      seg.remove_suffix(1);
    }
    out += prefix;
    if (seg.empty()) {
      out += suffix;
      out += line.end;
      continue;
    }
    if (seg.starts_with("MSH")) {
      if (seg.size() < 8) {
        return core::fail(ErrorCode::kInvalidInput, "MSH segment too short to give its encoding",
                          fmt::format("{}:{}", name, number));
      }
      field_sep = seg[3];
      size_t end = seg.find(field_sep, 4);
      encoding = std::string(seg.substr(4, end == std::string_view::npos ? 4 : end - 4));
      std::set<char> distinct(encoding.begin(), encoding.end());
      distinct.insert(field_sep);
      if (encoding.size() < 4 || distinct.size() != encoding.size() + 1 ||
          std::isalnum(static_cast<unsigned char>(field_sep)) != 0) {
        return core::fail(ErrorCode::kInvalidInput, "MSH encoding characters are not distinct",
                          fmt::format("{}:{}", name, number));
      }
    }
    bool is_segment = seg.size() >= 3 && (seg.size() == 3 || seg[3] == field_sep) &&
                      std::all_of(seg.begin(), seg.begin() + 3, [](char c) {
                        return std::isupper(static_cast<unsigned char>(c)) != 0 ||
                               std::isdigit(static_cast<unsigned char>(c)) != 0;
                      });
    if (!is_segment) {
      ++masks["unparsed-line"];
      out += mask("unparsed-line");
      out += suffix;
      out += line.end;
      continue;
    }
    std::string_view id = seg.substr(0, 3);
    auto rule_it = segment_rules().find(id);
    bool known = rule_it != segment_rules().end();
    // Fields as split by the separator: for MSH, index i is MSH-(i+1) (MSH-1 is the separator).
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (true) {
      size_t sep = seg.find(field_sep, start);
      fields.push_back(seg.substr(start, sep == std::string_view::npos ? sep : sep - start));
      if (sep == std::string_view::npos) break;
      start = sep + 1;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += field_sep;
      std::string_view f = fields[i];
      bool is_msh = id == "MSH";
      int number_of_field = static_cast<int>(is_msh ? i + 1 : i);
      if (i == 0 || (is_msh && i == 1) || f.empty()) {
        out += f;
        continue;
      }
      bool listed = known && std::find(rule_it->second.fields.begin(), rule_it->second.fields.end(),
                                       number_of_field) != rule_it->second.fields.end();
      bool masked = !known || (rule_it->second.all_but ? !listed : listed);
      if (masked) {
        if (f != kHl7Mask)
          ++masks[known ? fmt::format("hl7:{}-{}", id, number_of_field)
                        : std::string("hl7:unknown-segment")];
        out += kHl7Mask;
        continue;
      }
      // Free text of a kept field, leaf by leaf between encoding characters.
      std::string leaf;
      auto flush = [&] {
        if (!leaf.empty()) out += scrub_value(leaf, masks);
        leaf.clear();
      };
      for (char c : f) {
        if (encoding.find(c) != std::string::npos) {
          flush();
          out += c;
        } else {
          leaf += c;
        }
      }
      flush();
    }
    out += suffix;
    out += line.end;
  }
  return out;
}

core::Result<ScrubOutput> Scrubber::scrub(std::string_view text, std::string_view name) const {
  VIGIE_TRY(check_text(text, name, config_.max_bytes));
  ScrubOutput result;
  std::string_view body = text;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  while (!body.empty() && body.front() == '\x0b') body.remove_prefix(1);
  if (body.starts_with("MSH") && body.size() > 3 && body[3] != ' ') {
    result.format = TextFormat::kHl7;
    auto out = scrub_hl7(text, name, result.masks);
    if (!out) return tl::unexpected(out.error());
    result.text = std::move(*out);
    return result;
  }
  result.text.reserve(text.size());
  for (const auto& line : split_lines(text)) {
    result.text += scrub_dump_line(line.text, result.masks);
    result.text += line.end;
  }
  return result;
}

core::Result<std::vector<Finding>> Scrubber::find(std::string_view text,
                                                  std::string_view name) const {
  VIGIE_TRY(check_text(text, name, config_.max_bytes));
  std::vector<Finding> findings;
  std::string_view body = text;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  while (!body.empty() && body.front() == '\x0b') body.remove_prefix(1);
  bool hl7 = body.starts_with("MSH") && body.size() > 3 && body[3] != ' ';
  // HL7: each segment scrubbed with the message's encoding (MSH kept in front of it).
  std::string msh;
  size_t number = 0;
  for (const auto& line : split_lines(text)) {
    ++number;
    MaskCounts masks;
    if (hl7) {
      std::string_view seg = core::trim(line.text);
      if (seg.find("MSH") != std::string_view::npos && seg.find("MSH") <= 1) {
        msh = std::string(line.text);
      }
      std::string probe = msh.empty() || msh == line.text ? std::string(line.text)
                                                          : msh + "\r" + std::string(line.text);
      MaskCounts msh_masks;
      if (!msh.empty() && msh != line.text) (void)scrub_hl7(msh, name, msh_masks);
      auto out = scrub_hl7(probe, name, masks);
      if (!out) return tl::unexpected(out.error());
      masks = diff(masks, msh_masks);
    } else {
      (void)scrub_dump_line(line.text, masks);
    }
    for (const auto& [kind, n] : masks) {
      for (size_t i = 0; i < n; ++i) findings.push_back({number, kind});
    }
  }
  return findings;
}

}  // namespace vigie::phi
