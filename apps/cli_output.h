// What every command of the command line prints the same way: a refusal on stderr with the
// exit code DESIGN.md gives it, and JSON documents on stdout.
#pragma once

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "vigie/core/result.h"

namespace vigie::apps {

// Prints "vigie: WHERE: MESSAGE" on stderr; returns 1 (refused) or 2 (usage, unreadable).
inline int fail_with(const core::Error& e) {
  std::cerr << "vigie: " << e.to_string() << "\n";
  return core::exit_code(e);
}

// Indented JSON; invalid UTF-8 in stored text is replaced rather than thrown on.
inline std::string dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigie::apps
