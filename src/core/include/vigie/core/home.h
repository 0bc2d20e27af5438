// The data directory ("home") shared by every Vigie program: --home, else $VIGIE_HOME, else
// ~/.local/share/vigie (the systemd unit passes /var/lib/vigie).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace vigie::core {

std::filesystem::path resolve_home(const std::optional<std::string>& flag);

// The configuration file inside a home.
inline std::filesystem::path config_path(const std::filesystem::path& home) {
  return home / "vigie.toml";
}

}  // namespace vigie::core
