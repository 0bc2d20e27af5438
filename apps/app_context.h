// What both programs do first: find the home, read its configuration, set up logging and
// open the store. Shared by vigie and vigied only.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vigie/core/config.h"
#include "vigie/store/store.h"

namespace vigie::apps {

struct AppContext {
  std::filesystem::path home;
  core::Config config;
  std::unique_ptr<store::Store> store;
};

// Reads <home>/vigie.toml (defaults when absent), initialises logging, opens the store.
core::Result<AppContext> open_home(const std::optional<std::string>& home_flag);

// Imports the embedded demo hospital (inventory, the letters it received and their advisories,
// assessed) when the store has no device yet. Returns the number
// of devices loaded (0 when the store already had devices).
core::Result<size_t> load_demo_if_empty(AppContext& ctx);

}  // namespace vigie::apps
