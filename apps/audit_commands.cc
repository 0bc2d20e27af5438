#include "audit_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_output.h"
#include "vigie/audit/audit.h"

namespace vigie::apps {

AuditCommands::AuditCommands(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);
  verify_ = audit->add_subcommand("verify", "Recompute the hash chain (exit 1 when broken)");
  verify_->add_flag("--json", json_, "The result as one JSON document");
}

std::optional<int> AuditCommands::run(AppContext& ctx) const {
  if (!verify_->parsed()) return std::nullopt;
  auto v = audit::verify(*ctx.store);
  if (!v) return fail_with(v.error());
  if (json_) {
    std::cout << dump({{"ok", v->ok},
                       {"entries", v->entries},
                       {"head", v->head},
                       {"first_bad_id", v->ok ? nlohmann::json() : nlohmann::json(v->first_bad_id)},
                       {"problem", v->problem}})
              << "\n";
  } else if (v->ok) {
    std::cout << fmt::format("audit log intact: {} entries, head {}\n", v->entries,
                             v->head.empty() ? "-" : v->head);
  } else {
    std::cout << fmt::format("audit log BROKEN at entry {}: {} ({} entries verified before it)\n",
                             v->first_bad_id, v->problem, v->entries);
  }
  return v->ok ? 0 : 1;
}

}  // namespace vigie::apps
