// vigied's periodic work (backups, their verification and restore tests, disaster-recovery
// exports, alert evaluation, notification delivery): named jobs, each run when its interval
// has passed since its last start. The last start, end and outcome of every job are kept in
// the store (table scheduled_jobs), so that a restart neither repeats a job that just ran nor
// forgets one that is due; every run is audited, a failed run is logged and reported to the
// job's on_failure (the daemon raises an alert from it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/store/store.h"

namespace vigie::scheduler {

struct Job {
  std::string name;               // "backup", "export", "alerts"...
  std::chrono::seconds every{0};  // zero: never runs
  // The work. Gets the scheduler's own store connection (not shared with other threads).
  std::function<core::Status(store::Store&)> run;
  // Called after a failed run, with the error (the job's state is already recorded).
  std::function<void(store::Store&, const core::Error&)> on_failure;
};

struct JobState {
  std::string name;
  std::string last_started_at;  // ISO 8601 UTC, "" when never run
  std::string last_finished_at;
  std::string last_status;  // "ok", "failed", "running" (a run cut short by a crash)
  std::string last_error;
  std::int64_t runs = 0;
  std::int64_t failures = 0;
};

// The recorded state of every job that ever ran.
core::Result<std::vector<JobState>> job_states(store::Store& store);

class Scheduler {
 public:
  Scheduler(store::Store& store, const core::Clock& clock, std::vector<Job> jobs);
  ~Scheduler();  // stops and joins
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs, once, every job that is due now. Returns how many ran. Used by the thread and by
  // tests (with a fake clock).
  core::Result<int> run_due();

  // Starts a thread calling run_due() every `tick` until stop().
  void start(std::chrono::milliseconds tick);
  void stop();

 private:
  core::Status run_one(const Job& job, std::string_view started_at);

  store::Store& store_;
  const core::Clock& clock_;
  std::vector<Job> jobs_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace vigie::scheduler
