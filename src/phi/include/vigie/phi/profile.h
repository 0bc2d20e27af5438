// The DICOM PS3.15 Annex E confidentiality profile as data: Table E.1-1 (2023b) and the safe
// private attributes of Table E.3.10-1, compiled into the program, resolved for a set of
// options into one action per attribute. The de-identifier and the independent checker both
// read it; neither holds a hand-written list of attributes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::phi {

// The options of PS3.15 E.3, with their CID 7050 codes (113101...). The Basic Application
// Level Confidentiality Profile (113100) is always applied.
enum class Option : std::uint8_t {
  kCleanPixelData,                   // 113101: pixel data that may carry text is blanked
  kCleanGraphics,                    // 113103
  kCleanStructuredContent,           // 113104
  kCleanDescriptors,                 // 113105
  kRetainLongitudinalFullDates,      // 113106
  kRetainLongitudinalModifiedDates,  // 113107: dates shifted by a keyed per-patient offset
  kRetainPatientCharacteristics,     // 113108
  kRetainDeviceIdentity,             // 113109
  kRetainUids,                       // 113110
  kRetainSafePrivate,                // 113111
  kRetainInstitutionIdentity,        // 113112
};
inline constexpr int kOptionCount = 11;

struct OptionInfo {
  Option option;
  std::string_view name;          // command-line spelling: "clean-descriptors"
  std::string_view code;          // CID 7050 code value: "113105"
  std::string_view meaning;       // CID 7050 code meaning
  std::string_view table_column;  // Table E.1-1 column header, empty when the table has none
};
const std::vector<OptionInfo>& all_options();
std::optional<Option> option_from_name(std::string_view name);
const OptionInfo& info(Option option);

// A set of options; checks the one exclusion of the standard (full vs modified dates).
class Options {
 public:
  Options() = default;
  void set(Option o) { bits_ |= bit(o); }
  [[nodiscard]] bool has(Option o) const { return (bits_ & bit(o)) != 0; }
  [[nodiscard]] core::Status validate() const;
  [[nodiscard]] std::vector<Option> list() const;

 private:
  static std::uint32_t bit(Option o) { return 1U << static_cast<unsigned>(o); }
  std::uint32_t bits_ = 0;
};

// One action of Table E.1-1 after compound codes are resolved (PS3.15 E.3.1): remove (X),
// zero length (Z), dummy value (D), keep (K), clean (C), replace UIDs (U).
enum class Action : std::uint8_t { kRemove, kZero, kDummy, kKeep, kClean, kUid };
char action_letter(Action a);

// One row of Table E.1-1 as published.
struct ProfileRow {
  std::string name;
  std::string tag;  // "(0010,0010)", or a wildcard row's text
  bool retired = false;
  bool in_standard_iod = false;
  std::string basic;                  // "X", "X/Z", "X/Z/U*"...
  std::string options[kOptionCount];  // the option columns, "" when the option does not apply
};

// The codes of a compound action, first the weakest (X) and last the one that keeps most.
std::vector<std::string> split_code(std::string_view code);

class Profile {
 public:
  // The embedded 2023b tables; parsed once, shared.
  static const Profile& standard();
  // Tables given as CSV text (tests); errors name the line.
  static core::Result<Profile> parse(std::string_view table_e1_1, std::string_view safe_private);

  // The row of an attribute (wildcard rows included: odd groups, 50xx, 60xx,3000/4000), or null
  // when the table does not list it (the attribute is kept).
  [[nodiscard]] const ProfileRow* row(std::uint16_t group, std::uint16_t element) const;

  // The action for a row under a set of options. Compound codes (X/Z, X/D, Z/D, X/Z/D,
  // X/Z/U*) take X when the attribute is in no standard composite IOD; otherwise the
  // alternative that keeps every IOD conformant whatever the attribute's type there
  // (D for Type 1, Z for Type 2, U* keeps a UID-referencing sequence with its UIDs replaced).
  // When a retain option (K) and a clean option (C) both apply, C wins: it keeps the
  // attribute and still removes identifying text.
  [[nodiscard]] static Action resolve(const ProfileRow& row, const Options& options);

  // Whether a private attribute is on the safe list: group, the low byte of the element and
  // the private creator of its block (exact, trailing spaces ignored).
  [[nodiscard]] bool safe_private(std::uint16_t group, std::uint8_t element_low,
                                  std::string_view creator) const;

  [[nodiscard]] size_t size() const { return rows_.size(); }
  [[nodiscard]] const std::vector<ProfileRow>& rows() const { return rows_; }

 private:
  std::vector<ProfileRow> rows_;
  std::unordered_map<std::uint32_t, size_t> by_tag_;
  size_t odd_group_ = 0, curve_ = 0, overlay_data_ = 0, overlay_comments_ = 0;
  std::unordered_set<std::string> safe_;  // "gggg,ee,creator"
};

// The dummy value written for action D, per VR (also what the checker accepts as a dummy).
std::string_view dummy_value(std::string_view vr);

}  // namespace vigie::phi
