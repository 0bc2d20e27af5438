// The offline side of the command line (docs/resilience-offline.md). On the standalone PC:
// `vigie offline init|record|list|verify|devices` and `vigie sync` work on the local journal
// alone, never on a store. On the server: `vigie offline token-create` and
// `vigie sync conflicts|resolve|problems` work on the store.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class OfflineCommands {
 public:
  explicit OfflineCommands(CLI::App& app);

  // The exit code of a command of the offline PC, or nullopt when none was given.
  [[nodiscard]] std::optional<int> run_without_store(
      const std::optional<std::string>& home_flag) const;
  // The exit code of a server-side command, or nullopt when none was given.
  [[nodiscard]] std::optional<int> run(AppContext& ctx) const;

 private:
  int init(const std::filesystem::path& home) const;
  int record(const std::filesystem::path& home) const;
  int list(const std::filesystem::path& home) const;
  int verify(const std::filesystem::path& home) const;
  int devices(const std::filesystem::path& home) const;
  int sync(const std::filesystem::path& home) const;
  int token_create(AppContext& ctx) const;
  int conflicts(AppContext& ctx) const;
  int resolve(AppContext& ctx) const;
  int problems(AppContext& ctx) const;

  CLI::App* init_ = nullptr;
  CLI::App* record_status_ = nullptr;
  CLI::App* record_edit_ = nullptr;
  CLI::App* record_mitigation_ = nullptr;
  CLI::App* record_backup_ = nullptr;
  CLI::App* record_note_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* devices_ = nullptr;
  CLI::App* token_create_ = nullptr;
  CLI::App* sync_ = nullptr;
  CLI::App* conflicts_ = nullptr;
  CLI::App* resolve_ = nullptr;
  CLI::App* problems_ = nullptr;

  std::string site_;
  std::string server_;
  std::string server_cert_;
  std::string fingerprint_;
  std::string token_file_;
  std::string inventory_site_;
  std::string actor_;
  std::int64_t id_ = 0;
  std::string value_;  // status, FIELD=VALUE, system name, note object
  std::string text_;   // --reason, --note, note text
  std::string result_ = "ok";
  std::string keep_;
  bool json_ = false;
  bool all_ = false;
  bool pending_ = false;
  size_t batch_ = 2000;
};

}  // namespace vigie::apps
