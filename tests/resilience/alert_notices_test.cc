// Alerts told through the outbox (one digest for many changes, each change told once) and the
// alerts of the disaster-recovery exports and of the offline journals, on both back-ends.
#include "vigie/resilience/alert_notices.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "vigie/core/config.h"
#include "vigie/notify/outbox.h"
#include "vigie/resilience/alerts.h"
#include "vigie/resilience/archive.h"
#include "vigie/resilience/dr_export.h"

namespace vigie::resilience {
namespace {

Alert alert(std::string kind, std::string object, std::string severity, std::string message) {
  return {0, std::move(kind), std::move(object), std::move(severity), std::move(message), "", ""};
}

TEST(AlertDigest, NothingChangedSaysNothing) { EXPECT_FALSE(alert_digest({}, {})); }

TEST(AlertDigest, OneAlertIsToldAsItself) {
  auto m =
      alert_digest({alert("backup.stale", "system:pacs", "critical", "no backup of pacs")}, {});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, "backup.stale");
  EXPECT_EQ(m->severity, notify::Severity::kCritical);
  EXPECT_EQ(m->object, "system:pacs");
  EXPECT_EQ(m->subject, "Vigie alert: no backup of pacs");
  EXPECT_TRUE(notify::check_message(*m));
}

TEST(AlertDigest, ManyChangesMakeOneBoundedDigestCriticalFirst) {
  std::vector<Alert> raised;
  raised.reserve(301);
  for (int i = 0; i < 300; ++i) {
    raised.push_back(alert("backup.no_policy", "device:" + std::to_string(i), "warning",
                           "device " + std::to_string(i) + " has no backup policy"));
  }
  raised.push_back(alert("backup.verification_failed", "system:vigie", "critical", "check failed"));
  auto m = alert_digest(raised, {alert("backup.stale", "system:ris", "warning", "stale")});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, "alerts.digest");
  EXPECT_EQ(m->severity, notify::Severity::kCritical);
  EXPECT_EQ(m->subject, "Vigie: 301 alert(s) raised (1 critical), 1 cleared");
  EXPECT_EQ(m->body.rfind("raised [critical] backup.verification_failed system:vigie", 0), 0U)
      << m->body;
  EXPECT_NE(m->body.find("... and 102 more"), std::string::npos);
  EXPECT_TRUE(notify::check_message(*m));
}

TEST(AlertDigest, OnlyClearedIsANotice) {
  auto m = alert_digest({}, {alert("backup.stale", "system:ris", "warning", "stale"),
                             alert("backup.stale", "system:pacs", "warning", "stale")});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->severity, notify::Severity::kNotice);
  EXPECT_EQ(m->subject, "Vigie: 0 alert(s) raised (0 critical), 2 cleared");
}

TEST(AlertDigest, LongMessageIsCutOnACharacterBoundary) {
  std::string message(195, 'a');
  message += "é漢字é";
  auto m = alert_digest({alert("backup.stale", "system:x", "warning", message)}, {});
  ASSERT_TRUE(m);
  EXPECT_LE(m->subject.size(), 200U);
  EXPECT_TRUE(notify::check_message(*m)) << m->subject;
}

class AlertNoticesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_TRUE(store_);
    // Syslog on: every alert notice goes to one channel, queued (nothing is sent here).
    config_.notify_syslog = "udp://127.0.0.1:9";
    auto settings = notify::Settings::from(config_, dir_.path());
    ASSERT_TRUE(settings) << settings.error().to_string();
    settings_ = std::move(*settings);
  }

  Actor actor() const { return {"system", "scheduler", core::format_utc(clock_.now())}; }

  void raise(const Alert& a) {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(raise_alert(*store_, a, actor()));
    ASSERT_TRUE(tx->commit());
  }
  void clear(const std::string& kind, const std::string& object) {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(clear_alert(*store_, kind, object, actor()));
    ASSERT_TRUE(tx->commit());
  }

  std::vector<notify::Notice> notices() {
    auto list = notify::list_notices(*store_, {true, 1000});
    EXPECT_TRUE(list) << list.error().to_string();
    return list ? *list : std::vector<notify::Notice>{};
  }

  std::int64_t tell() {
    auto told = tell_alerts(*store_, settings_, {"system", "vigied"}, clock_.now());
    EXPECT_TRUE(told) << told.error().to_string();
    return told.value_or(-1);
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  core::Config config_;
  notify::Settings settings_;
  core::ManualClock clock_{core::parse_utc("2026-11-26T08:00:00Z").value()};
};

TEST_P(AlertNoticesTest, EachChangeIsToldOnce) {
  raise(alert("backup.stale", "system:pacs", "critical", "no backup of pacs"));
  raise(alert("backup.no_policy", "device:7", "warning", "device 7 has no backup policy"));
  EXPECT_EQ(tell(), 2);
  auto queued = notices();
  ASSERT_EQ(queued.size(), 1U);
  EXPECT_EQ(queued[0].kind, "alerts.digest");
  EXPECT_EQ(queued[0].severity, notify::Severity::kCritical);
  EXPECT_NE(queued[0].body.find("system:pacs"), std::string::npos);

  EXPECT_EQ(tell(), 0);  // nothing new: nothing queued
  EXPECT_EQ(notices().size(), 1U);

  clear("backup.stale", "system:pacs");
  EXPECT_EQ(tell(), 1);
  queued = notices();
  ASSERT_EQ(queued.size(), 2U);
  EXPECT_EQ(queued[0].severity, notify::Severity::kNotice);  // newest first: the clearing
  EXPECT_NE(queued[0].subject.find("1 cleared"), std::string::npos);
  EXPECT_EQ(tell(), 0);
}

TEST_P(AlertNoticesTest, WithoutChannelsAlertsAreMarkedAndNothingQueued) {
  raise(alert("backup.stale", "system:pacs", "critical", "no backup of pacs"));
  auto told = tell_alerts(*store_, notify::Settings{}, {"system", "vigied"}, clock_.now());
  ASSERT_TRUE(told) << told.error().to_string();
  EXPECT_EQ(*told, 1);
  EXPECT_TRUE(notices().empty());
  EXPECT_EQ(tell(), 0);  // configuring a channel later does not replay the past
}

TEST_P(AlertNoticesTest, StrategicPcWithoutExportRaisesAndClears) {
  config_.export_max_age_hours = 26;
  const ExportActor who{"alice", "test", clock_};
  ASSERT_TRUE(add_host(
      *store_,
      {"pc-urgences", "vigie@127.0.0.1:1", "/srv/vigie-dr", key_text(generate_box_key().public_key),
       "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyOnly1"},
      false, who));
  auto changes = evaluate_export_alerts(*store_, config_, clock_, actor());
  ASSERT_TRUE(changes) << changes.error().to_string();
  ASSERT_EQ(changes->raised.size(), 1U);
  EXPECT_EQ(changes->raised[0].kind, "export.never");
  EXPECT_EQ(changes->raised[0].object, "export-host:pc-urgences");
  EXPECT_EQ(changes->raised[0].severity, "warning");
  // Evaluated again: still open, not raised twice.
  changes = evaluate_export_alerts(*store_, config_, clock_, actor());
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->raised.empty());
  // The PC is removed: its alert goes.
  ASSERT_TRUE(remove_host(*store_, "pc-urgences", who));
  changes = evaluate_export_alerts(*store_, config_, clock_, actor());
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->cleared.size(), 1U);
  EXPECT_EQ(changes->cleared[0].object, "export-host:pc-urgences");
}

TEST_P(AlertNoticesTest, SyncProblemsRaiseOneAlertPerSiteUntilTheyAge) {
  auto add_problem = [&](std::int64_t id, const std::string& site, std::int64_t seq,
                         const std::string& kind, const std::string& at) {
    const store::Value row[] = {id, site, seq, kind, std::string("detail of ") + kind, at};
    ASSERT_TRUE(
        store_->execute("INSERT INTO sync_problems (id, site, seq, kind, detail, detected_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        row));
  };
  add_problem(1, "urgences", 12, "gap", "2026-11-20T08:00:00.000Z");
  add_problem(2, "urgences", 40, "forgery", "2026-11-25T08:00:00.000Z");
  add_problem(3, "bloc", 3, "gap", "2026-10-01T08:00:00.000Z");  // older than 7 days

  auto changes = evaluate_sync_alerts(*store_, clock_.now(), 7, actor());
  ASSERT_TRUE(changes) << changes.error().to_string();
  ASSERT_EQ(changes->raised.size(), 1U);
  const Alert& a = changes->raised[0];
  EXPECT_EQ(a.kind, kAlertSyncProblem);
  EXPECT_EQ(a.object, "site:urgences");
  EXPECT_EQ(a.severity, "critical");
  EXPECT_NE(a.message.find("2 problem(s)"), std::string::npos) << a.message;
  EXPECT_NE(a.message.find("forgery at seq 40"), std::string::npos) << a.message;

  clock_.advance(std::chrono::hours(24 * 6 + 1));  // the forgery is past the 7-day window
  changes = evaluate_sync_alerts(*store_, clock_.now(), 7, actor());
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->cleared.size(), 1U);
  EXPECT_TRUE(changes->raised.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertNoticesTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::resilience
