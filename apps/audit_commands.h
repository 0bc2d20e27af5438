// The audit log on the command line: `vigie audit verify [--checkpoint FILE]` recomputes the
// hash chain and checks the signed checkpoints (exit 1 when either is broken), `vigie audit
// checkpoint` signs one now, `vigie audit export` gives the hospital its entries (CSV or JSON).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class AuditCommands {
 public:
  explicit AuditCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  int verify(AppContext& ctx) const;
  int checkpoint(AppContext& ctx) const;
  int export_entries(AppContext& ctx) const;

  CLI::App* verify_ = nullptr;
  CLI::App* checkpoint_ = nullptr;
  CLI::App* export_ = nullptr;
  bool json_ = false;
  std::string checkpoint_file_;
  std::string public_key_;
  std::string engineer_;
  std::int64_t device_ = 0;
  std::string from_;
  std::string to_;
  std::string format_ = "csv";
  std::string out_;
};

}  // namespace vigie::apps
