// Versions and version ranges as advisories state them: the `vers` specifier
// ("vers:generic/>=1.2|<2.0"), three ordering schemes (generic, semver, vendor) and the
// free-text forms real advisories and letters use ("<= 4.2", "< VB23P", "all versions",
// "prior to 15000", "VB11A/B"). A range that cannot be parsed is an error, never "not
// affected". Ordering rules: docs/version-ranges.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::advisory {

using core::Result;

enum class Scheme {
  kGeneric,  // dotted numbers and words: 1.10 > 1.9, 2.0a < 2.0b
  kSemver,   // semver.org 2.0.0: 1.0.0-rc.1 < 1.0.0, build metadata ignored
  kVendor,   // vendor codes such as Siemens' VB23P: letter/digit runs, no suffix lowest
};

std::string_view to_string(Scheme scheme);
std::optional<Scheme> parse_scheme(std::string_view text);

// <0, 0 or >0; an error when `a` or `b` is not a version of the scheme (e.g. "abc" in semver).
Result<int> compare_versions(Scheme scheme, std::string_view a, std::string_view b);

// The form two versions share exactly when compare_versions(scheme, a, b) == 0, for the generic
// and vendor schemes: tokens in lower case, numbers without leading zeros, and for generic no
// trailing zero numbers after the first token. Empty when `version` has no token. Lets the
// matcher compare a device's version with many listed versions without re-reading it.
std::string version_key(Scheme scheme, std::string_view version);

enum class Comparator { kAny, kEq, kNe, kLt, kLe, kGt, kGe };

struct Constraint {
  Comparator comparator = Comparator::kEq;
  std::string version;  // empty for kAny
};

struct VersionRange {
  Scheme scheme = Scheme::kGeneric;
  std::vector<Constraint> constraints;  // sorted by version (vers normal form)
  // "vers:vendor/>=VB22N|<VB23P": the range in vers syntax (normalised).
  [[nodiscard]] std::string to_vers() const;
};

// "vers:<scheme>/<constraints>"; schemes: generic, semver, vendor (also npm/pypi/maven... are
// read as generic). Errors name the position in the text.
Result<VersionRange> parse_vers(std::string_view text);

// The free-text forms of advisories; `scheme` orders the versions met.
Result<VersionRange> parse_range_text(std::string_view text, Scheme scheme);

// Whether `version` lies in `range` (the vers containment algorithm). An error when the
// version cannot be compared under the range's scheme.
Result<bool> contains(const VersionRange& range, std::string_view version);

}  // namespace vigie::advisory
