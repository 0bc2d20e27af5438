#include "vigie/scheduler/scheduler.h"

#include <fmt/format.h>

#include "vigie/audit/audit.h"
#include "vigie/core/log.h"

namespace vigie::scheduler {
namespace {

using store::Value;

// A job is due when it never ran or its interval has passed since its last start. A run cut
// short by a crash ("running") counts as started: it is retried after its interval, not in a
// tight loop after every restart.
bool due(const core::Clock& clock, const Job& job, const std::string& last_started_at) {
  if (job.every.count() <= 0 || !job.run) return false;
  if (last_started_at.empty()) return true;
  auto last = core::parse_utc(last_started_at);
  if (!last) return true;  // unreadable: run rather than never again
  return clock.now() - *last >= job.every;
}

core::Status record(store::Store& store, std::string_view sql, std::span<const Value> params) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  if (auto st = store.execute(sql, params); !st) return st;
  return tx->commit();
}

}  // namespace

core::Result<std::vector<JobState>> job_states(store::Store& store) {
  auto rows = store.query(
      "SELECT name, last_started_at, last_finished_at, last_status, last_error, runs, failures "
      "FROM scheduled_jobs ORDER BY name");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<JobState> out;
  for (const auto& r : *rows) {
    out.push_back(
        {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)});
  }
  return out;
}

Scheduler::Scheduler(store::Store& store, const core::Clock& clock, std::vector<Job> jobs)
    : store_(store), clock_(clock), jobs_(std::move(jobs)) {}

Scheduler::~Scheduler() { stop(); }

core::Result<int> Scheduler::run_due() {
  auto states = job_states(store_);
  if (!states) return tl::unexpected(states.error());
  int ran = 0;
  for (const Job& job : jobs_) {
    std::string last;
    for (const auto& s : *states) {
      if (s.name == job.name) last = s.last_started_at;
    }
    if (!due(clock_, job, last)) continue;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    std::string started = core::format_utc(clock_.now());
    if (auto st = run_one(job, started); !st) return tl::unexpected(st.error());
    ++ran;
  }
  return ran;
}

core::Status Scheduler::run_one(const Job& job, std::string_view started_at) {
  // The start is recorded before the work: a crash mid-run leaves "running", visible.
  const Value start[] = {job.name, std::string(started_at)};
  if (auto st = record(store_,
                       "INSERT INTO scheduled_jobs (name, last_started_at, last_status, runs, "
                       "failures) VALUES (?, ?, 'running', 0, 0) ON CONFLICT (name) DO UPDATE "
                       "SET last_started_at = excluded.last_started_at, last_status = 'running'",
                       start);
      !st) {
    return st;
  }
  core::log_event(core::LogLevel::kInfo, "scheduler.job.started", {{"job", job.name}});
  core::Status outcome = job.run(store_);
  std::string finished = core::format_utc(clock_.now());
  std::string error = outcome ? "" : outcome.error().to_string();
  const Value end[] = {finished, std::string(outcome ? "ok" : "failed"), error,
                       std::int64_t{outcome ? 0 : 1}, job.name};
  auto tx = store::Transaction::begin(store_);
  if (!tx) return tl::unexpected(tx.error());
  if (auto st = store_.execute(
          "UPDATE scheduled_jobs SET last_finished_at = ?, last_status = ?, last_error = ?, "
          "runs = runs + 1, failures = failures + ? WHERE name = ?",
          end);
      !st) {
    return st;
  }
  audit::Entry entry{
      "system", "scheduler.job.run", "job:" + job.name, "vigied",
      fmt::format(R"({{"status":"{}","started_at":"{}"}})", outcome ? "ok" : "failed", started_at)};
  if (auto id = audit::append(store_, entry, finished); !id) return tl::unexpected(id.error());
  if (auto st = tx->commit(); !st) return st;
  if (outcome) {
    core::log_event(core::LogLevel::kInfo, "scheduler.job.finished", {{"job", job.name}});
  } else {
    core::log_event(core::LogLevel::kError, "scheduler.job.failed",
                    {{"job", job.name}, {"error", error}});
    if (job.on_failure) job.on_failure(store_, outcome.error());
  }
  return {};
}

void Scheduler::start(std::chrono::milliseconds tick) {
  stop();
  stopping_ = false;
  thread_ = std::thread([this, tick] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      if (auto ran = run_due(); !ran) {
        core::log_event(core::LogLevel::kError, "scheduler.failed",
                        {{"error", ran.error().to_string()}});
      }
      lock.lock();
      wake_.wait_for(lock, tick, [this] { return stopping_; });
    }
  });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigie::scheduler
