// Parsing of untrusted JSON documents for the advisory module: bounded size and nesting,
// syntax errors with line and column. Internal to the module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::advisory {

// Size and nesting within bounds (256 MiB, 64 levels), checked before any parser runs; an
// error's `where` is "line:column" of the first level too deep.
core::Status check_json_limits(std::string_view text);

// The parsed document, or an error whose `where` is "line:column" (syntax) or empty.
core::Result<nlohmann::json> parse_json_document(std::string_view text);

// One reference token of a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string escape_pointer_token(std::string_view token);

}  // namespace vigie::advisory
