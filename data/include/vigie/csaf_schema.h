// The OASIS CSAF 2.0 JSON schema and the FIRST CVSS schemas it references
// (data/csaf-schema/), embedded at build time for the advisory validator.
#pragma once

#include <string_view>

namespace vigie::csaf_schema {

std::string_view csaf_json_schema();
std::string_view cvss_v2_schema();   // https://www.first.org/cvss/cvss-v2.0.json
std::string_view cvss_v30_schema();  // https://www.first.org/cvss/cvss-v3.0.json
std::string_view cvss_v31_schema();  // https://www.first.org/cvss/cvss-v3.1.json

}  // namespace vigie::csaf_schema
