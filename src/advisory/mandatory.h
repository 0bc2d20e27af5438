// The mandatory tests of CSAF 2.0, section 6.1 (6.1.1 ... 6.1.33), run on a parsed document.
// Internal to the advisory module: validate_csaf() runs them after the JSON schema.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "vigie/advisory/validate.h"

namespace vigie::advisory {

// Appends one issue per failure of a mandatory test to `out`, in document order per test.
void run_mandatory_tests(const nlohmann::json& document, std::vector<ValidationIssue>& out);

}  // namespace vigie::advisory
