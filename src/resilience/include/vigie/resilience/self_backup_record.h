// Vigie's own backups, verifications and restore tests recorded as those of the system
// "vigie" in the backup tracking (so that the same status, alerts and history cover Vigie and
// every other system). One record per repository: the local and the off-machine copies are
// followed separately, and a stale off-machine copy raises its own alert.
#pragma once

#include "vigie/core/result.h"
#include "vigie/resilience/self_backup.h"
#include "vigie/resilience/tracking.h"

namespace vigie::resilience {

// The tracked system that stands for Vigie itself.
inline constexpr std::string_view kVigieSystem = "vigie";

core::Status record_self_backup(store::Store& store, const SelfBackupRun& run, const Actor& actor);
core::Status record_self_verify(store::Store& store, const VerifyRun& run, const Actor& actor);
core::Status record_self_restore_test(store::Store& store, const SelfRestoreTest& test,
                                      const Actor& actor);

}  // namespace vigie::resilience
