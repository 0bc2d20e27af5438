// The network-policy side of the command line that turns a zone's allow-list into nftables:
// `policy generate` (a zone's ruleset as .nft or JSON, checked by nft) and `policy check`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class PolicyCommands {
 public:
  explicit PolicyCommands(CLI::App& app);

  // `policy check` needs no home: its exit code, or nullopt when it was not given.
  std::optional<int> run_without_home() const;
  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* generate_ = nullptr;
  CLI::App* check_ = nullptr;

  std::string zone_;
  std::string format_ = "nft";
  std::string output_;
  bool no_check_ = false;
  std::string file_;
  bool json_ = false;
};

}  // namespace vigie::apps
