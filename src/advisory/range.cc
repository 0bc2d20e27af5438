// Version ranges: the vers specifier (github.com/package-url/purl-spec, VERSION-RANGE-SPEC),
// the free-text forms of advisories and letters, and containment.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "vigie/advisory/version.h"
#include "vigie/core/text.h"

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using core::fail;

constexpr size_t kMaxConstraints = 256;
constexpr size_t kMaxRangeBytes = 4096;

std::string_view comparator_text(Comparator c) {
  switch (c) {
    case Comparator::kAny:
      return "*";
    case Comparator::kEq:
      return "";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
  }
  return "";
}

bool is_lower_bound(Comparator c) { return c == Comparator::kGt || c == Comparator::kGe; }
bool is_upper_bound(Comparator c) { return c == Comparator::kLt || c == Comparator::kLe; }

// Splits a leading comparator off a constraint.
Comparator take_comparator(std::string_view& s) {
  static constexpr std::pair<std::string_view, Comparator> kOps[] = {
      {">=", Comparator::kGe}, {"<=", Comparator::kLe}, {"!=", Comparator::kNe},
      {"=>", Comparator::kGe}, {"=<", Comparator::kLe}, {"<", Comparator::kLt},
      {">", Comparator::kGt},  {"=", Comparator::kEq},  {"≤", Comparator::kLe},
      {"≥", Comparator::kGe}};
  for (const auto& [text, op] : kOps) {
    if (s.starts_with(text)) {
      s.remove_prefix(text.size());
      s = core::trim(s);
      return op;
    }
  }
  return Comparator::kEq;
}

// Sorts constraints by version and checks that bounds alternate (vers normal form).
Result<VersionRange> normalise(VersionRange range, std::string_view source) {
  if (range.constraints.size() == 1 && range.constraints[0].comparator == Comparator::kAny) {
    return range;
  }
  for (const auto& c : range.constraints) {
    if (c.comparator == Comparator::kAny) {
      return fail(ErrorCode::kInvalidInput, "'*' must be the only constraint", std::string(source));
    }
    // Every version must be comparable under the scheme, and hold a digit: a lone word
    // ("antérieur", "affected") is a sentence cut short, not a version.
    auto self = compare_versions(range.scheme, c.version, c.version);
    if (!self) return core::fail(self.error().code, self.error().message, std::string(source));
    auto bad_char = std::find_if(c.version.begin(), c.version.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) == 0 &&
             std::string_view(".-_+~:").find(ch) == std::string_view::npos;
    });
    if (bad_char != c.version.end()) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("version '{}' holds '{}', which no version scheme allows", c.version,
                              *bad_char),
                  std::string(source));
    }
    if (std::none_of(c.version.begin(), c.version.end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("'{}' is not a version (no digit)", c.version), std::string(source));
    }
  }
  std::string error;
  std::stable_sort(range.constraints.begin(), range.constraints.end(),
                   [&](const Constraint& a, const Constraint& b) {
                     auto c = compare_versions(range.scheme, a.version, b.version);
                     return c && *c < 0;
                   });
  for (size_t i = 1; i < range.constraints.size(); ++i) {
    if (compare_versions(range.scheme, range.constraints[i - 1].version,
                         range.constraints[i].version)
            .value_or(1) == 0) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("version '{}' appears twice", range.constraints[i].version),
                  std::string(source));
    }
  }
  std::vector<Comparator> bounds;
  for (const auto& c : range.constraints) {
    if (is_lower_bound(c.comparator) || is_upper_bound(c.comparator))
      bounds.push_back(c.comparator);
  }
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (is_lower_bound(bounds[i - 1]) == is_lower_bound(bounds[i])) {
      return fail(ErrorCode::kInvalidInput,
                  "bounds must alternate (>=a|<b|>=c...): two lower or two upper bounds follow "
                  "each other",
                  std::string(source));
    }
  }
  return range;
}

// "VB11A/B" -> VB11A, VB11B; "VB23D/F/G" -> VB23D, VB23F, VB23G; "VB11A/VB11M" -> both whole.
std::vector<std::string> expand_slashes(std::string_view item) {
  std::vector<std::string> out;
  std::string first;
  size_t start = 0;
  while (true) {
    size_t slash = item.find('/', start);
    std::string part(core::trim(item.substr(start, slash - start)));
    if (out.empty()) {
      first = part;
      out.push_back(part);
    } else if (!part.empty() &&
               std::all_of(
                   part.begin(), part.end(),
                   [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }) &&
               part.size() < first.size()) {
      // A short suffix replaces the trailing letters of the first version.
      size_t keep = first.size();
      while (keep > 0 && std::isalpha(static_cast<unsigned char>(first[keep - 1])) != 0) --keep;
      out.push_back(first.substr(0, keep) + part);
    } else {
      out.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// "6.6x", "VF70x" or "9.x": every version starting with 6.6 / VF70 / 9 -> [>=6.6, <6.7].
std::optional<std::pair<std::string, std::string>> wildcard(std::string_view v) {
  if (v.size() < 2 || (v.back() != 'x' && v.back() != 'X' && v.back() != '*')) return std::nullopt;
  std::string_view stem = v.substr(0, v.size() - 1);
  if (stem.ends_with('.') || stem.ends_with('-')) stem.remove_suffix(1);  // "9.x" = 9.*
  size_t digits = stem.size();
  while (digits > 0 && stem[digits - 1] >= '0' && stem[digits - 1] <= '9') --digits;
  if (digits == stem.size()) return std::nullopt;
  std::string_view number = stem.substr(digits);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || end != number.data() + number.size() || n == UINT64_MAX) {
    return std::nullopt;  // too long to be a version number
  }
  std::string next = std::to_string(n + 1);
  return std::make_pair(std::string(stem), std::string(stem.substr(0, digits)) + next);
}

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.size() >= word.size() &&
         std::equal(word.begin(), word.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

std::string VersionRange::to_vers() const {
  std::string out = fmt::format("vers:{}/", advisory::to_string(scheme));
  for (size_t i = 0; i < constraints.size(); ++i) {
    if (i > 0) out += '|';
    out += comparator_text(constraints[i].comparator);
    out += constraints[i].version;
  }
  return out;
}

Result<VersionRange> parse_vers(std::string_view text) {
  std::string source(text.substr(0, 200));
  if (text.size() > kMaxRangeBytes) return fail(ErrorCode::kInvalidInput, "range too long", source);
  if (!text.starts_with("vers:")) {
    return fail(ErrorCode::kInvalidInput, "a vers range starts with 'vers:'", source);
  }
  std::string_view rest = text.substr(5);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return fail(ErrorCode::kInvalidInput, "missing '/' after the scheme", source);
  }
  auto scheme = parse_scheme(rest.substr(0, slash));
  if (!scheme) {
    return fail(ErrorCode::kInvalidInput, fmt::format("unknown scheme '{}'", rest.substr(0, slash)),
                source);
  }
  VersionRange range;
  range.scheme = *scheme;
  std::string body;
  for (char c : rest.substr(slash + 1)) {
    if (c != ' ' && c != '\t') body += c;  // vers ignores spaces
  }
  if (body.empty()) return fail(ErrorCode::kInvalidInput, "no constraint", source);
  size_t index = 0;
  for (std::string_view item : [&] {
         std::vector<std::string_view> parts;
         std::string_view b = body;
         while (true) {
           auto bar = b.find('|');
           parts.push_back(b.substr(0, bar));
           if (bar == std::string_view::npos) break;
           b.remove_prefix(bar + 1);
         }
         return parts;
       }()) {
    ++index;
    if (range.constraints.size() >= kMaxConstraints) {
      return fail(ErrorCode::kInvalidInput, "too many constraints", source);
    }
    if (item == "*") {
      range.constraints.push_back({Comparator::kAny, ""});
      continue;
    }
    Comparator op = take_comparator(item);
    std::string version = core::percent_decode(item);
    if (version.empty()) {
      return fail(ErrorCode::kInvalidInput, fmt::format("constraint {} has no version", index),
                  source);
    }
    range.constraints.push_back({op, version});
  }
  return normalise(std::move(range), source);
}

Result<VersionRange> parse_range_text(std::string_view raw, Scheme scheme) {
  std::string source(raw.substr(0, 200));
  if (raw.size() > kMaxRangeBytes) return fail(ErrorCode::kInvalidInput, "range too long", source);
  if (raw.starts_with("vers:")) return parse_vers(raw);
  // A parenthesis gives another name of the same version ("6.6x (VF70x)"): drop it.
  std::string text(raw.substr(0, raw.find('(')));
  std::string_view t = core::trim(text);
  VersionRange range;
  range.scheme = scheme;
  std::string lower = core::ascii_lower(t);
  for (std::string_view any :
       {"all versions", "all", "toutes versions", "toutes les versions", "any", "*"}) {
    if (lower == any) {
      range.constraints.push_back({Comparator::kAny, ""});
      return range;
    }
  }
  struct Phrase {
    std::string_view words;
    Comparator op;
    bool prefix;  // the phrase comes before the version, else after
  };
  static constexpr Phrase kPhrases[] = {
      {"prior to ", Comparator::kLt, true},
      {"before ", Comparator::kLt, true},
      {"earlier than ", Comparator::kLt, true},
      {"below ", Comparator::kLt, true},
      {"versions prior to ", Comparator::kLt, true},
      {"versions before ", Comparator::kLt, true},
      {"older than ", Comparator::kLt, true},
      {"up to ", Comparator::kLe, true},
      {"through ", Comparator::kLe, true},
      {"until ", Comparator::kLe, true},
      {"from ", Comparator::kGe, true},
      {"since ", Comparator::kGe, true},
      {" and later", Comparator::kGe, false},
      {" or later", Comparator::kGe, false},
      {" and above", Comparator::kGe, false},
      {" and newer", Comparator::kGe, false},
      {" and earlier", Comparator::kLe, false},
      {" or earlier", Comparator::kLe, false},
      {" and prior", Comparator::kLe, false},
      {" and below", Comparator::kLe, false},
  };
  // Two-sided: "from A to B", "A to B", "between A and B", "A - B" (not "prior to B").
  bool one_sided = std::any_of(std::begin(kPhrases), std::end(kPhrases), [&](const Phrase& p) {
    return p.prefix && p.op != Comparator::kGe && starts_with_word(t, p.words);
  });
  for (std::string_view sep : {" to ", " and ", " - ", " through "}) {
    auto p = lower.find(sep);
    if (one_sided || p == std::string::npos) continue;
    if (sep == " and " && !starts_with_word(t, "between ")) continue;  // "A and B" is a list
    std::string_view lo = core::trim(t.substr(0, p));
    std::string_view hi = core::trim(t.substr(p + sep.size()));
    for (std::string_view w : {"from ", "between "}) {
      if (starts_with_word(lo, w)) lo = core::trim(lo.substr(w.size()));
    }
    if (lo.empty() || hi.empty() || lo.find(' ') != std::string_view::npos ||
        hi.find(' ') != std::string_view::npos) {
      break;
    }
    range.constraints.push_back({Comparator::kGe, std::string(lo)});
    range.constraints.push_back({Comparator::kLe, std::string(hi)});
    return normalise(std::move(range), source);
  }
  for (const auto& phrase : kPhrases) {
    std::string_view version;
    if (phrase.prefix && starts_with_word(t, phrase.words)) {
      version = core::trim(t.substr(phrase.words.size()));
    } else if (!phrase.prefix && lower.size() > phrase.words.size() &&
               lower.ends_with(phrase.words)) {
      version = core::trim(t.substr(0, t.size() - phrase.words.size()));
    } else {
      continue;
    }
    if (starts_with_word(version, "version ")) version = core::trim(version.substr(8));
    if (version.empty() || version.find(' ') != std::string_view::npos) break;
    range.constraints.push_back({phrase.op, std::string(version)});
    return normalise(std::move(range), source);
  }
  // "<= 4.2", ">= VB10", "= 1.0"
  std::string_view rest = t;
  Comparator op = take_comparator(rest);
  if (op != Comparator::kEq || t.starts_with("=")) {
    if (rest.empty() || rest.find(' ') != std::string_view::npos) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("cannot read the version range '{}'", source), source);
    }
    range.constraints.push_back({op, std::string(rest)});
    return normalise(std::move(range), source);
  }
  // Lists of versions: "VA70, VA71, VB11A/B", "VC13A/B; VC13D/E", wildcards "6.6x".
  std::string_view list = t;
  while (!list.empty()) {
    size_t sep = list.find_first_of(",;");
    std::string_view item = core::trim(list.substr(0, sep));
    list = sep == std::string_view::npos ? std::string_view() : list.substr(sep + 1);
    if (starts_with_word(item, "and ") || starts_with_word(item, "et ")) {
      item = core::trim(item.substr(item.find(' ') + 1));
    }
    if (item.empty()) continue;
    if (item.find(' ') != std::string_view::npos) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("cannot read the version range '{}' (at '{}')", source, item),
                  source);
    }
    if (auto w = wildcard(item)) {
      range.constraints.push_back({Comparator::kGe, w->first});
      range.constraints.push_back({Comparator::kLt, w->second});
      continue;
    }
    for (auto& v : expand_slashes(item)) {
      if (v.empty()) {
        return fail(ErrorCode::kInvalidInput, fmt::format("empty version in '{}'", source), source);
      }
      range.constraints.push_back({Comparator::kEq, std::move(v)});
    }
  }
  if (range.constraints.empty()) {
    return fail(ErrorCode::kInvalidInput, "empty version range", source);
  }
  return normalise(std::move(range), source);
}

Result<bool> contains(const VersionRange& range, std::string_view version) {
  const auto& cs = range.constraints;
  if (cs.size() == 1 && cs[0].comparator == Comparator::kAny) return true;
  auto cmp = [&](const Constraint& c) {
    return compare_versions(range.scheme, version, c.version);
  };
  std::vector<const Constraint*> bounds;
  for (const auto& c : cs) {
    auto r = cmp(c);
    if (!r) return tl::unexpected(r.error());
    if (c.comparator == Comparator::kEq && *r == 0) return true;
    if (c.comparator == Comparator::kNe && *r == 0) return false;
    if (is_lower_bound(c.comparator) || is_upper_bound(c.comparator)) bounds.push_back(&c);
  }
  auto satisfies = [&](const Constraint& c) {
    int r = cmp(c).value_or(0);
    switch (c.comparator) {
      case Comparator::kLt:
        return r < 0;
      case Comparator::kLe:
        return r <= 0;
      case Comparator::kGt:
        return r > 0;
      case Comparator::kGe:
        return r >= 0;
      default:
        return false;
    }
  };
  if (bounds.empty()) {
    // Only "!=" constraints: every other version is in the range.
    return std::any_of(cs.begin(), cs.end(),
                       [](const Constraint& c) { return c.comparator == Comparator::kNe; });
  }
  if (is_upper_bound(bounds.front()->comparator) && satisfies(*bounds.front())) return true;
  if (is_lower_bound(bounds.back()->comparator) && satisfies(*bounds.back())) return true;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    if (is_lower_bound(bounds[i]->comparator) && is_upper_bound(bounds[i + 1]->comparator) &&
        satisfies(*bounds[i]) && satisfies(*bounds[i + 1])) {
      return true;
    }
  }
  return false;
}

}  // namespace vigie::advisory
