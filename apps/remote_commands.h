// The remote-service gateway's transport on the command line: `vigie connectors` (add prints
// the one-time enrollment code, list, revoke, token), `vigie grants` (by hand: add, list,
// revoke) and `vigie connect` (the engineer's tunnel). Who may connect: access_commands.h;
// sessions: session_commands.h.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class RemoteCommands {
 public:
  explicit RemoteCommands(CLI::App& app);

  // `vigie connect` needs no home: it runs on the engineer's PC.
  [[nodiscard]] std::optional<int> run_without_home() const;
  // The exit code of the command given, or nullopt when it is none of them.
  std::optional<int> run(AppContext& ctx) const;

 private:
  int connectors_add(AppContext& ctx) const;
  int connectors_list(AppContext& ctx) const;
  int connect() const;

  CLI::App* connectors_add_ = nullptr;
  CLI::App* connectors_list_ = nullptr;
  CLI::App* connectors_revoke_ = nullptr;
  CLI::App* connectors_token_ = nullptr;
  CLI::App* grants_add_ = nullptr;
  CLI::App* grants_list_ = nullptr;
  CLI::App* grants_revoke_ = nullptr;
  CLI::App* connect_ = nullptr;

  std::string name_;
  std::string zone_;
  std::string engineer_;
  std::int64_t device_ = 0;
  int port_ = 0;
  std::string until_;
  std::int64_t grant_id_ = 0;
  std::string broker_;
  std::string ca_file_;
  std::string credential_file_;
  std::string proxy_;
  std::string local_ = "127.0.0.1:0";
  std::string device_ref_;
  bool list_ = false;
  bool json_ = false;
};

}  // namespace vigie::apps
