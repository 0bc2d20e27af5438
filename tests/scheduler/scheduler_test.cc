// The scheduler on both back-ends, with a manual clock: a job runs when due and only then, its
// state survives a restart (a new Scheduler on the same store), failures are recorded,
// reported and audited, and the thread stops promptly.
#include "vigie/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>

#include "test_support.h"
#include "vigie/audit/audit.h"

namespace vigie::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

class SchedulerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
  }

  Job counting(std::string name, std::chrono::seconds every, int& count) {
    return {std::move(name), every,
            [&count](store::Store&) -> core::Status {
              ++count;
              return {};
            },
            nullptr};
  }

  const JobState* state_of(const std::vector<JobState>& states, const std::string& name) {
    for (const auto& s : states) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{core::parse_utc("2026-11-26T08:00:00Z").value()};
};

TEST_P(SchedulerTest, RunsAJobWhenDueAndOnlyThen) {
  int backups = 0;
  int exports = 0;
  Scheduler s(*store_, clock_,
              {counting("backup", hours(24), backups), counting("export", hours(6), exports)});
  ASSERT_EQ(s.run_due().value(), 2);  // never ran: both due
  EXPECT_EQ(s.run_due().value(), 0);
  clock_.advance(hours(6));
  EXPECT_EQ(s.run_due().value(), 1);
  EXPECT_EQ(exports, 2);
  EXPECT_EQ(backups, 1);
  clock_.advance(hours(18));
  EXPECT_EQ(s.run_due().value(), 2);
  EXPECT_EQ(backups, 2);
  EXPECT_EQ(exports, 3);
}

TEST_P(SchedulerTest, StateSurvivesARestartOfTheDaemon) {
  int runs = 0;
  {
    Scheduler first(*store_, clock_, {counting("backup", hours(24), runs)});
    ASSERT_EQ(first.run_due().value(), 1);
  }
  clock_.advance(hours(2));
  Scheduler second(*store_, clock_, {counting("backup", hours(24), runs)});
  EXPECT_EQ(second.run_due().value(), 0) << "ran again right after a restart";
  clock_.advance(hours(22));
  EXPECT_EQ(second.run_due().value(), 1);
  auto states = job_states(*store_).value();
  const JobState* backup = state_of(states, "backup");
  ASSERT_NE(backup, nullptr);
  EXPECT_EQ(backup->runs, 2);
  EXPECT_EQ(backup->last_status, "ok");
  EXPECT_EQ(backup->last_started_at, "2026-11-27T08:00:00Z");
}

TEST_P(SchedulerTest, AFailureIsRecordedReportedAndAudited) {
  std::string reported;
  Job failing{
      "restore-test", hours(24),
      [](store::Store&) -> core::Status {
        return tl::unexpected(core::Error{core::ErrorCode::kIo, "repository unreachable", ""});
      },
      [&reported](store::Store&, const core::Error& e) { reported = e.message; }};
  Scheduler s(*store_, clock_, {failing});
  ASSERT_EQ(s.run_due().value(), 1);
  EXPECT_EQ(reported, "repository unreachable");
  auto states = job_states(*store_).value();
  const JobState* job = state_of(states, "restore-test");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->last_status, "failed");
  EXPECT_NE(job->last_error.find("repository unreachable"), std::string::npos);
  EXPECT_EQ(job->failures, 1);
  auto audited = store_->query_int(
      "SELECT COUNT(*) FROM audit_log WHERE action = 'scheduler.job.run' AND "
      "object = 'job:restore-test' AND details LIKE '%failed%'");
  ASSERT_TRUE(audited);
  EXPECT_EQ(*audited, 1);
  EXPECT_TRUE(audit::verify(*store_).value().ok);
}

TEST_P(SchedulerTest, ARunCutShortByACrashIsVisibleAndRetriedAfterItsInterval) {
  // What a kill -9 during a job leaves: the start recorded, no end.
  ASSERT_TRUE(
      store_->execute("INSERT INTO scheduled_jobs (name, last_started_at, last_status) "
                      "VALUES ('backup', '2026-11-26T07:00:00Z', 'running')"));
  int runs = 0;
  Scheduler s(*store_, clock_, {counting("backup", hours(24), runs)});
  EXPECT_EQ(state_of(job_states(*store_).value(), "backup")->last_status, "running");
  EXPECT_EQ(s.run_due().value(), 0);
  clock_.advance(hours(23));
  EXPECT_EQ(s.run_due().value(), 1);
  EXPECT_EQ(state_of(job_states(*store_).value(), "backup")->last_status, "ok");
}

TEST_P(SchedulerTest, ADisabledJobNeverRuns) {
  int runs = 0;
  Scheduler s(*store_, clock_, {counting("export", std::chrono::seconds(0), runs)});
  EXPECT_EQ(s.run_due().value(), 0);
  clock_.advance(hours(24 * 365));
  EXPECT_EQ(s.run_due().value(), 0);
  EXPECT_EQ(runs, 0);
}

TEST_P(SchedulerTest, TheThreadRunsDueJobsAndStopsPromptly) {
  std::atomic<int> runs = 0;
  Job job{"alerts", minutes(5),
          [&runs](store::Store&) -> core::Status {
            ++runs;
            return {};
          },
          nullptr};
  Scheduler s(*store_, clock_, {job});
  s.start(std::chrono::milliseconds(10));
  for (int i = 0; i < 500 && runs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.stop();
  EXPECT_EQ(runs, 1);  // the clock did not move: due once
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulerTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::scheduler
