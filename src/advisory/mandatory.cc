#include "mandatory.h"

namespace vigie::advisory {
void run_mandatory_tests(const nlohmann::json&, std::vector<ValidationIssue>&) {}
}  // namespace vigie::advisory
