// The backup-tracking side of the command line (`vigie backups ...`): each system's backup
// policy, the runs imported from restic, borg or CSV, verifications and restore tests people
// record, the status of every system against its RPO and restore-test interval, and alerts
// (`vigie backups alerts` for the backup ones, `vigie alerts` for every kind).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app_context.h"

namespace vigie::apps {

class BackupsCommands {
 public:
  explicit BackupsCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  int policy_set(AppContext& ctx) const;
  int policies(AppContext& ctx) const;
  int import(AppContext& ctx) const;
  int runs(AppContext& ctx) const;
  int verification_record(AppContext& ctx) const;
  int verifications(AppContext& ctx) const;
  int restore_test_record(AppContext& ctx) const;
  int restore_tests(AppContext& ctx) const;
  int status(AppContext& ctx) const;
  int alerts(AppContext& ctx) const;

  CLI::App* policy_set_ = nullptr;
  CLI::App* policies_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* runs_ = nullptr;
  CLI::App* verification_record_ = nullptr;
  CLI::App* verifications_ = nullptr;
  CLI::App* restore_test_record_ = nullptr;
  CLI::App* restore_tests_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* alerts_ = nullptr;
  CLI::App* every_alert_ = nullptr;  // `vigie alerts`

  std::string system_;
  bool json_ = false;
  std::int64_t limit_ = 0;

  // policy set
  std::int64_t device_ = 0;
  std::string criticality_;
  std::string description_;
  std::string method_;
  std::optional<std::int64_t> rpo_hours_;
  std::string schedule_;
  std::string retention_;
  std::vector<std::string> targets_;
  bool offsite_ = false;
  bool immutable_ = false;
  std::string checked_by_;
  std::optional<std::int64_t> restore_test_days_;
  std::string notes_;

  // import
  std::string file_;
  std::string format_;
  std::string utc_offset_;
  std::string finished_at_;

  // verification and restore-test record
  std::string at_;
  std::string status_text_;
  std::string snapshot_;
  std::string scope_;
  std::string detail_;
  std::string by_;
  std::string result_;
  std::optional<std::int64_t> restore_seconds_;
  std::optional<std::int64_t> restore_minutes_;

  // alerts
  bool evaluate_ = false;
  bool all_ = false;
  std::string kind_prefix_;
};

}  // namespace vigie::apps
