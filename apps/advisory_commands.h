// The advisory side of the command line: advisories, notices, assess, findings and report.
// Registers its subcommands on the CLI and runs the one given.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app_context.h"

namespace vigie::apps {

class AdvisoryCommands {
 public:
  explicit AdvisoryCommands(CLI::App& app);

  // `advisories validate` needs no home: its exit code, or nullopt when it was not given.
  std::optional<int> run_without_home() const;
  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* advisories_import_ = nullptr;
  CLI::App* advisories_validate_ = nullptr;
  CLI::App* advisories_list_ = nullptr;
  CLI::App* notices_add_ = nullptr;
  CLI::App* notices_list_ = nullptr;
  CLI::App* notices_show_ = nullptr;
  CLI::App* notices_ack_ = nullptr;
  CLI::App* assess_ = nullptr;
  CLI::App* findings_ = nullptr;
  CLI::App* findings_set_ = nullptr;
  CLI::App* findings_history_ = nullptr;
  CLI::App* report_notice_ = nullptr;
  CLI::App* report_device_ = nullptr;

  std::vector<std::string> files_;
  bool force_ = false;
  bool json_ = false;

  std::string reference_;
  std::string advisory_;
  std::string title_;
  std::string received_on_;
  std::string channel_;
  std::string forwarded_to_;
  std::int64_t response_days_ = 0;
  std::string response_due_;
  std::string document_;
  std::string ack_by_;
  std::string ack_on_;
  std::string ack_reference_;

  std::vector<std::string> explain_;
  bool overdue_ = false;
  bool all_ = false;
  std::int64_t device_ = 0;
  std::int64_t finding_ = 0;
  std::vector<std::string> assignments_;

  std::string format_ = "html";
  std::string language_ = "fr";
  std::string output_;
};

// Who the command acts as: $VIGIE_USER, else $USER, else "unknown" (recorded in the history).
std::string current_user();

}  // namespace vigie::apps
