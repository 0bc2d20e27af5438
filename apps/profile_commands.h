// The device-communication-profile side of the command line: `vigie profiles import | export |
// list | show`. Registers its subcommands on the CLI and runs the one given.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class ProfileCommands {
 public:
  explicit ProfileCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* import_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* show_ = nullptr;

  std::string file_;
  std::string name_;
  std::string format_;
  std::string last_update_;
  bool json_ = false;
};

}  // namespace vigie::apps
