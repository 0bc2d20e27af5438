// The network-policy side of the command line: zones, site roles, the hospital's firewall
// rules and the exposure of risky ports. Registers its subcommands and runs the one given.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app_context.h"

namespace vigie::apps {

class NetpolicyCommands {
 public:
  explicit NetpolicyCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* zones_list_ = nullptr;
  CLI::App* zones_set_ = nullptr;
  CLI::App* zones_add_ = nullptr;
  CLI::App* roles_bind_ = nullptr;
  CLI::App* roles_unbind_ = nullptr;
  CLI::App* roles_list_ = nullptr;
  CLI::App* roles_resolve_ = nullptr;
  CLI::App* firewall_import_ = nullptr;
  CLI::App* firewall_list_ = nullptr;
  CLI::App* exposure_ = nullptr;

  bool json_ = false;
  std::string zone_;
  std::vector<std::string> assignments_;
  std::string site_;
  std::string role_;
  std::string address_;
  bool force_ = false;
  std::string file_;
  std::string format_;
  std::string ruleset_;
  std::vector<std::string> interfaces_;
  bool skip_unsupported_ = false;
  std::int64_t device_ = 0;
  int port_ = 0;
  bool all_ = false;
  bool mitigations_ = false;
  std::string from_;
};

}  // namespace vigie::apps
