// The audit log on the command line: `vigie audit verify` recomputes the hash chain of the
// current store (exit 1 when it is broken).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

#include "app_context.h"

namespace vigie::apps {

class AuditCommands {
 public:
  explicit AuditCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is none of these.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* verify_ = nullptr;
  bool json_ = false;
};

}  // namespace vigie::apps
