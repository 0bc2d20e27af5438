#include "vigie/resilience/alerts.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "tracking_internal.h"
#include "vigie/audit/audit.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using nlohmann::json;
using store::Value;

constexpr std::string_view kAlertColumns =
    "id, kind, object, severity, message, raised_at, cleared_at FROM alerts";

Alert alert_from_row(const store::Row& r) {
  return {r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6)};
}

Status audit_alert(store::Store& store, const Actor& actor, std::string_view action,
                   const Alert& a) {
  const json details{
      {"alert_id", a.id}, {"kind", a.kind}, {"severity", a.severity}, {"message", a.message}};
  auto id = audit::append(store,
                          {actor.name, std::string(action), a.object, actor.origin,
                           details.dump(-1, ' ', false, json::error_handler_t::replace)},
                          internal::now_or(actor));
  if (!id) return tl::unexpected(id.error());
  return {};
}

Result<std::optional<Alert>> open_alert(store::Store& store, std::string_view kind,
                                        std::string_view object) {
  const Value params[] = {std::string(kind), std::string(object)};
  auto rows = store.query(
      fmt::format("SELECT {} WHERE kind = ? AND object = ? AND cleared_at IS NULL", kAlertColumns),
      params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<Alert>();
  return std::optional<Alert>(alert_from_row(rows->front()));
}

std::string_view severity_of(Criticality c) {
  return c == Criticality::kCritical ? "critical" : "warning";
}

struct Wanted {
  std::string severity;
  std::string message;
};
using AlertKey = std::pair<std::string, std::string>;  // kind, object

void want_system_alerts(const SystemStatus& st, std::map<AlertKey, Wanted>& wanted) {
  const std::string object = "system:" + st.system.name;
  const std::string& name = st.system.name;
  const std::string severity(severity_of(st.system.effective));
  const bool backed_up = st.policy && st.policy->method != Method::kNone;
  if (!st.policy && st.system.effective == Criticality::kCritical) {
    wanted[{std::string(kAlertNoPolicy), object}] = {
        "warning", fmt::format("critical system '{}' has no backup policy", name)};
  }
  if (backed_up && st.backup_overdue) {
    const std::int64_t rpo = st.policy->rpo_hours.value_or(0);
    std::string message =
        st.last_good_run
            ? fmt::format("last good backup of '{}' started {} ({:.0f} h ago), RPO {} h", name,
                          st.last_good_run->started_at, st.last_good_age_hours.value_or(0), rpo)
            : fmt::format("no good backup of '{}' recorded (RPO {} h)", name, rpo);
    wanted[{std::string(kAlertBackupStale), object}] = {severity, std::move(message)};
  }
  if (st.last_verification && !st.last_verification->ok) {
    const auto& v = *st.last_verification;
    wanted[{std::string(kAlertVerificationFailed), object}] = {
        "critical", fmt::format("the latest verification of '{}' ({}) failed{}{}", name,
                                v.verified_at, v.detail.empty() ? "" : ": ", v.detail)};
  }
  if (st.restore_test_overdue) {
    std::string message =
        st.last_good_restore_test
            ? fmt::format("restore test of '{}' due on {} (every {} days; last successful {})",
                          name, st.restore_test_due_on, st.restore_test_days,
                          st.last_good_restore_test->tested_at)
            : fmt::format("no successful restore test of '{}' recorded (required every {} days)",
                          name, st.restore_test_days);
    wanted[{std::string(kAlertRestoreTestOverdue), object}] = {severity, std::move(message)};
  }
  if (st.last_restore_test && st.last_restore_test->result != TestResult::kOk) {
    const auto& t = *st.last_restore_test;
    wanted[{std::string(kAlertRestoreTestFailed), object}] = {
        "critical",
        fmt::format("the latest restore test of '{}' ({}, by {}) {}{}{}", name, t.tested_at,
                    t.tested_by, t.result == TestResult::kPartial ? "was partial" : "failed",
                    t.detail.empty() ? "" : ": ", t.detail)};
  }
}

}  // namespace

namespace internal {

core::Result<std::vector<DeviceRef>> devices_without_policy(store::Store& store, const Rules& rules,
                                                            bool with_labels) {
  std::vector<DeviceRef> out;
  if (rules.policy_required_for.empty()) return out;
  std::string any;
  std::vector<Value> params;
  for (const auto& c : rules.policy_required_for) {
    any += any.empty() ? "d.criticality = ?" : " OR d.criticality = ?";
    params.emplace_back(c);
  }
  const std::string sql = fmt::format(
      "SELECT d.id{} FROM devices d WHERE ({}) AND d.status <> 'decommissioned' AND "
      "d.status <> 'sold' AND NOT EXISTS (SELECT 1 FROM backup_systems s WHERE s.device_id = "
      "d.id) ORDER BY d.id",
      with_labels ? ", d.vendor, d.product, d.criticality" : "", any);
  VIGIE_TRY(store.for_each(sql, params, [&](const store::Row& r) {
    DeviceRef d;
    d.id = r.integer(0);
    if (with_labels) d.label = fmt::format("{} {} ({})", r.text(1), r.text(2), r.text(3));
    out.push_back(std::move(d));
    return true;
  }));
  return out;
}

}  // namespace internal

Result<std::optional<Alert>> raise_alert(store::Store& store, const Alert& alert,
                                         const Actor& actor) {
  if (alert.kind.empty() || alert.object.empty() || alert.message.empty()) {
    return core::fail(ErrorCode::kInvalidInput, "an alert needs a kind, an object and a message");
  }
  if (alert.severity != "critical" && alert.severity != "warning") {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("alert severity '{}' (critical or warning)", alert.severity));
  }
  auto open = open_alert(store, alert.kind, alert.object);
  if (!open) return tl::unexpected(open.error());
  if (*open) return std::optional<Alert>();
  VIGIE_TRY(store.lock_table("alerts"));
  auto id = store.next_id("alerts");
  if (!id) return tl::unexpected(id.error());
  Alert raised = alert;
  raised.id = *id;
  raised.raised_at = internal::now_or(actor);
  raised.cleared_at.clear();
  const Value params[] = {raised.id,       raised.kind,    raised.object,
                          raised.severity, raised.message, raised.raised_at};
  VIGIE_TRY(
      store.execute("INSERT INTO alerts (id, kind, object, severity, message, raised_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    params));
  VIGIE_TRY(audit_alert(store, actor, "alert.raise", raised));
  return std::optional<Alert>(std::move(raised));
}

Result<std::optional<Alert>> clear_alert(store::Store& store, std::string_view kind,
                                         std::string_view object, const Actor& actor) {
  auto open = open_alert(store, kind, object);
  if (!open) return tl::unexpected(open.error());
  if (!*open) return std::optional<Alert>();
  Alert cleared = std::move(**open);
  cleared.cleared_at = internal::now_or(actor);
  const Value params[] = {cleared.cleared_at, cleared.id};
  VIGIE_TRY(store.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", params));
  VIGIE_TRY(audit_alert(store, actor, "alert.clear", cleared));
  return std::optional<Alert>(std::move(cleared));
}

Result<std::vector<Alert>> list_alerts(store::Store& store, bool open_only,
                                       std::string_view kind_prefix) {
  std::string sql = fmt::format("SELECT {} WHERE 1 = 1", kAlertColumns);
  std::vector<Value> params;
  if (open_only) sql += " AND cleared_at IS NULL";
  if (!kind_prefix.empty()) {
    sql += " AND SUBSTR(kind, 1, ?) = ?";
    params.emplace_back(static_cast<std::int64_t>(kind_prefix.size()));
    params.emplace_back(std::string(kind_prefix));
  }
  sql += " ORDER BY raised_at DESC, id DESC";
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Alert> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(alert_from_row(r));
  return out;
}

Result<AlertChanges> reconcile_alerts(store::Store& store, std::string_view kind_prefix,
                                      const std::vector<Alert>& wanted, const Actor& actor) {
  AlertChanges changes;
  auto open = list_alerts(store, true, kind_prefix);
  if (!open) return tl::unexpected(open.error());
  std::map<AlertKey, bool> is_wanted;
  for (const auto& w : wanted) is_wanted[{w.kind, w.object}] = true;
  std::map<AlertKey, bool> is_open;
  for (const auto& a : *open) {
    const AlertKey key{a.kind, a.object};
    is_open[key] = true;
    if (is_wanted.count(key) != 0) continue;
    auto cleared = clear_alert(store, a.kind, a.object, actor);
    if (!cleared) return tl::unexpected(cleared.error());
    if (*cleared) changes.cleared.push_back(std::move(**cleared));
  }
  for (const auto& w : wanted) {
    if (is_open.count({w.kind, w.object}) != 0) continue;
    auto raised = raise_alert(store, w, actor);
    if (!raised) return tl::unexpected(raised.error());
    if (*raised) changes.raised.push_back(std::move(**raised));
  }
  return changes;
}

Result<AlertChanges> evaluate_alerts(store::Store& store, core::TimePoint now, const Rules& rules,
                                     const Actor& actor_in) {
  Actor actor = actor_in;
  if (actor.at.empty()) actor.at = core::format_utc(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto report = status(store, now, rules);
  if (!report) return tl::unexpected(report.error());
  std::map<AlertKey, Wanted> wanted;
  for (const auto& st : report->systems) want_system_alerts(st, wanted);
  auto devices = internal::devices_without_policy(store, rules, true);
  if (!devices) return tl::unexpected(devices.error());
  for (const auto& d : *devices) {
    wanted[{std::string(kAlertNoPolicy), fmt::format("device:{}", d.id)}] = {
        "warning", fmt::format("device {}, {}, has no backup policy", d.id, d.label)};
  }

  std::vector<Alert> wanted_alerts;
  wanted_alerts.reserve(wanted.size());
  for (auto& [key, w] : wanted) {
    wanted_alerts.push_back(
        {0, key.first, key.second, std::move(w.severity), std::move(w.message), "", ""});
  }
  auto changes = reconcile_alerts(store, "backup.", wanted_alerts, actor);
  if (!changes) return tl::unexpected(changes.error());
  VIGIE_TRY(tx->commit());
  return changes;
}

}  // namespace vigie::resilience
