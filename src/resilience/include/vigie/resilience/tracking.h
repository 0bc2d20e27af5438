// Backup tracking: for every system the hospital depends on (an inventory device, or a named
// system that is not a medical device: a PACS server, the sterilisation-traceability server,
// Vigie itself as system "vigie"), the answers to "is it backed up, how often, who checks,
// when was a restore last tested?" as data. Policies, runs, verifications and restore tests
// are recorded here (by people, by importers, by `vigie backup`), each write audited in its
// transaction; status() and evaluate_alerts() (alerts.h) turn them into due dates and alerts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/store/store.h"

namespace vigie::core {
struct Config;
}

namespace vigie::resilience {

using core::Result;
using core::Status;

// Who records a change, from where and when (ISO 8601 UTC; empty = now), for the audit log.
struct Actor {
  std::string name;
  std::string origin = "cli";
  std::string at;
};

// How much a system matters. A device system without its own criticality takes it from the
// inventory: life-supporting and diagnostic devices are critical, others standard.
enum class Criticality { kCritical, kImportant, kStandard };
std::string_view to_string(Criticality c);
std::optional<Criticality> parse_criticality(std::string_view text);

// How a system is backed up. kNone says, on purpose, that there is nothing to back up (a
// device without local data): no RPO, no alert for missing runs.
enum class Method {
  kRestic,
  kBorg,
  kVendorTool,
  kVmSnapshot,
  kTape,
  kDatabaseDump,
  kReplication,
  kManual,
  kOther,
  kNone,
};
std::string_view to_string(Method m);
std::optional<Method> parse_method(std::string_view text);  // "restic", "vm-snapshot"...

// A backup run's outcome: kWarning is a run that completed with errors (restic exit code 3:
// a snapshot missing unreadable files). Only kOk counts as a good backup.
enum class RunStatus { kOk, kWarning, kFailed };
std::string_view to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view text);

enum class TestResult { kOk, kPartial, kFailed };
std::string_view to_string(TestResult r);
std::optional<TestResult> parse_test_result(std::string_view text);

// A system as registered, and the policy set for it (absent until someone sets one).
struct System {
  std::int64_t id = 0;
  std::string name;
  std::int64_t device_id = 0;              // 0: not an inventory device
  std::optional<Criticality> criticality;  // as set; nullopt = from the inventory
  Criticality effective = Criticality::kStandard;
  std::string description;
  std::string device_label;  // "Siemens Artis zee (life-supporting)" for device systems
};

struct Policy {
  Method method = Method::kOther;
  std::optional<std::int64_t> rpo_hours;  // required unless method is kNone
  std::string schedule;                   // "daily 22:00", as the hospital says it
  std::string retention;                  // "7 daily, 4 weekly, 12 monthly"
  std::vector<std::string> targets;       // where copies go: "nas-1:/backups", "tape vault B"
  bool offsite = false;                   // a copy away from the production site
  bool immutable = false;                 // a copy the production host cannot alter or delete
  std::string checked_by;                 // the person or role who checks the backups
  // Days between successful restore tests; nullopt = by criticality (configuration), 0 = none.
  std::optional<std::int64_t> restore_test_days;
  std::string notes;
  std::string updated_at;  // set by the store
  std::string updated_by;
};

// The system to create or update along with a policy.
struct SystemSpec {
  std::string name;
  std::int64_t device_id = 0;              // 0: leave as is (or none when created)
  std::optional<Criticality> criticality;  // nullopt: leave as is
  std::string description;                 // "": leave as is
};

struct BackupRun {
  std::string system;       // system name
  std::string snapshot_id;  // restic snapshot id (short or long), borg archive id... or ""
  std::string started_at;   // ISO 8601 UTC (the snapshot's time), required
  std::string finished_at;  // "" when unknown
  RunStatus status = RunStatus::kOk;
  std::optional<std::int64_t> size_bytes;   // bytes the run read
  std::optional<std::int64_t> added_bytes;  // new bytes it stored
  std::optional<std::int64_t> files;
  std::optional<std::int64_t> duration_ms;
  std::string source;  // "restic-summary", "borg-list", "csv", "cli", "vigie-backup"...
  std::string detail;  // paths, archive name, error text
};

struct StoredRun : BackupRun {
  std::int64_t id = 0;
  std::string recorded_at;
  std::string recorded_by;
};

struct Verification {
  std::string system;
  std::string verified_at;  // ISO 8601 UTC, required; with the system, the natural key
  bool ok = true;
  std::string snapshot_id;
  std::string scope;   // "restic check --read-data-subset=5%"
  std::string detail;  // what failed
  std::string source = "cli";
};

struct StoredVerification : Verification {
  std::int64_t id = 0;
  std::string recorded_at;
  std::string recorded_by;
};

struct RestoreTest {
  std::string system;
  std::string tested_at;  // ISO 8601 UTC, required; with the system, the natural key
  std::string tested_by;  // the person who did it, required
  std::string scope;      // "whole server on a scratch VM", "one study", required
  std::string snapshot_id;
  std::optional<std::int64_t> restore_seconds;  // measured time to restore
  TestResult result = TestResult::kOk;
  std::string detail;
  std::string source = "cli";
};

struct StoredRestoreTest : RestoreTest {
  std::int64_t id = 0;
  std::string recorded_at;
  std::string recorded_by;
};

// What a record_* call did: the row's id, and whether it was new, completed (an earlier import
// of the same run lacked fields this one has), or already stored as is.
enum class Recorded { kCreated, kUpdated, kUnchanged };
std::string_view to_string(Recorded r);

struct RecordOutcome {
  std::int64_t id = 0;
  Recorded what = Recorded::kCreated;
};

// The rules of due dates and alerts, from the configuration (backups.* keys).
struct Rules {
  // Days between successful restore tests by criticality; 0 = none required.
  std::int64_t restore_test_days_critical = 365;
  std::int64_t restore_test_days_important = 730;
  std::int64_t restore_test_days_standard = 0;
  // Inventory criticalities whose devices must have a backup policy (possibly method "none").
  std::vector<std::string> policy_required_for = {"life-supporting", "diagnostic"};

  static Rules from(const core::Config& config);
  [[nodiscard]] std::int64_t restore_test_days(Criticality c) const;
};

// Systems and policies ---------------------------------------------------------------------
// Each writer runs in its own transaction and audits the change in it.

// Creates the system when it does not exist (criticality "standard" by default for a named
// system), else updates the fields the spec sets. Returns the system's id. This is how the
// lead's wiring makes sure system "vigie" exists before recording Vigie's own backups.
Result<std::int64_t> ensure_system(store::Store& store, const SystemSpec& spec, const Actor& actor);

// Creates or updates the system, then replaces its whole policy. Refused (kInvalidInput) when
// the policy is incomplete (no RPO for a method other than "none", a negative interval...) or
// the device does not exist.
Result<std::int64_t> set_policy(store::Store& store, const SystemSpec& spec, const Policy& policy,
                                const Actor& actor);

Result<std::vector<System>> list_systems(store::Store& store);
Result<System> find_system(store::Store& store, std::string_view name);  // kNotFound
// Policies with their systems, by system name.
Result<std::vector<std::pair<System, Policy>>> list_policies(store::Store& store);

// Runs, verifications, restore tests ------------------------------------------------------
// The system must exist (kNotFound otherwise: create it with ensure_system or set_policy).
// Idempotent: the same run (system + snapshot id, or system + start time when there is no
// snapshot id; a restic short id matches its long id) or the same verification / restore test
// (system + time) recorded twice is stored once; fields the stored row lacks are filled in.

Result<RecordOutcome> record_run(store::Store& store, const BackupRun& run, const Actor& actor);
Result<RecordOutcome> record_verification(store::Store& store, const Verification& v,
                                          const Actor& actor);
Result<RecordOutcome> record_restore_test(store::Store& store, const RestoreTest& t,
                                          const Actor& actor);

// The same without a transaction or audit entry of their own, for importers that record many
// rows in one transaction and audit the import once. Call inside a transaction.
Result<RecordOutcome> record_run_in_transaction(store::Store& store, const BackupRun& run,
                                                const Actor& actor);

// Newest first; `system` "" = every system; `limit` 0 = all.
Result<std::vector<StoredRun>> list_runs(store::Store& store, std::string_view system,
                                         std::int64_t limit = 0);
Result<std::vector<StoredVerification>> list_verifications(store::Store& store,
                                                           std::string_view system,
                                                           std::int64_t limit = 0);
Result<std::vector<StoredRestoreTest>> list_restore_tests(store::Store& store,
                                                          std::string_view system,
                                                          std::int64_t limit = 0);

// Status ----------------------------------------------------------------------------------

struct SystemStatus {
  System system;
  std::optional<Policy> policy;
  std::optional<StoredRun> last_run;       // the newest run, whatever its status
  std::optional<StoredRun> last_good_run;  // the newest run with status ok
  std::optional<double> last_good_age_hours;
  std::string backup_due_at;    // last good start + RPO ("" without RPO or run)
  bool backup_overdue = false;  // no good run, or the last is older than the RPO
  std::optional<StoredVerification> last_verification;
  std::optional<StoredRestoreTest> last_restore_test;       // newest, whatever its result
  std::optional<StoredRestoreTest> last_good_restore_test;  // newest with result ok
  std::int64_t restore_test_days = 0;  // the interval that applies; 0 = none required
  std::string restore_test_due_on;     // "YYYY-MM-DD"; "" when none is required
  bool restore_test_overdue = false;
};

struct StatusReport {
  std::vector<SystemStatus> systems;  // by name
  // Inventory devices that must have a policy (Rules::policy_required_for) and have none.
  std::int64_t devices_without_policy = 0;
};

Result<StatusReport> status(store::Store& store, core::TimePoint now, const Rules& rules);

}  // namespace vigie::resilience
