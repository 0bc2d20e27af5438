#include "vigie/advisory/version.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using core::fail;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

struct Token {
  bool numeric;
  std::string_view text;  // digits without leading zeros, or letters
};

// Runs of digits and of letters; anything else separates. Read one at a time: comparing
// versions is the matcher's inner loop and must not allocate.
class Tokens {
 public:
  explicit Tokens(std::string_view v) : v_(v) {}

  std::optional<Token> next() {
    while (i_ < v_.size()) {
      size_t start = i_;
      if (is_digit(v_[i_])) {
        while (i_ < v_.size() && is_digit(v_[i_])) ++i_;
        std::string_view digits = v_.substr(start, i_ - start);
        while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
        return Token{true, digits};
      }
      if (is_alpha(v_[i_])) {
        while (i_ < v_.size() && is_alpha(v_[i_])) ++i_;
        return Token{false, v_.substr(start, i_ - start)};
      }
      ++i_;
    }
    return std::nullopt;
  }

 private:
  std::string_view v_;
  size_t i_ = 0;
};

int compare_tokens(const Token& a, const Token& b) {
  if (a.numeric != b.numeric) return a.numeric ? 1 : -1;  // a number sorts after a word
  if (a.numeric) {
    if (a.text.size() != b.text.size()) return a.text.size() < b.text.size() ? -1 : 1;
    return a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
  }
  for (size_t i = 0; i < std::min(a.text.size(), b.text.size()); ++i) {
    char x = lower(a.text[i]);
    char y = lower(b.text[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.text.size() == b.text.size()) return 0;
  return a.text.size() < b.text.size() ? -1 : 1;
}

bool is_zero(const Token& t) { return t.numeric && t.text == "0"; }

// Generic and vendor orders share the token comparison; they differ on a missing token:
// generic treats missing numbers as 0 (1.0 = 1.0.0); otherwise the shorter version sorts
// first (1.0 < 1.0a, VB23 < VB23P, VA70 < VA70A).
Result<int> compare_tokenized(Scheme scheme, std::string_view a, std::string_view b) {
  Tokens ta(a);
  Tokens tb(b);
  auto x = ta.next();
  auto y = tb.next();
  if (!x) return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a version", a));
  if (!y) return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a version", b));
  while (x || y) {
    if (!x || !y) {
      const Token& extra = x ? *x : *y;
      if (scheme != Scheme::kGeneric || !is_zero(extra)) return x ? 1 : -1;
    } else if (int c = compare_tokens(*x, *y); c != 0) {
      return c;
    }
    if (x) x = ta.next();
    if (y) y = tb.next();
  }
  return 0;
}

struct Semver {
  std::vector<std::uint64_t> core;  // major, minor, patch
  std::vector<std::string_view> pre;
};

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

Result<Semver> parse_semver(std::string_view v) {
  std::string_view original = v;
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  v = v.substr(0, v.find('+'));  // build metadata does not order
  Semver s;
  auto dash = v.find('-');
  std::string_view core_part = v.substr(0, dash);
  for (auto part : split(core_part, '.')) {
    auto n = number(part);
    if (!n) break;
    s.core.push_back(*n);
  }
  if (s.core.size() != 3) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is not a semantic version (MAJOR.MINOR.PATCH)", original));
  }
  if (dash != std::string_view::npos) {
    s.pre = split(v.substr(dash + 1), '.');
    for (auto id : s.pre) {
      if (id.empty()) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("'{}' has an empty pre-release identifier", original));
      }
    }
  }
  return s;
}

int compare_semver(const Semver& a, const Semver& b) {
  for (size_t i = 0; i < 3; ++i) {
    if (a.core[i] != b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
  }
  if (a.pre.empty() || b.pre.empty()) {
    if (a.pre.empty() == b.pre.empty()) return 0;
    return a.pre.empty() ? 1 : -1;  // a pre-release sorts before its release
  }
  for (size_t i = 0; i < std::min(a.pre.size(), b.pre.size()); ++i) {
    auto na = number(a.pre[i]);
    auto nb = number(b.pre[i]);
    if (na && nb) {
      if (*na != *nb) return *na < *nb ? -1 : 1;
    } else if (na || nb) {
      return na ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else if (int c = a.pre[i].compare(b.pre[i]); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  if (a.pre.size() == b.pre.size()) return 0;
  return a.pre.size() < b.pre.size() ? -1 : 1;
}

}  // namespace

std::string_view to_string(Scheme scheme) {
  switch (scheme) {
    case Scheme::kGeneric:
      return "generic";
    case Scheme::kSemver:
      return "semver";
    case Scheme::kVendor:
      return "vendor";
  }
  return "generic";
}

std::optional<Scheme> parse_scheme(std::string_view text) {
  if (text == "generic") return Scheme::kGeneric;
  if (text == "semver" || text == "npm" || text == "cargo" || text == "golang") {
    return Scheme::kSemver;
  }
  if (text == "vendor") return Scheme::kVendor;
  // Other vers schemes (pypi, maven, deb, rpm...) are ordered with the generic rules.
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
      })) {
    return Scheme::kGeneric;
  }
  return std::nullopt;
}

std::string version_key(Scheme scheme, std::string_view version) {
  std::string key;
  size_t kept = 0;  // key length up to the last token that is not a trailing zero
  Tokens tokens(version);
  bool first = true;
  while (auto t = tokens.next()) {
    if (!first) key += '.';
    for (char c : t->text) key += lower(c);
    if (first || scheme != Scheme::kGeneric || !is_zero(*t)) kept = key.size();
    first = false;
  }
  key.resize(kept);
  return key;
}

Result<int> compare_versions(Scheme scheme, std::string_view a, std::string_view b) {
  if (scheme != Scheme::kSemver) return compare_tokenized(scheme, a, b);
  auto sa = parse_semver(a);
  if (!sa) return tl::unexpected(sa.error());
  auto sb = parse_semver(b);
  if (!sb) return tl::unexpected(sb.error());
  return compare_semver(*sa, *sb);
}

}  // namespace vigie::advisory
