// Parsing of untrusted JSON documents for the advisory module: bounded size and nesting,
// syntax errors with line and column. Internal to the module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::advisory {

// The parsed document, or an error whose `where` is "line:column" (syntax) or empty.
core::Result<nlohmann::json> parse_json_document(std::string_view text);

// One reference token of a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string escape_pointer_token(std::string_view token);

}  // namespace vigie::advisory
