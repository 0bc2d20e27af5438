#include "daemon_jobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "vigie/audit/checkpoint.h"
#include "vigie/core/log.h"
#include "vigie/notify/settings.h"
#include "vigie/resilience/alert_notices.h"
#include "vigie/resilience/alerts.h"
#include "vigie/resilience/dr_export.h"
#include "vigie/resilience/self_backup.h"
#include "vigie/resilience/self_backup_record.h"
#include "vigie/store/store.h"

namespace vigie::apps {
namespace {

namespace rs = vigie::resilience;
using core::Status;
using scheduler::Job;

const notify::Actor kNotifyActor{"system", "vigied"};

struct Context {
  core::Config config;
  std::filesystem::path home;
  const core::Clock& clock;
  rs::BackupSettings backup;
  notify::Settings notify;

  [[nodiscard]] rs::Actor actor() const {
    return {"system", "scheduler", core::format_utc(clock.now())};
  }
  [[nodiscard]] rs::SelfBackup self_backup(store::Store& store) const {
    return {store, backup,
            rs::default_sources(config, home, store::resolve_url(config.store_url, home))};
  }
};
using ContextPtr = std::shared_ptr<const Context>;

Status backup(const Context& c, store::Store& store) {
  rs::RunOptions options;
  options.requester = {"system", "scheduler"};
  // The local copy is still made when the off-machine one is unreachable; that repository's
  // record goes stale and raises its own alert.
  options.skip_unreachable = true;
  auto run = c.self_backup(store).run(options);
  if (!run) return tl::unexpected(run.error());
  return rs::record_self_backup(store, *run, c.actor());
}

Status verify(const Context& c, store::Store& store) {
  auto run = c.self_backup(store).verify({"system", "scheduler"}, c.config.backup_check_subset);
  if (!run) return tl::unexpected(run.error());
  // A failed check is a result, recorded: the alerts job raises backup.verification_failed.
  return rs::record_self_verify(store, *run, c.actor());
}

Status restore_test(const Context& c, store::Store& store) {
  auto test = c.self_backup(store).restore_test({"system", "scheduler"});
  if (!test) return tl::unexpected(test.error());
  return rs::record_self_restore_test(store, *test, c.actor());
}

Status dr_export(const Context& c, store::Store& store) {
  // Not set up yet (`vigie export keygen`): nothing to export, not a failure.
  if (!std::filesystem::exists(rs::export_paths(c.home, c.config).signing_key)) return {};
  auto last = rs::last_run_at(store);
  if (!last) return tl::unexpected(last.error());
  if (!rs::export_due(c.config, *last, c.clock.now())) return {};
  // A PC that fails is recorded and alerted (export.*); the others still get their copy.
  auto report = rs::run_export(store, c.home, c.config, {"vigied", "scheduler", c.clock});
  if (!report) return tl::unexpected(report.error());
  return {};
}

Status alerts(const Context& c, store::Store& store) {
  const core::TimePoint now = c.clock.now();
  auto backups = rs::evaluate_alerts(store, now, rs::Rules::from(c.config), c.actor());
  if (!backups) return tl::unexpected(backups.error());
  auto exports = rs::evaluate_export_alerts(store, c.config, c.clock, c.actor());
  if (!exports) return tl::unexpected(exports.error());
  auto sync = rs::evaluate_sync_alerts(store, now, kSyncProblemAlertDays, c.actor());
  if (!sync) return tl::unexpected(sync.error());
  auto told = rs::tell_alerts(store, c.notify, kNotifyActor, now);
  if (!told) return tl::unexpected(told.error());
  return {};
}

// The job's own alert: raised (and told at once) when it fails, cleared when it next succeeds.
// Read first: a write transaction (an fsync) on every successful run would be for nothing.
Status clear_job_alert(const Context& c, store::Store& store, const std::string& job) {
  auto open = rs::list_alerts(store, true, kAlertJobFailed);
  if (!open) return tl::unexpected(open.error());
  const std::string object = "job:" + job;
  if (std::none_of(open->begin(), open->end(),
                   [&](const rs::Alert& a) { return a.object == object; })) {
    return {};
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto cleared = rs::clear_alert(store, kAlertJobFailed, object, c.actor());
  if (!cleared) return tl::unexpected(cleared.error());
  return tx->commit();
}

void raise_job_alert(const Context& c, store::Store& store, const std::string& job,
                     const core::Error& error) {
  auto raised = [&]() -> Status {
    auto tx = store::Transaction::begin(store);
    if (!tx) return tl::unexpected(tx.error());
    auto alert = rs::raise_alert(
        store,
        {0, std::string(kAlertJobFailed), "job:" + job, "critical",
         fmt::format("vigied's scheduled job '{}' failed: {}", job, error.to_string()), "", ""},
        c.actor());
    if (!alert) return tl::unexpected(alert.error());
    VIGIE_TRY(tx->commit());
    auto told = rs::tell_alerts(store, c.notify, kNotifyActor, c.clock.now());
    if (!told) return tl::unexpected(told.error());
    return {};
  }();
  // The scheduler has logged the job's failure; this one (store unreachable...) is logged too.
  if (!raised) {
    core::log_event(core::LogLevel::kError, "scheduler.alert_failed",
                    {{"job", job}, {"error", raised.error().to_string()}});
  }
}

using Work = std::function<Status(const Context&, store::Store&)>;

Job job(const ContextPtr& c, const std::string& name, std::chrono::seconds every, Work work) {
  return {name, every,
          [c, name, work = std::move(work)](store::Store& store) -> Status {
            VIGIE_TRY(work(*c, store));
            return clear_job_alert(*c, store, name);
          },
          [c, name](store::Store& store, const core::Error& error) {
            raise_job_alert(*c, store, name, error);
          }};
}

}  // namespace

core::Result<std::vector<Job>> daemon_jobs(const core::Config& config,
                                           const std::filesystem::path& home,
                                           const core::Clock& clock) {
  auto backup_settings = rs::backup_settings(config, home);
  if (!backup_settings) return tl::unexpected(backup_settings.error());
  auto notify_settings = notify::Settings::from(config, home);
  if (!notify_settings) return tl::unexpected(notify_settings.error());
  auto c = std::make_shared<const Context>(
      Context{config, home, clock, std::move(*backup_settings), std::move(*notify_settings)});

  std::vector<Job> jobs;
  if (!config.backup_repositories.empty()) {
    using std::chrono::hours;
    if (config.backup_interval_hours > 0) {
      jobs.push_back(job(c, "backup", hours(config.backup_interval_hours), backup));
    }
    if (config.backup_verify_interval_hours > 0) {
      jobs.push_back(job(c, "backup.verify", hours(config.backup_verify_interval_hours), verify));
    }
    if (config.backup_restore_test_interval_days > 0) {
      jobs.push_back(job(c, "backup.restore_test",
                         hours(24 * config.backup_restore_test_interval_days), restore_test));
    }
  }
  jobs.push_back(job(c, "export", std::chrono::minutes(15), dr_export));
  jobs.push_back(job(
      c, "audit.checkpoint", std::chrono::minutes(config.audit_checkpoint_minutes),
      [](const Context& ctx, store::Store& store) -> Status {
        auto key = audit::load_or_create_key(ctx.home / ctx.config.audit_checkpoint_key);
        if (!key) return tl::unexpected(key.error());
        auto written = audit::write_checkpoint(store, ctx.home / ctx.config.audit_checkpoint_file,
                                               *key, core::format_utc(ctx.clock.now()));
        if (!written) return tl::unexpected(written.error());
        return {};
      }));
  jobs.push_back(job(c, "alerts", std::chrono::minutes(15), alerts));
  if (c->notify.smtp || c->notify.syslog) {
    auto channels = std::make_shared<notify::ConfiguredChannels>(c->notify, clock);
    jobs.push_back(job(c, "notify", std::chrono::minutes(1),
                       [channels](const Context& ctx, store::Store& store) -> Status {
                         auto report = notify::deliver_pending(store, channels->view(),
                                                               ctx.clock.now(), ctx.notify.retry);
                         if (!report) return tl::unexpected(report.error());
                         return {};
                       }));
  }
  return jobs;
}

}  // namespace vigie::apps
