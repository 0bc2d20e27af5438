// DICOM de-identification (PS3.15 Annex E) with DCMTK: every element at every sequence depth
// gets the action Table E.1-1 gives it under the chosen options; private blocks go (or, with
// Retain Safe Private, keep only the safe list by creator); UIDs, referencing ones included,
// are replaced by keyed pseudonyms; (0012,0062)/(0012,0063)/(0012,0064) record the method.
// Pixel data that may carry burned-in text is refused or blanked: it never leaves as is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/phi/key.h"
#include "vigie/phi/profile.h"

namespace vigie::phi {

// What happens to pixel data that may show burned-in text: (0028,0301) Burned In Annotation
// not NO, or a modality / SOP class known to carry text (US, XA, SC, OT, ES, XC, DOC...).
enum class BurnedInPolicy : std::uint8_t {
  kRefuse,  // the file is refused, naming it and why (the default)
  kBlank,   // the pixel data is replaced by zeros (uncompressed); 113101 is recorded
};

struct DeidConfig {
  Options options;
  BurnedInPolicy burned_in = BurnedInPolicy::kRefuse;
  size_t max_bytes = size_t{1} << 31;  // larger inputs are refused
  int max_depth = 32;                  // deeper sequence nesting is refused
};

// Counts per action letter of Table E.1-1 (X, Z, D, K, C, U), for the audit log. Never values.
struct ActionCounts {
  std::array<size_t, 6> by_action{};  // indexed by Action
  size_t private_removed = 0;         // counted in X too
  size_t private_retained = 0;        // safe private attributes kept (counted in K)
  size_t uids_replaced = 0;           // UID values replaced (U counts elements)
  size_t dates_shifted = 0;           // dates moved under Retain Modified Dates
  bool pixels_blanked = false;

  [[nodiscard]] size_t count(Action a) const { return by_action.at(static_cast<size_t>(a)); }
  void add(const ActionCounts& other);
};

struct DeidOutput {
  std::string bytes;      // the de-identified DICOM file (with its file meta header)
  std::string file_name;  // "<new SOP Instance UID>.dcm": input names may carry PHI
  ActionCounts counts;
  // The identifying values the input held (names and their components, identifiers, birth
  // dates...), in UTF-8: the scrubber masks them in the texts of the same transfer.
  std::vector<std::string> identifying_values;
};

// Whether bytes look like DICOM: "DICM" at 128, or a little-endian dataset starting in group
// 0002 or 0008.
bool looks_like_dicom(std::string_view bytes);

class Deidentifier {
 public:
  Deidentifier(Key key, DeidConfig config, const Profile& profile = Profile::standard());

  // De-identifies one file. Errors (kInvalidInput) name the file in `where` and say why:
  // unparsable DICOM, too large, too deep, or burned-in text under the refuse policy.
  [[nodiscard]] core::Result<DeidOutput> run(std::string_view bytes, std::string_view name) const;

  [[nodiscard]] const DeidConfig& config() const { return config_; }

 private:
  Key key_;
  DeidConfig config_;
  const Profile* profile_;
};

}  // namespace vigie::phi
