// The disaster-recovery exports on the command line: `vigie export keygen | host-keygen | host
// add/remove/list | procedure add/remove/list | contacts import/list | run | status | verify`.
// `host-keygen` and `verify` run on a strategic PC and need no home.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class ExportCommands {
 public:
  explicit ExportCommands(CLI::App& app);

  // `export verify` and `export host-keygen`: their exit code, or nullopt when not given.
  std::optional<int> run_without_home() const;
  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* keygen_ = nullptr;
  CLI::App* host_keygen_ = nullptr;
  CLI::App* host_add_ = nullptr;
  CLI::App* host_remove_ = nullptr;
  CLI::App* host_list_ = nullptr;
  CLI::App* procedure_add_ = nullptr;
  CLI::App* procedure_remove_ = nullptr;
  CLI::App* procedure_list_ = nullptr;
  CLI::App* contacts_import_ = nullptr;
  CLI::App* contacts_list_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* verify_ = nullptr;

  std::string name_;
  std::string file_;
  std::string out_dir_;
  std::string pubkey_;
  std::string ssh_;
  std::string remote_dir_;
  std::string ssh_host_key_;
  bool replace_ = false;
  std::string title_;
  std::string applies_to_;
  std::string key_;
  std::string decrypt_with_;
  std::string unpack_;
  bool json_ = false;
};

}  // namespace vigie::apps
