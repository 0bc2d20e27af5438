#include "backup_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/time.h"
#include "vigie/resilience/self_backup.h"
#include "vigie/resilience/self_backup_record.h"
#include "vigie/store/store.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace res = vigie::resilience;

core::Result<res::SelfBackup> self_backup(AppContext& ctx) {
  auto settings = res::backup_settings(ctx.config, ctx.home);
  if (!settings) return tl::unexpected(settings.error());
  const std::string url = store::resolve_url(ctx.config.store_url, ctx.home);
  return res::SelfBackup(*ctx.store, std::move(*settings),
                         res::default_sources(ctx.config, ctx.home, url));
}

res::Requester requester() { return {current_user(), "cli"}; }

// Vigie's own runs also go into the backup tracking, as the system "vigie".
res::Actor tracking_actor() { return {current_user(), "cli", core::format_utc(core::utc_now())}; }

json checkpoint_summary(const res::Checkpoint& c) {
  return {{"taken_at", c.taken_at},
          {"backend", c.backend},
          {"schema_version", c.schema_version},
          {"audit_entries", c.audit_entries},
          {"audit_head", c.audit_head},
          {"audit_ok", c.audit_ok},
          {"tables", c.tables},
          {"files", c.files.size()}};
}

std::string megabytes(std::int64_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

}  // namespace

BackupCommands::BackupCommands(CLI::App& app) {
  auto* backup = app.add_subcommand("backup", "Vigie's own backups (restic)");
  backup->require_subcommand(1);
  init_ = backup->add_subcommand("init", "Create the configured repositories that do not exist");
  run_ = backup->add_subcommand(
      "run", "Back up the store, configuration, keys and documents to every repository");
  run_->add_flag("--skip-unreachable", skip_unreachable_,
                 "Still back up to the reachable repositories when one cannot be reached");
  run_->add_flag("--json", json_, "The result as one JSON document");
  verify_ = backup->add_subcommand("verify", "restic check of every repository");
  verify_->add_option("--subset", subset_,
                      "Data read back: N% or n/t (default backup.check_subset)");
  verify_->add_flag("--json", json_, "The result as one JSON document");
  restore_ = backup->add_subcommand(
      "restore", "Restore a snapshot into an empty folder and check every file (recovery)");
  restore_->add_option("--target", target_, "Folder to restore into (created; must be empty)")
      ->required();
  restore_->add_option("--snapshot", snapshot_, "Snapshot id (default: the latest of Vigie's)");
  restore_->add_option("--repository", repository_,
                       "Repository as configured (default: the first one)");
  restore_->add_flag("--json", json_, "The result as one JSON document");
  restore_test_ = backup->add_subcommand(
      "restore-test", "Restore the latest snapshot aside, verify it, compare with the live store");
  restore_test_->add_option("--repository", repository_,
                            "Repository as configured (default: the first one)");
  restore_test_->add_flag("--json", json_, "The result as one JSON document");
  snapshots_ = backup->add_subcommand("snapshots", "Vigie's snapshots in each repository");
  snapshots_->add_option("--repository", repository_, "Only this repository");
  snapshots_->add_flag("--json", json_, "One JSON document");
}

std::optional<int> BackupCommands::run(AppContext& ctx) const {
  if (init_->parsed()) return init(ctx);
  if (run_->parsed()) return backup(ctx);
  if (verify_->parsed()) return verify(ctx);
  if (restore_->parsed()) return restore(ctx);
  if (restore_test_->parsed()) return restore_test(ctx);
  if (snapshots_->parsed()) return snapshots(ctx);
  return std::nullopt;
}

int BackupCommands::init(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  auto created = b->init(requester());
  if (!created) return fail_with(created.error());
  for (const auto& r : *created) std::cout << "created restic repository " << r << "\n";
  if (created->empty()) std::cout << "every configured repository already exists\n";
  return 0;
}

int BackupCommands::backup(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  res::RunOptions options;
  options.requester = requester();
  options.skip_unreachable = skip_unreachable_;
  options.on_step = [](std::string_view what) { std::cerr << "vigie: " << what << "\n"; };
  auto run = b->run(options);
  if (!run) return fail_with(run.error());
  if (auto st = res::record_self_backup(*ctx.store, *run, tracking_actor()); !st) {
    return fail_with(st.error());
  }
  if (json_) {
    json repos = json::array();
    for (const auto& r : run->repositories) {
      repos.push_back({{"repository", r.repository},
                       {"status", res::to_string(r.status)},
                       {"snapshot_id", r.snapshot_id},
                       {"bytes_added", r.bytes_added},
                       {"bytes_processed", r.bytes_processed},
                       {"seconds", r.seconds},
                       {"error", r.error}});
    }
    std::cout << dump({{"ok", run->ok()},
                       {"started_at", run->started_at},
                       {"finished_at", run->finished_at},
                       {"seconds", run->seconds},
                       {"staging_seconds", run->staging_seconds},
                       {"checkpoint", checkpoint_summary(run->checkpoint)},
                       {"repositories", repos},
                       {"audit_id", run->audit_id}})
              << "\n";
  } else {
    const auto& c = run->checkpoint;
    std::cout << fmt::format("checkpoint: {} store, schema {}, audit log {} entries{}, {} files\n",
                             c.backend, c.schema_version, c.audit_entries,
                             c.audit_ok ? "" : " (CHAIN BROKEN: " + c.audit_problem + ")",
                             c.files.size());
    for (const auto& r : run->repositories) {
      std::cout << fmt::format(
          "{:<11} {}  snapshot {}  added {}  {:.1f} s{}\n", res::to_string(r.status), r.repository,
          r.snapshot_id.empty() ? "-" : r.snapshot_id, megabytes(r.bytes_added), r.seconds,
          r.error.empty() ? "" : "\n            " + r.error);
    }
  }
  return run->ok() ? 0 : 1;
}

int BackupCommands::verify(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  auto v = b->verify(requester(), subset_);
  if (!v) return fail_with(v.error());
  if (auto st = res::record_self_verify(*ctx.store, *v, tracking_actor()); !st) {
    return fail_with(st.error());
  }
  if (json_) {
    json repos = json::array();
    for (const auto& r : v->repositories) {
      repos.push_back({{"repository", r.repository},
                       {"ok", r.ok},
                       {"subset", r.subset},
                       {"seconds", r.seconds},
                       {"errors", r.errors},
                       {"notes", r.notes}});
    }
    std::cout << dump({{"ok", v->ok()}, {"at", v->at}, {"repositories", repos}}) << "\n";
  } else {
    for (const auto& r : v->repositories) {
      std::cout << fmt::format("{:<6} {}  (read {} of the data, {:.1f} s)\n",
                               r.ok ? "ok" : "FAILED", r.repository, r.subset, r.seconds);
      for (const auto& e : r.errors) std::cout << "       " << e << "\n";
      if (!r.notes.empty()) {
        std::cout << fmt::format("       {} note(s), e.g. {}\n", r.notes.size(), r.notes.back());
      }
    }
  }
  return v->ok() ? 0 : 1;
}

int BackupCommands::restore(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  auto r = b->restore({requester(), repository_, snapshot_, target_});
  if (!r) return fail_with(r.error());
  const auto& c = r->checkpoint;
  if (json_) {
    std::cout << dump({{"ok", r->ok()},
                       {"at", r->at},
                       {"repository", r->repository},
                       {"snapshot_id", r->snapshot_id},
                       {"target", r->target.string()},
                       {"files_checked", r->files_checked},
                       {"bytes_checked", r->bytes_checked},
                       {"failures", r->failures},
                       {"restore_seconds", r->restore_seconds},
                       {"seconds", r->seconds},
                       {"checkpoint", checkpoint_summary(c)},
                       {"audit_id", r->audit_id}})
              << "\n";
  } else {
    std::cout << fmt::format("snapshot {} from {} restored into {}: {}\n", r->snapshot_id,
                             r->repository, r->target.string(), r->ok() ? "CHECKED" : "DAMAGED");
    for (const auto& f : r->failures) std::cout << "  failure: " << f << "\n";
    std::cout << fmt::format(
        "  {} files ({}) match the checkpoint of {}; restored in {:.1f} s\n"
        "  the store must show audit log {} entries, head {} (vigie audit verify)\n",
        r->files_checked, megabytes(r->bytes_checked), c.taken_at, r->restore_seconds,
        c.audit_entries, c.audit_head);
  }
  return r->ok() ? 0 : 1;
}

int BackupCommands::restore_test(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  auto t = b->restore_test(requester(), repository_);
  if (!t) return fail_with(t.error());
  if (auto st = res::record_self_restore_test(*ctx.store, *t, tracking_actor()); !st) {
    return fail_with(st.error());
  }
  if (json_) {
    json tables = json::array();
    for (const auto& row : t->tables) {
      tables.push_back({{"table", row.table},
                        {"checkpoint", row.checkpoint},
                        {"restored", row.restored},
                        {"live", row.live}});
    }
    std::cout << dump({{"passed", t->passed},
                       {"at", t->at},
                       {"repository", t->repository},
                       {"snapshot_id", t->snapshot_id},
                       {"snapshot_time", t->snapshot_time},
                       {"failures", t->failures},
                       {"restore_seconds", t->restore_seconds},
                       {"seconds", t->seconds},
                       {"checkpoint", checkpoint_summary(t->checkpoint)},
                       {"restored_audit_entries", t->restored_audit_entries},
                       {"restored_audit_head", t->restored_audit_head},
                       {"tables", tables},
                       {"live_audit_entries_since", t->live_audit_entries},
                       {"live_drift", t->live_drift},
                       {"audit_id", t->audit_id}})
              << "\n";
  } else {
    std::cout << fmt::format("restore test of snapshot {} ({}) from {}: {}\n", t->snapshot_id,
                             t->snapshot_time, t->repository, t->passed ? "PASSED" : "FAILED");
    for (const auto& f : t->failures) std::cout << "  failure: " << f << "\n";
    std::cout << fmt::format(
        "  restored in {:.1f} s (whole test {:.1f} s); audit log {} entries, "
        "head {}\n",
        t->restore_seconds, t->seconds, t->restored_audit_entries,
        t->restored_audit_head.substr(0, 16));
    std::cout << fmt::format("  since the snapshot: {} audit entries in the live log\n",
                             t->live_audit_entries);
    for (const auto& d : t->live_drift) std::cout << "  live drift: " << d << "\n";
  }
  return t->passed ? 0 : 1;
}

int BackupCommands::snapshots(AppContext& ctx) const {
  auto b = self_backup(ctx);
  if (!b) return fail_with(b.error());
  auto list = b->snapshots(repository_);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& [repo, snaps] : *list) {
      json items = json::array();
      for (const auto& s : snaps) {
        items.push_back({{"id", s.id},
                         {"short_id", s.short_id},
                         {"time", s.time},
                         {"hostname", s.hostname},
                         {"tags", s.tags}});
      }
      out.push_back({{"repository", repo}, {"snapshots", items}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  for (const auto& [repo, snaps] : *list) {
    std::cout << fmt::format("{} ({} snapshot{})\n", repo, snaps.size(),
                             snaps.size() == 1 ? "" : "s");
    for (const auto& s : snaps) {
      std::cout << fmt::format("  {}  {}  {}\n", s.short_id, s.time.substr(0, 19), s.hostname);
    }
  }
  if (!ctx.config.backup_retention.empty()) {
    std::cout << "retention (on the trusted host): " << ctx.config.backup_retention << "\n";
  }
  return 0;
}

}  // namespace vigie::apps
