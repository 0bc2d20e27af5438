// Vigie's own backups on the command line: `vigie backup init | run | verify | restore |
// restore-test | snapshots` (restic underneath; docs/resilience-backup.md).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class BackupCommands {
 public:
  explicit BackupCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  int init(AppContext& ctx) const;
  int backup(AppContext& ctx) const;
  int verify(AppContext& ctx) const;
  int restore(AppContext& ctx) const;
  int restore_test(AppContext& ctx) const;
  int snapshots(AppContext& ctx) const;

  CLI::App* init_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* restore_ = nullptr;
  CLI::App* restore_test_ = nullptr;
  CLI::App* snapshots_ = nullptr;

  std::string repository_;
  std::string subset_;
  std::string snapshot_;
  std::string target_;
  bool skip_unreachable_ = false;
  bool json_ = false;
};

}  // namespace vigie::apps
