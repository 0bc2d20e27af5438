// The alerts of the disaster-recovery exports and of the offline journals' uploads, kept in the
// same table as the backup alerts (alerts.h) so that one list, one digest and one e-mail cover
// them all.
#include <fmt/format.h>

#include <map>

#include "vigie/resilience/alerts.h"
#include "vigie/resilience/dr_export.h"
#include "vigie/resilience/sync.h"

namespace vigie::resilience {

Result<AlertChanges> evaluate_export_alerts(store::Store& store, const core::Config& config,
                                            const core::Clock& clock, const Actor& actor_in) {
  Actor actor = actor_in;
  if (actor.at.empty()) actor.at = core::format_utc(clock.now());
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto statuses = export_status(store, config, clock);
  if (!statuses) return tl::unexpected(statuses.error());
  std::vector<Alert> wanted;
  for (const auto& a : export_alerts(*statuses, config)) {
    // A copy that does not verify may not be ours: someone must look now.
    const bool critical = a.kind == "unverifiable";
    wanted.push_back({0, "export." + a.kind, "export-host:" + a.host,
                      critical ? "critical" : "warning", a.message, "", ""});
  }
  auto changes = reconcile_alerts(store, "export.", wanted, actor);
  if (!changes) return tl::unexpected(changes.error());
  VIGIE_TRY(tx->commit());
  return changes;
}

Result<AlertChanges> evaluate_sync_alerts(store::Store& store, core::TimePoint now,
                                          std::int64_t days, const Actor& actor_in) {
  Actor actor = actor_in;
  if (actor.at.empty()) actor.at = core::format_utc(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto problems = recorded_problems(store);
  if (!problems) return tl::unexpected(problems.error());
  struct SiteProblems {
    std::int64_t count = 0;
    const SyncProblem* latest = nullptr;
  };
  std::map<std::string, SiteProblems> by_site;
  const auto since = now - std::chrono::hours(24 * days);
  for (const auto& p : *problems) {  // oldest first
    auto at = core::parse_utc(p.detected_at);
    if (!at || *at < since) continue;
    auto& site = by_site[p.site];
    ++site.count;
    site.latest = &p;
  }
  std::vector<Alert> wanted;
  wanted.reserve(by_site.size());
  for (const auto& [site, sp] : by_site) {
    wanted.push_back(
        {0, std::string(kAlertSyncProblem), "site:" + site, "critical",
         fmt::format("{} problem(s) in the offline journal uploads of site '{}' within {} days; "
                     "latest: {} at seq {} ({}): {}",
                     sp.count, site, days, sp.latest->kind, sp.latest->seq, sp.latest->detected_at,
                     sp.latest->detail),
         "", ""});
  }
  auto changes = reconcile_alerts(store, kAlertSyncProblem, wanted, actor);
  if (!changes) return tl::unexpected(changes.error());
  VIGIE_TRY(tx->commit());
  return changes;
}

}  // namespace vigie::resilience
