#include "vigie/core/home.h"

#include <cstdlib>

namespace vigie::core {

std::filesystem::path resolve_home(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return std::filesystem::absolute(*flag);
  if (const char* env = std::getenv("VIGIE_HOME"); env != nullptr && *env != '\0') {
    return std::filesystem::absolute(env);
  }
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "vigie";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".local" / "share" / "vigie";
}

}  // namespace vigie::core
