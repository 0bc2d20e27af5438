// Backup tracking on both back-ends: policies and systems, idempotent runs, verifications and
// restore tests, status due dates, and the alert rules raised and cleared with an injected
// clock, every change audited.
#include "vigie/resilience/tracking.h"

#include <gtest/gtest.h>

#include <chrono>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/resilience/alerts.h"

namespace vigie::resilience {
namespace {

using std::chrono::days;
using std::chrono::hours;

core::TimePoint t0() { return core::parse_utc("2026-11-20T08:00:00Z").value(); }

class TrackingTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
  }

  std::int64_t count(const std::string& sql) { return store_->query_int(sql).value(); }
  std::int64_t audit_count(const std::string& action) {
    return count("SELECT COUNT(*) FROM audit_log WHERE action = '" + action + "'");
  }

  void add_device(std::int64_t id, const std::string& criticality,
                  const std::string& status = "in-service") {
    if (count("SELECT COUNT(*) FROM products") == 0) {
      ASSERT_TRUE(store_->execute(
          "INSERT INTO products (id, vendor_norm, product_norm) VALUES (1, 'siemens', 'artis')"));
    }
    const store::Value params[] = {id, criticality, status};
    ASSERT_TRUE(store_->execute(
        "INSERT INTO devices (id, vendor, product, product_id, criticality, status, created_at, "
        "updated_at) VALUES (?, 'Siemens', 'Artis zee', 1, ?, ?, '2026-01-01T00:00:00Z', "
        "'2026-01-01T00:00:00Z')",
        params));
  }

  Actor at(core::TimePoint t) { return {"biomed", "cli", core::format_utc(t)}; }

  void set(const std::string& name, Method method, std::optional<std::int64_t> rpo,
           std::optional<Criticality> criticality = std::nullopt, std::int64_t device = 0) {
    Policy p;
    p.method = method;
    p.rpo_hours = rpo;
    p.targets = {"nas-1:/backups/" + name};
    auto id = set_policy(*store_, {name, device, criticality, ""}, p, at(t0()));
    ASSERT_TRUE(id) << id.error().to_string();
  }

  void run(const std::string& system, const std::string& snapshot, core::TimePoint started,
           RunStatus status = RunStatus::kOk) {
    BackupRun r;
    r.system = system;
    r.snapshot_id = snapshot;
    r.started_at = core::format_utc(started);
    r.finished_at = core::format_utc(started + std::chrono::minutes(20));
    r.status = status;
    auto outcome = record_run(*store_, r, at(started));
    ASSERT_TRUE(outcome) << outcome.error().to_string();
  }

  AlertChanges evaluate(core::TimePoint now, const Rules& rules = {}) {
    auto changes = evaluate_alerts(*store_, now, rules, {"system", "scheduler", ""});
    EXPECT_TRUE(changes) << changes.error().to_string();
    return changes ? *changes : AlertChanges{};
  }

  static bool has(const std::vector<Alert>& alerts, std::string_view kind,
                  std::string_view object) {
    return std::any_of(alerts.begin(), alerts.end(),
                       [&](const Alert& a) { return a.kind == kind && a.object == object; });
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(TrackingTest, PolicySetCreatesTheSystemAndIsAudited) {
  Policy p;
  p.method = Method::kVmSnapshot;
  p.rpo_hours = 24;
  p.schedule = "daily 22:00";
  p.retention = "7 daily, 4 weekly";
  p.targets = {"veeam-repo-1", "tape vault B"};
  p.offsite = true;
  p.checked_by = "IT ops on-call";
  ASSERT_TRUE(set_policy(*store_, {"PACS", 0, Criticality::kCritical, "PACS server"}, p, at(t0())));
  auto policies = list_policies(*store_);
  ASSERT_TRUE(policies);
  ASSERT_EQ(policies->size(), 1u);
  const auto& [system, stored] = policies->front();
  EXPECT_EQ(system.name, "PACS");
  EXPECT_EQ(system.effective, Criticality::kCritical);
  EXPECT_EQ(stored.method, Method::kVmSnapshot);
  EXPECT_EQ(stored.rpo_hours, 24);
  EXPECT_EQ(stored.targets, (std::vector<std::string>{"veeam-repo-1", "tape vault B"}));
  EXPECT_TRUE(stored.offsite);
  EXPECT_FALSE(stored.immutable);
  EXPECT_EQ(stored.checked_by, "IT ops on-call");
  EXPECT_EQ(audit_count("backups.system.create"), 1);
  EXPECT_EQ(audit_count("backups.policy.set"), 1);

  // The same policy again changes nothing; another one is audited with the previous.
  ASSERT_TRUE(set_policy(*store_, {"pacs", 0, std::nullopt, ""}, p, at(t0())));
  EXPECT_EQ(audit_count("backups.policy.set"), 1);
  p.rpo_hours = 12;
  ASSERT_TRUE(set_policy(*store_, {"pacs", 0, std::nullopt, ""}, p, at(t0())));
  EXPECT_EQ(audit_count("backups.policy.set"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'backups.policy.set' AND "
                  "details LIKE '%\"previous\"%'"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_systems"), 1);
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_P(TrackingTest, IncompletePolicyIsRefusedAndNothingIsStored) {
  Policy p;
  p.method = Method::kRestic;  // no RPO
  auto id = set_policy(*store_, {"pacs", 0, std::nullopt, ""}, p, at(t0()));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, core::ErrorCode::kInvalidInput);
  EXPECT_NE(id.error().message.find("RPO"), std::string::npos);
  p.rpo_hours = 24;
  p.restore_test_days = -1;
  EXPECT_FALSE(set_policy(*store_, {"pacs", 0, std::nullopt, ""}, p, at(t0())));
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_systems"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log"), 0);
  // Method "none" needs no RPO: nothing to back up on purpose.
  Policy none;
  none.method = Method::kNone;
  EXPECT_TRUE(set_policy(*store_, {"pump-17", 0, std::nullopt, ""}, none, at(t0())));
}

TEST_P(TrackingTest, DeviceSystemTakesItsCriticalityFromTheInventory) {
  add_device(7, "life-supporting");
  add_device(8, "other");
  set("ventilator-7", Method::kNone, std::nullopt, std::nullopt, 7);
  set("workstation-8", Method::kManual, 168, std::nullopt, 8);
  auto systems = list_systems(*store_);
  ASSERT_TRUE(systems);
  ASSERT_EQ(systems->size(), 2u);
  EXPECT_EQ((*systems)[0].device_id, 7);
  EXPECT_EQ((*systems)[0].effective, Criticality::kCritical);
  EXPECT_EQ((*systems)[0].device_label, "Siemens Artis zee (life-supporting)");
  EXPECT_EQ((*systems)[1].effective, Criticality::kStandard);
  // A device that does not exist, or one already linked, is refused.
  Policy p;
  p.method = Method::kNone;
  auto missing = set_policy(*store_, {"ghost", 99, std::nullopt, ""}, p, at(t0()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  auto twice = set_policy(*store_, {"other-name", 7, std::nullopt, ""}, p, at(t0()));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_systems"), 2);
}

TEST_P(TrackingTest, TheSameRunRecordedTwiceIsStoredOnce) {
  set("pacs", Method::kRestic, 24);
  BackupRun r;
  r.system = "pacs";
  r.snapshot_id = "5cb45038";
  r.started_at = "2026-11-20T22:00:00Z";
  r.size_bytes = 100;
  auto first = record_run(*store_, r, at(t0()));
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->what, Recorded::kCreated);
  auto again = record_run(*store_, r, at(t0()));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->what, Recorded::kUnchanged);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_runs"), 1);
  EXPECT_EQ(audit_count("backups.run.record"), 1);

  // restic's long id of the same snapshot completes the run instead of adding one.
  r.snapshot_id = "5cb450382959ca7ad1da92b730962ad32256e73308d0a86d13d7af6db2d14d2e";
  r.files = 12;
  auto longer = record_run(*store_, r, at(t0()));
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->what, Recorded::kUpdated);
  EXPECT_EQ(longer->id, first->id);
  auto runs = list_runs(*store_, "pacs");
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front().snapshot_id, r.snapshot_id);
  EXPECT_EQ(runs->front().files, 12);
  EXPECT_EQ(runs->front().size_bytes, 100);
  // And the short id afterwards finds the long one.
  r.snapshot_id = "5cb45038";
  auto short_again = record_run(*store_, r, at(t0()));
  ASSERT_TRUE(short_again);
  EXPECT_EQ(short_again->what, Recorded::kUnchanged);

  // Without a snapshot id, the start time is the key.
  BackupRun tape;
  tape.system = "pacs";
  tape.started_at = "2026-11-21T22:00:00+01:00";
  tape.status = RunStatus::kFailed;
  ASSERT_TRUE(record_run(*store_, tape, at(t0())));
  tape.started_at = "2026-11-21T21:00:00Z";  // the same instant
  auto same = record_run(*store_, tape, at(t0()));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->what, Recorded::kUnchanged);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_runs"), 2);
}

TEST_P(TrackingTest, RunsOfAnUnknownSystemOrWithBadTimesAreRefused) {
  BackupRun r;
  r.system = "nowhere";
  r.started_at = "2026-11-20T22:00:00Z";
  auto unknown = record_run(*store_, r, at(t0()));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
  set("pacs", Method::kRestic, 24);
  r.system = "pacs";
  r.started_at = "yesterday";
  EXPECT_FALSE(record_run(*store_, r, at(t0())));
  r.started_at = "2026-11-20T22:00:00Z";
  r.finished_at = "2026-11-20T21:00:00Z";
  auto backwards = record_run(*store_, r, at(t0()));
  ASSERT_FALSE(backwards);
  EXPECT_NE(backwards.error().message.find("before"), std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM backup_runs"), 0);
}

TEST_P(TrackingTest, VerificationsAndRestoreTestsAreIdempotentAndConflictsRefused) {
  set("pacs", Method::kRestic, 24);
  Verification v{"pacs", "2026-11-21T03:00:00Z", true, "", "restic check --read-data-subset=5%", "",
                 "cli"};
  auto first = record_verification(*store_, v, at(t0()));
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->what, Recorded::kCreated);
  EXPECT_EQ(record_verification(*store_, v, at(t0()))->what, Recorded::kUnchanged);
  v.ok = false;
  auto conflict = record_verification(*store_, v, at(t0()));
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, core::ErrorCode::kConflict);

  RestoreTest t;
  t.system = "pacs";
  t.tested_at = "2026-11-22T14:00:00Z";
  t.tested_by = "J. Martin";
  t.scope = "whole server on a scratch VM";
  t.restore_seconds = 5400;
  auto test = record_restore_test(*store_, t, at(t0()));
  ASSERT_TRUE(test) << test.error().to_string();
  EXPECT_EQ(record_restore_test(*store_, t, at(t0()))->what, Recorded::kUnchanged);
  t.tested_by = "";
  t.tested_at = "2026-11-23T14:00:00Z";
  EXPECT_FALSE(record_restore_test(*store_, t, at(t0())));

  auto tests = list_restore_tests(*store_, "PACS");
  ASSERT_TRUE(tests);
  ASSERT_EQ(tests->size(), 1u);
  EXPECT_EQ(tests->front().restore_seconds, 5400);
  EXPECT_EQ(tests->front().tested_by, "J. Martin");
  EXPECT_EQ(audit_count("backups.verification.record"), 1);
  EXPECT_EQ(audit_count("backups.restore_test.record"), 1);
}

TEST_P(TrackingTest, StatusGivesAgesAndDueDates) {
  set("pacs", Method::kRestic, 24, Criticality::kCritical);
  run("pacs", "aaaaaaaa", t0());
  run("pacs", "bbbbbbbb", t0() + hours(24), RunStatus::kFailed);
  RestoreTest t;
  t.system = "pacs";
  t.tested_at = "2026-06-01T10:00:00Z";
  t.tested_by = "J. Martin";
  t.scope = "one study";
  ASSERT_TRUE(record_restore_test(*store_, t, at(t0())));
  auto report = status(*store_, t0() + hours(30), Rules{});
  ASSERT_TRUE(report) << report.error().to_string();
  ASSERT_EQ(report->systems.size(), 1u);
  const auto& st = report->systems.front();
  ASSERT_TRUE(st.last_run);
  EXPECT_EQ(st.last_run->status, RunStatus::kFailed);
  ASSERT_TRUE(st.last_good_run);
  EXPECT_EQ(st.last_good_run->snapshot_id, "aaaaaaaa");
  EXPECT_DOUBLE_EQ(st.last_good_age_hours.value(), 30.0);
  EXPECT_EQ(st.backup_due_at, "2026-11-21T08:00:00Z");
  EXPECT_TRUE(st.backup_overdue);
  EXPECT_EQ(st.restore_test_days, 365);
  EXPECT_EQ(st.restore_test_due_on, "2027-06-01");
  EXPECT_FALSE(st.restore_test_overdue);
}

TEST_P(TrackingTest, StaleBackupIsRaisedOnceThenClearedByAGoodRun) {
  set("pacs", Method::kRestic, 24, Criticality::kCritical);
  run("pacs", "aaaaaaaa", t0());
  core::ManualClock clock(t0() + hours(1));
  auto changes = evaluate(clock.now());
  EXPECT_FALSE(has(changes.raised, kAlertBackupStale, "system:pacs"));

  clock.advance(hours(24));  // 25 h after the last good backup started
  const std::int64_t raised_before = audit_count("alert.raise");
  changes = evaluate(clock.now());
  ASSERT_TRUE(has(changes.raised, kAlertBackupStale, "system:pacs"));
  auto stale = std::find_if(changes.raised.begin(), changes.raised.end(),
                            [](const Alert& a) { return a.kind == kAlertBackupStale; });
  EXPECT_EQ(stale->severity, "critical");
  EXPECT_NE(stale->message.find("RPO 24 h"), std::string::npos) << stale->message;
  EXPECT_EQ(stale->raised_at, core::format_utc(clock.now()));
  EXPECT_EQ(audit_count("alert.raise") - raised_before,
            static_cast<std::int64_t>(changes.raised.size()));

  // Still stale: nothing new, one open alert.
  clock.advance(hours(1));
  changes = evaluate(clock.now());
  EXPECT_TRUE(changes.raised.empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE kind = 'backup.stale'"), 1);

  // A failed run does not clear it; a good one does.
  run("pacs", "bbbbbbbb", clock.now(), RunStatus::kFailed);
  EXPECT_TRUE(evaluate(clock.now()).cleared.empty());
  run("pacs", "cccccccc", clock.now());
  changes = evaluate(clock.now());
  ASSERT_TRUE(has(changes.cleared, kAlertBackupStale, "system:pacs"));
  EXPECT_EQ(changes.cleared.front().cleared_at, core::format_utc(clock.now()));
  EXPECT_EQ(audit_count("alert.clear"), 1);
  auto open = list_alerts(*store_, true, "backup.stale");
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->empty());
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_P(TrackingTest, OnlyTheLatestVerificationCounts) {
  set("pacs", Method::kRestic, 24);
  run("pacs", "aaaaaaaa", t0());
  Verification v{"pacs", "2026-11-20T09:00:00Z", false,
                 "",     "restic check",         "pack 3e1f: ciphertext verification failed",
                 "cli"};
  ASSERT_TRUE(record_verification(*store_, v, at(t0())));
  auto changes = evaluate(t0() + hours(2));
  ASSERT_TRUE(has(changes.raised, kAlertVerificationFailed, "system:pacs"));
  auto open = list_alerts(*store_, true, "backup.verification_failed");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_NE(open->front().message.find("ciphertext verification failed"), std::string::npos);
  v.verified_at = "2026-11-20T10:00:00Z";
  v.ok = true;
  ASSERT_TRUE(record_verification(*store_, v, at(t0())));
  changes = evaluate(t0() + hours(3));
  EXPECT_TRUE(has(changes.cleared, kAlertVerificationFailed, "system:pacs"));
}

TEST_P(TrackingTest, RestoreTestIntervalFollowsCriticalityAndPolicy) {
  set("pacs", Method::kRestic, 24, Criticality::kCritical);
  set("intranet", Method::kRestic, 24, Criticality::kStandard);
  run("pacs", "aaaaaaaa", t0());
  run("intranet", "bbbbbbbb", t0());
  auto changes = evaluate(t0() + hours(1));
  // Critical: a restore test is required (never done yet); standard: none by default.
  EXPECT_TRUE(has(changes.raised, kAlertRestoreTestOverdue, "system:pacs"));
  EXPECT_FALSE(has(changes.raised, kAlertRestoreTestOverdue, "system:intranet"));

  RestoreTest t{"pacs",
                core::format_utc(t0() + hours(2)),
                "J. Martin",
                "whole server",
                "",
                3600,
                TestResult::kOk,
                "",
                "cli"};
  ASSERT_TRUE(record_restore_test(*store_, t, at(t0())));
  run("pacs", "cccccccc", t0() + days(365));
  changes = evaluate(t0() + days(365));
  EXPECT_TRUE(has(changes.cleared, kAlertRestoreTestOverdue, "system:pacs"));
  run("pacs", "dddddddd", t0() + days(366));
  changes = evaluate(t0() + days(366));
  EXPECT_TRUE(has(changes.raised, kAlertRestoreTestOverdue, "system:pacs"));

  // A policy's own interval wins over the configuration; a failed test is its own alert.
  Policy p;
  p.method = Method::kRestic;
  p.rpo_hours = 24;
  p.restore_test_days = 30;
  ASSERT_TRUE(set_policy(*store_, {"intranet", 0, std::nullopt, ""}, p, at(t0())));
  RestoreTest failed{"intranet",
                     core::format_utc(t0() + days(366)),
                     "A. Dupont",
                     "one site",
                     "",
                     std::nullopt,
                     TestResult::kFailed,
                     "restic: wrong password",
                     "cli"};
  ASSERT_TRUE(record_restore_test(*store_, failed, at(t0())));
  Rules rules;
  rules.restore_test_days_critical = 3650;
  changes = evaluate(t0() + days(366), rules);
  EXPECT_TRUE(has(changes.raised, kAlertRestoreTestOverdue, "system:intranet"));
  EXPECT_TRUE(has(changes.raised, kAlertRestoreTestFailed, "system:intranet"));
  EXPECT_TRUE(has(changes.cleared, kAlertRestoreTestOverdue, "system:pacs"));
}

TEST_P(TrackingTest, CriticalDevicesWithoutPolicyAreAlertedUntilOneIsSet) {
  add_device(1, "life-supporting");
  add_device(2, "diagnostic");
  add_device(3, "other");
  add_device(4, "life-supporting", "decommissioned");
  auto changes = evaluate(t0());
  EXPECT_TRUE(has(changes.raised, kAlertNoPolicy, "device:1"));
  EXPECT_TRUE(has(changes.raised, kAlertNoPolicy, "device:2"));
  EXPECT_FALSE(has(changes.raised, kAlertNoPolicy, "device:3"));
  EXPECT_FALSE(has(changes.raised, kAlertNoPolicy, "device:4"));
  auto report = status(*store_, t0(), Rules{});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->devices_without_policy, 2);

  // A pump with nothing to back up says so; the alert clears, and no stale alert follows.
  set("ventilator-1", Method::kNone, std::nullopt, std::nullopt, 1);
  changes = evaluate(t0() + days(30));
  EXPECT_TRUE(has(changes.cleared, kAlertNoPolicy, "device:1"));
  EXPECT_TRUE(changes.raised.empty());
  // The rule follows the configuration.
  Rules only_life;
  only_life.policy_required_for = {"life-supporting"};
  changes = evaluate(t0() + days(30), only_life);
  EXPECT_TRUE(has(changes.cleared, kAlertNoPolicy, "device:2"));
  // A named critical system registered without policy is alerted too.
  ASSERT_TRUE(ensure_system(*store_, {"steriline", 0, Criticality::kCritical, ""}, at(t0())));
  changes = evaluate(t0() + days(30), only_life);
  EXPECT_TRUE(has(changes.raised, kAlertNoPolicy, "system:steriline"));
}

TEST_P(TrackingTest, OneOpenAlertPerKindAndObject) {
  Actor a{"system", "scheduler", "2026-11-20T08:00:00Z"};
  Alert alert{0, "export.stale", "host:pc-urgences", "warning", "export 3 days old", "", ""};
  auto tx = store::Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  auto first = raise_alert(*store_, alert, a);
  ASSERT_TRUE(first);
  ASSERT_TRUE(*first);
  auto second = raise_alert(*store_, alert, a);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  ASSERT_TRUE(tx->commit());
  // The store itself refuses a second open alert.
  EXPECT_FALSE(store_->execute(
      "INSERT INTO alerts (id, kind, object, severity, message, raised_at) VALUES "
      "(99, 'export.stale', 'host:pc-urgences', 'warning', 'x', '2026-11-20T08:00:00Z')"));
  auto tx2 = store::Transaction::begin(*store_);
  ASSERT_TRUE(tx2);
  auto cleared = clear_alert(*store_, "export.stale", "host:pc-urgences", a);
  ASSERT_TRUE(cleared);
  ASSERT_TRUE(*cleared);
  auto again = raise_alert(*store_, alert, a);
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again);
  ASSERT_TRUE(tx2->commit());
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts"), 2);
  // evaluate_alerts leaves other modules' alerts alone.
  evaluate(t0());
  auto open = list_alerts(*store_, true);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().kind, "export.stale");
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::resilience
