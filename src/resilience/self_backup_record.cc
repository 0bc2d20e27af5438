#include "vigie/resilience/self_backup_record.h"

#include <fmt/format.h>

#include <cmath>

namespace vigie::resilience {
namespace {

core::Status ensure_vigie(store::Store& store, const Actor& actor) {
  auto id = ensure_system(store,
                          {std::string(kVigieSystem), 0, Criticality::kCritical,
                           "Vigie itself: store, configuration, keys, documents"},
                          actor);
  if (!id) return tl::unexpected(id.error());
  return {};
}

}  // namespace

core::Status record_self_backup(store::Store& store, const SelfBackupRun& run, const Actor& actor) {
  if (auto st = ensure_vigie(store, actor); !st) return st;
  for (const RepositoryRun& r : run.repositories) {
    BackupRun rec;
    rec.system = std::string(kVigieSystem);
    rec.snapshot_id = r.snapshot_id;
    rec.started_at = run.started_at;
    rec.finished_at = run.finished_at;
    rec.status = r.status == RepositoryStatus::kOk           ? RunStatus::kOk
                 : r.status == RepositoryStatus::kIncomplete ? RunStatus::kWarning
                                                             : RunStatus::kFailed;
    rec.size_bytes = r.bytes_processed;
    rec.added_bytes = r.bytes_added;
    rec.duration_ms = static_cast<std::int64_t>(r.seconds * 1000);
    rec.source = "vigie-backup";
    rec.detail = r.error.empty() ? r.repository : fmt::format("{}: {}", r.repository, r.error);
    auto done = record_run(store, rec, actor);
    if (!done) return tl::unexpected(done.error());
  }
  return {};
}

core::Status record_self_verify(store::Store& store, const VerifyRun& run, const Actor& actor) {
  if (auto st = ensure_vigie(store, actor); !st) return st;
  Verification v;
  v.system = std::string(kVigieSystem);
  v.verified_at = run.at;
  v.ok = run.ok();
  std::string scope;
  std::string detail;
  for (const RepositoryCheck& c : run.repositories) {
    scope += fmt::format("{}restic check --read-data-subset={} {}", scope.empty() ? "" : "; ",
                         c.subset, c.repository);
    for (const auto& e : c.errors)
      detail += fmt::format("{}{}: {}", detail.empty() ? "" : "; ", c.repository, e);
  }
  v.scope = scope;
  v.detail = detail;
  v.source = "vigie-backup";
  auto done = record_verification(store, v, actor);
  if (!done) return tl::unexpected(done.error());
  return {};
}

core::Status record_self_restore_test(store::Store& store, const SelfRestoreTest& test,
                                      const Actor& actor) {
  if (auto st = ensure_vigie(store, actor); !st) return st;
  RestoreTest t;
  t.system = std::string(kVigieSystem);
  t.tested_at = test.at;
  t.tested_by = actor.name;
  t.scope = fmt::format(
      "latest snapshot of {}: store opened, audit chain verified, row counts "
      "compared",
      test.repository);
  t.snapshot_id = test.snapshot_id;
  t.restore_seconds = std::llround(test.restore_seconds);
  t.result = test.passed ? TestResult::kOk : TestResult::kFailed;
  for (const auto& f : test.failures) t.detail += (t.detail.empty() ? "" : "; ") + f;
  t.source = "vigie-backup";
  auto done = record_restore_test(store, t, actor);
  if (!done) return tl::unexpected(done.error());
  return {};
}

}  // namespace vigie::resilience
