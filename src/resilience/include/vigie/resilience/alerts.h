// Alerts: conditions someone must act on (a backup older than its RPO, a failed verification,
// an overdue restore test...). One table for every kind, at most one open alert per kind and
// object; raising and clearing are audited. Vigie does not send anything from here: callers
// pass the newly raised and cleared alerts on to the notification module (e-mail, syslog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/resilience/tracking.h"
#include "vigie/store/store.h"

namespace vigie::resilience {

struct Alert {
  std::int64_t id = 0;
  std::string kind;      // dotted: "backup.stale", "backup.verification_failed"...
  std::string object;    // what it is about: "system:pacs", "device:42"
  std::string severity;  // "critical" or "warning"
  std::string message;   // one line for people
  std::string raised_at;
  std::string cleared_at;  // "" while open
};

// The alert kinds evaluate_alerts() manages.
inline constexpr std::string_view kAlertBackupStale = "backup.stale";
inline constexpr std::string_view kAlertVerificationFailed = "backup.verification_failed";
inline constexpr std::string_view kAlertRestoreTestOverdue = "backup.restore_test_overdue";
inline constexpr std::string_view kAlertRestoreTestFailed = "backup.restore_test_failed";
inline constexpr std::string_view kAlertNoPolicy = "backup.no_policy";

// Generic operations, for any module's alerts. Call inside a transaction (each writes an
// audit entry "alert.raise" / "alert.clear" with `actor`).
// Raises the alert unless one of the same kind and object is open; returns it when raised.
Result<std::optional<Alert>> raise_alert(store::Store& store, const Alert& alert,
                                         const Actor& actor);
// Clears the open alert of that kind and object; returns it when there was one.
Result<std::optional<Alert>> clear_alert(store::Store& store, std::string_view kind,
                                         std::string_view object, const Actor& actor);

// Newest first. `open_only`: only alerts not cleared; `kind_prefix` "" = every kind.
Result<std::vector<Alert>> list_alerts(store::Store& store, bool open_only,
                                       std::string_view kind_prefix = {});

struct AlertChanges {
  std::vector<Alert> raised;
  std::vector<Alert> cleared;
};

// Makes the open alerts whose kind starts with `kind_prefix` exactly `wanted` (kind, object,
// severity, message): raises the missing ones, clears those no longer wanted. Call inside a
// transaction.
Result<AlertChanges> reconcile_alerts(store::Store& store, std::string_view kind_prefix,
                                      const std::vector<Alert>& wanted, const Actor& actor);

// Brings the open backup.* alerts in line with the data at `now`, in one transaction:
//  - backup.stale (critical for critical systems, else warning): a system whose policy has an
//    RPO has no good run, or its last good run started more than rpo_hours before `now`;
//  - backup.verification_failed: the system's latest verification failed;
//  - backup.restore_test_overdue: a restore test is required (policy or criticality interval
//    > 0) and there is no successful one within that many days before `now`;
//  - backup.restore_test_failed: the system's latest restore test did not succeed (failed or
//    partial);
//  - backup.no_policy: a device whose inventory criticality is in rules.policy_required_for
//    (and is not decommissioned or sold), or a named critical system, has no policy.
// An alert whose condition no longer holds is cleared. Returns what changed, for e-mail and
// syslog. `actor` is usually {"system", "scheduler"}.
Result<AlertChanges> evaluate_alerts(store::Store& store, core::TimePoint now, const Rules& rules,
                                     const Actor& actor);

// Brings the open export.* alerts in line with the strategic PCs' state (export_status): one per
// PC that never received an export, holds one older than export.max_age_hours, is unreachable,
// failed its last push or could not be verified ("export.unverifiable" is critical: the copy
// on the PC may not be ours). In one transaction.
Result<AlertChanges> evaluate_export_alerts(store::Store& store, const core::Config& config,
                                            const core::Clock& clock, const Actor& actor);

// Brings the open "sync.problem" alerts in line with the offline journals: one (critical) per
// site with a problem recorded at upload (gap, forged or tampered entry, broken chain) within
// `days` days before `now`, naming how many and the latest. In one transaction.
inline constexpr std::string_view kAlertSyncProblem = "sync.problem";
Result<AlertChanges> evaluate_sync_alerts(store::Store& store, core::TimePoint now,
                                          std::int64_t days, const Actor& actor);

}  // namespace vigie::resilience
