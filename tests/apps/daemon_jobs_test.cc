// vigied's periodic jobs run by the real scheduler with a manual clock, on a real store, a
// real restic repository and a real (UDP syslog) notification channel: the backup, its
// verification and restore test recorded for the system "vigie"; a failing job raising its
// alert, told at once and delivered, and cleared by its next success.
#include "daemon_jobs.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_support.h"
#include "vigie/core/file.h"
#include "vigie/notify/outbox.h"
#include "vigie/resilience/alerts.h"
#include "vigie/resilience/self_backup.h"

namespace vigie::apps {
namespace {

namespace fs = std::filesystem;

class DaemonJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = dir_ / "home";
    fs::create_directories(home_ / "tls");
    fs::create_directories(home_ / "backup");
    url_ = vigie::testing::fresh_store_url("sqlite", dir_);
    auto s = store::Store::open(url_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
    vigie::testing::write_file(home_ / "vigie.toml", "[store]\nurl = \"" + url_ + "\"\n");
    vigie::testing::write_file(home_ / "tls" / "server.key", "-----BEGIN PRIVATE KEY-----\n");
    ASSERT_TRUE(core::write_file_durably(password_file(), "correct horse\n"));
    config_.store_url = url_;
    config_.backup_repositories = {(dir_ / "repo").string()};
    config_.notify_syslog = "udp://127.0.0.1:" + std::to_string(listen_udp());
  }

  // `vigie backup init`, as the administrator does once before vigied backs up.
  void init_repository() {
    auto settings = resilience::backup_settings(config_, home_);
    ASSERT_TRUE(settings);
    resilience::SelfBackup backup(*store_, *settings,
                                  resilience::default_sources(config_, home_, url_));
    ASSERT_TRUE(backup.init({"biomed", "test"}));
  }

  void TearDown() override {
    if (udp_ >= 0) ::close(udp_);
  }

  // A syslog collector's socket on loopback, so that datagrams are received, not refused.
  int listen_udp() {
    udp_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_GE(udp_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(udp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(udp_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    return ntohs(addr.sin_port);
  }

  fs::path password_file() const { return home_ / "backup" / "restic.password"; }

  std::int64_t count(const std::string& sql) { return store_->query_int(sql).value(); }

  std::map<std::string, scheduler::JobState> states() {
    auto list = scheduler::job_states(*store_);
    EXPECT_TRUE(list);
    std::map<std::string, scheduler::JobState> out;
    for (auto& s : list.value_or(std::vector<scheduler::JobState>{})) out[s.name] = s;
    return out;
  }

  vigie::testing::TempDir dir_;
  int udp_ = -1;
  fs::path home_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  core::Config config_;
  core::ManualClock clock_{core::parse_utc("2026-11-26T08:00:00Z").value()};
};

TEST_F(DaemonJobsTest, FirstStartBacksUpVerifiesAndTestsTheRestore) {
  init_repository();
  auto jobs = daemon_jobs(config_, home_, clock_);
  ASSERT_TRUE(jobs) << jobs.error().to_string();
  scheduler::Scheduler scheduler(*store_, clock_, std::move(*jobs));
  auto ran = scheduler.run_due();
  ASSERT_TRUE(ran) << ran.error().to_string();
  EXPECT_EQ(*ran, 7);
  auto st = states();
  for (const char* name : {"backup", "backup.verify", "backup.restore_test", "export",
                           "audit.checkpoint", "alerts", "notify"}) {
    ASSERT_TRUE(st.contains(name)) << name;
    EXPECT_EQ(st[name].last_status, "ok") << name << ": " << st[name].last_error;
  }
  // Recorded as the tracked system "vigie": one run, one verification, one restore test.
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_runs r JOIN backup_systems s ON s.id = r.system_id "
                  "WHERE s.name = 'vigie' AND r.status = 'ok'"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_verifications"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM restore_tests WHERE result = 'ok'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE kind = 'scheduler.job_failed'"), 0);
  EXPECT_TRUE(fs::exists(home_ / config_.audit_checkpoint_file)) << "the audit log's checkpoint";

  // A minute later only the notices are due; a day later the backup again.
  clock_.advance(std::chrono::minutes(1));
  EXPECT_EQ(scheduler.run_due().value(), 1);
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(scheduler.run_due().value(), 5);  // backup, export, checkpoint, alerts, notify
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_runs WHERE status = 'ok'"), 2);
}

TEST_F(DaemonJobsTest, FailingJobRaisesItsAlertTellsItAndClearsOnSuccess) {
  init_repository();
  config_.backup_verify_interval_hours = 0;
  config_.backup_restore_test_interval_days = 0;
  auto jobs = daemon_jobs(config_, home_, clock_);
  ASSERT_TRUE(jobs) << jobs.error().to_string();
  scheduler::Scheduler scheduler(*store_, clock_, std::move(*jobs));
  ASSERT_EQ(scheduler.run_due().value(), 5);  // backup, export, checkpoint, alerts, notify

  // The repositories' password goes missing: the next backup fails.
  fs::rename(password_file(), home_ / "backup" / "elsewhere");
  clock_.advance(std::chrono::hours(25));
  ASSERT_TRUE(scheduler.run_due());
  EXPECT_EQ(states()["backup"].last_status, "failed");
  auto open = resilience::list_alerts(*store_, true, "scheduler.");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1U);
  EXPECT_EQ((*open)[0].object, "job:backup");
  EXPECT_EQ((*open)[0].severity, "critical");
  // Told at once, and delivered by the notify job of the same round.
  auto notices = notify::list_notices(*store_, {true, 100});
  ASSERT_TRUE(notices);
  auto told = std::find_if(notices->begin(), notices->end(),
                           [](const auto& n) { return n.kind == "scheduler.job_failed"; });
  ASSERT_NE(told, notices->end());
  EXPECT_EQ(told->object, "job:backup");
  EXPECT_EQ(told->state, notify::State::kDelivered);

  // Put back: the next backup succeeds and clears the alert.
  fs::rename(home_ / "backup" / "elsewhere", password_file());
  clock_.advance(std::chrono::hours(25));
  ASSERT_TRUE(scheduler.run_due());
  EXPECT_EQ(states()["backup"].last_status, "ok");
  open = resilience::list_alerts(*store_, true, "scheduler.");
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->empty());
}

TEST_F(DaemonJobsTest, UnusableNotifyConfigurationStopsTheDaemonAtStart) {
  config_.notify_smtp_host = "relay.hospital.example";  // e-mail on without a sender
  auto jobs = daemon_jobs(config_, home_, clock_);
  ASSERT_FALSE(jobs);
  EXPECT_NE(jobs.error().to_string().find("notify"), std::string::npos) << jobs.error().to_string();
}

TEST_F(DaemonJobsTest, WithoutRepositoriesNoBackupJobs) {
  config_.backup_repositories.clear();
  config_.notify_syslog.clear();
  auto jobs = daemon_jobs(config_, home_, clock_);
  ASSERT_TRUE(jobs);
  std::vector<std::string> names;
  for (const auto& j : *jobs) names.push_back(j.name);
  EXPECT_EQ(names, (std::vector<std::string>{"export", "audit.checkpoint", "alerts"}));
}

}  // namespace
}  // namespace vigie::apps
