#include "audit_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_output.h"
#include "vigie/audit/audit.h"
#include "vigie/audit/checkpoint.h"
#include "vigie/core/file.h"
#include "vigie/core/time.h"

namespace vigie::apps {

AuditCommands::AuditCommands(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);
  verify_ = audit->add_subcommand(
      "verify", "Recompute the hash chain and check the signed checkpoints (exit 1 when broken)");
  verify_->add_flag("--json", json_, "The result as one JSON document");
  verify_->add_option("--checkpoint", checkpoint_file_,
                      "A checkpoint file (default: audit.checkpoint_file), e.g. a copy kept "
                      "off the machine");
  verify_->add_option("--public-key", public_key_,
                      "The checkpoints' public key (default: audit.checkpoint_key + .pub)");
  checkpoint_ = audit->add_subcommand(
      "checkpoint", "Sign the log as it is now (Merkle root, Ed25519) into the checkpoint file");
  export_ = audit->add_subcommand("export", "The hospital's copy of audit entries");
  export_->add_option("--engineer", engineer_, "Only this engineer's entries");
  export_->add_option("--device", device_, "Only this device's entries (id)");
  export_->add_option("--from", from_, "From this date or time (ISO 8601 UTC)");
  export_->add_option("--to", to_, "To this date or time (inclusive)");
  export_->add_option("--format", format_, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  export_->add_option("--out", out_, "Write to this file (default: stdout)");
}

std::optional<int> AuditCommands::run(AppContext& ctx) const {
  if (verify_->parsed()) return verify(ctx);
  if (checkpoint_->parsed()) return checkpoint(ctx);
  if (export_->parsed()) return export_entries(ctx);
  return std::nullopt;
}

int AuditCommands::verify(AppContext& ctx) const {
  auto v = audit::verify(*ctx.store);
  if (!v) return fail_with(v.error());
  // The checkpoints, when there are some (or when a file is named).
  const auto file = checkpoint_file_.empty() ? ctx.home / ctx.config.audit_checkpoint_file
                                             : std::filesystem::path(checkpoint_file_);
  std::optional<audit::CheckpointReport> checked;
  if (!checkpoint_file_.empty() || std::filesystem::exists(file)) {
    const auto key_file = public_key_.empty()
                              ? ctx.home / (ctx.config.audit_checkpoint_key + ".pub")
                              : std::filesystem::path(public_key_);
    auto pem = core::read_file(key_file);
    if (!pem) return fail_with(pem.error());
    auto report = audit::verify_against(*ctx.store, file, *pem);
    if (!report) return fail_with(report.error());
    checked = *report;
  }
  const bool ok = v->ok && (!checked || checked->ok);
  if (json_) {
    nlohmann::json out{{"ok", ok},
                       {"entries", v->entries},
                       {"head", v->head},
                       {"first_bad_id", v->ok ? nlohmann::json() : nlohmann::json(v->first_bad_id)},
                       {"problem", v->problem}};
    if (checked) {
      out["checkpoints"] = {{"file", file.string()},
                            {"verified", checked->checkpoints},
                            {"ok", checked->ok},
                            {"problem", checked->problem}};
    }
    std::cout << dump(out) << "\n";
    return ok ? 0 : 1;
  }
  if (v->ok) {
    std::cout << fmt::format("audit log intact: {} entries, head {}\n", v->entries,
                             v->head.empty() ? "-" : v->head);
  } else {
    std::cout << fmt::format("audit log BROKEN at entry {}: {} ({} entries verified before it)\n",
                             v->first_bad_id, v->problem, v->entries);
  }
  if (checked && checked->ok) {
    std::cout << fmt::format("checkpoints hold: {} of {} verified\n", checked->checkpoints,
                             file.string());
  } else if (checked) {
    std::cout << fmt::format("checkpoint BROKEN: {}\n", checked->problem);
  }
  return ok ? 0 : 1;
}

int AuditCommands::checkpoint(AppContext& ctx) const {
  auto key = audit::load_or_create_key(ctx.home / ctx.config.audit_checkpoint_key);
  if (!key) return fail_with(key.error());
  auto c = audit::write_checkpoint(*ctx.store, ctx.home / ctx.config.audit_checkpoint_file, *key,
                                   core::format_utc(core::utc_now()));
  if (!c) return fail_with(c.error());
  std::cout << fmt::format("checkpoint: {} entries, Merkle root {}, signed at {} (key {})\n",
                           c->size, c->root, c->at, c->key_id);
  return 0;
}

int AuditCommands::export_entries(AppContext& ctx) const {
  audit::ExportFilter filter{engineer_, device_, from_, to_};
  auto entries = audit::select_entries(*ctx.store, filter);
  if (!entries) return fail_with(entries.error());
  const std::string text = format_ == "json" ? audit::to_json(*entries) : audit::to_csv(*entries);
  if (out_.empty()) {
    std::cout << text;
  } else if (auto st = core::write_file_durably(out_, text, 0600); !st) {
    return fail_with(st.error());
  } else {
    std::cerr << fmt::format("vigie: {} entries written to {}\n", entries->size(), out_);
  }
  return 0;
}

}  // namespace vigie::apps
