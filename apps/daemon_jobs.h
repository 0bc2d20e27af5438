// vigied's periodic work, built from the configuration (docs/resilience-backup.md, "What
// vigied schedules"):
//   backup               Vigie's own backup, every backup.interval_hours (repositories set);
//   backup.verify        restic check of those repositories, every backup.verify_interval_hours;
//   backup.restore_test  restore of the latest snapshot, checked against the live store, every
//                        backup.restore_test_interval_days;
//   export               the disaster-recovery export at export.schedule_hours (once its keys
//                        exist), pushed to the strategic PCs;
//   alerts               every 15 min: backup, export and offline-sync alerts raised and
//                        cleared, then told once through the outbox (a digest);
//   audit.checkpoint     every audit.checkpoint_minutes: the audit log's signed checkpoint;
//   notify               every minute: the notices due, delivered (when e-mail or syslog is on).
// A job that fails raises "scheduler.job_failed" for itself (told at once, cleared by its next
// success).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/scheduler/scheduler.h"

namespace vigie::apps {

// How long a problem in an offline site's uploads keeps its alert open.
inline constexpr std::int64_t kSyncProblemAlertDays = 7;
inline constexpr std::string_view kAlertJobFailed = "scheduler.job_failed";

// Fails (kInvalidInput) on a configuration the jobs cannot use (notify.*, backup.*), so that
// vigied refuses to start rather than fail every run.
core::Result<std::vector<scheduler::Job>> daemon_jobs(const core::Config& config,
                                                      const std::filesystem::path& home,
                                                      const core::Clock& clock);

}  // namespace vigie::apps
