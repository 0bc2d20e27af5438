// The independent checker behind `vigie phi check`: lists any PHI still found in a file. For
// DICOM, every element at every depth is held against Table E.1-1 under the options the file
// claims to have been de-identified with (what each compound code allows: absent, empty, the
// dummy of its VR, a remapped UID), plus private tags, UIDs not in the remapped form, the
// file meta header, the de-identification marks and pixel data that may show burned-in text.
// It shares the tables with the de-identifier, not its walker. Findings never quote values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/phi/profile.h"

namespace vigie::phi {

struct CheckFinding {
  std::string where;   // "(0040,A730)[2]/(0040,A123)", or "line 12" for text
  std::string kind;    // "identifying value", "private attribute", "UID not remapped"...
  std::string detail;  // the attribute's name or the detector; never the value
};

// The options the file records in (0012,0064) (CID 7050 codes) are the ones checked against.
// Refused (kInvalidInput naming the file) when it cannot be parsed.
core::Result<std::vector<CheckFinding>> check_dicom(std::string_view bytes, std::string_view name);

// Text: the scrubber's detectors (with the site patterns and a deny-list, if any).
class Scrubber;
core::Result<std::vector<CheckFinding>> check_text(const Scrubber& scrubber, std::string_view text,
                                                   std::string_view name);

}  // namespace vigie::phi
