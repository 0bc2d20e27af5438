// Validation of CSAF 2.0 documents: the OASIS JSON schema (with the FIRST CVSS schemas it
// references) and every mandatory test of section 6.1 of the standard. Each problem names the
// test ("schema", "6.1.1" ... "6.1.33", "6.1.27.1"...), the JSON pointer and the reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::advisory {

struct ValidationIssue {
  std::string test;     // "json", "schema", "6.1.1", "6.1.27.3"...
  std::string pointer;  // JSON pointer in the document ("" = the whole document)
  std::string reason;
};

struct ValidationReport {
  std::vector<ValidationIssue> issues;
  [[nodiscard]] bool valid() const { return issues.empty(); }
};

// Validates a CSAF text. A text that is not JSON at all is reported as one "json" issue whose
// pointer is empty and whose reason names the line and column.
ValidationReport validate_csaf(std::string_view json_text);

}  // namespace vigie::advisory
