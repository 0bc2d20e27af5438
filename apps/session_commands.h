// Remote-service sessions on the command line. The hospital's side, on its store:
// `vigie sessions list|show|approve|refuse|end`. The engineer's side, through the broker (no
// home needed): `vigie login`, `vigie sessions request|open|status` and `end --broker`,
// `vigie transfer list|get|put`.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app_context.h"
#include "vigie/remote/engineer.h"

namespace vigie::apps {

class SessionCommands {
 public:
  explicit SessionCommands(CLI::App& app);
  // The engineer's commands: they run on his PC, without a home.
  [[nodiscard]] std::optional<int> run_without_home() const;
  std::optional<int> run(AppContext& ctx) const;

 private:
  struct BrokerFlags {
    std::string broker;
    std::string ca_file;
    std::string credential_file;
    std::string proxy;
    std::string identity;
  };
  void add_broker_flags(CLI::App* command, bool credential);
  [[nodiscard]] core::Result<remote::EngineerOptions> engineer_options(bool credential) const;

  int login() const;
  int request() const;
  int open() const;
  int status() const;
  int end_remote() const;
  int transfer() const;
  int list(AppContext& ctx) const;
  int show(AppContext& ctx) const;
  int approve(AppContext& ctx) const;

  CLI::App* login_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* approve_ = nullptr;
  CLI::App* refuse_ = nullptr;
  CLI::App* end_ = nullptr;
  CLI::App* request_ = nullptr;
  CLI::App* open_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* transfer_list_ = nullptr;
  CLI::App* transfer_get_ = nullptr;
  CLI::App* transfer_put_ = nullptr;

  BrokerFlags flags_;
  std::string engineer_;
  std::string password_file_;
  std::string otp_;
  std::string save_;
  std::int64_t id_ = 0;
  std::int64_t device_ = 0;
  std::vector<int> ports_;
  std::string operations_;
  std::string reason_;
  std::string ticket_;
  std::string note_;
  std::string password_;
  std::string name_;
  std::string file_;
  std::string out_;
  bool wait_ = false;
  bool all_ = false;
  bool json_ = false;
};

}  // namespace vigie::apps
