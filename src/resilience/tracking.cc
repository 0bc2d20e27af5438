#include "vigie/resilience/tracking.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "tracking_internal.h"
#include "vigie/audit/audit.h"
#include "vigie/core/config.h"
#include "vigie/core/text.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using nlohmann::json;
using store::Value;

template <class E>
struct Named {
  E value;
  std::string_view name;
};

constexpr std::array<Named<Criticality>, 3> kCriticalities = {{
    {Criticality::kCritical, "critical"},
    {Criticality::kImportant, "important"},
    {Criticality::kStandard, "standard"},
}};
constexpr std::array<Named<Method>, 10> kMethods = {{
    {Method::kRestic, "restic"},
    {Method::kBorg, "borg"},
    {Method::kVendorTool, "vendor-tool"},
    {Method::kVmSnapshot, "vm-snapshot"},
    {Method::kTape, "tape"},
    {Method::kDatabaseDump, "database-dump"},
    {Method::kReplication, "replication"},
    {Method::kManual, "manual"},
    {Method::kOther, "other"},
    {Method::kNone, "none"},
}};
constexpr std::array<Named<RunStatus>, 3> kRunStatuses = {{
    {RunStatus::kOk, "ok"},
    {RunStatus::kWarning, "warning"},
    {RunStatus::kFailed, "failed"},
}};
constexpr std::array<Named<TestResult>, 3> kTestResults = {{
    {TestResult::kOk, "ok"},
    {TestResult::kPartial, "partial"},
    {TestResult::kFailed, "failed"},
}};

template <class E, size_t N>
std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  for (const auto& n : table) {
    if (n.value == value) return n.name;
  }
  return "?";
}

template <class E, size_t N>
std::optional<E> value_of(const std::array<Named<E>, N>& table, std::string_view text) {
  const std::string lower = core::ascii_lower(core::trim(text));
  for (const auto& n : table) {
    if (n.name == lower) return n.value;
  }
  return std::nullopt;
}

Value opt_int(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(nullptr); }

std::optional<std::int64_t> int_or_none(const store::Row& row, size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.integer(i);
}

constexpr size_t kMaxText = 4096;

Status check_text(std::string_view what, std::string_view text, size_t max = kMaxText) {
  if (text.size() > max) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("{} is longer than {} bytes", what, max));
  }
  if (auto bad = core::find_invalid_utf8(text)) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("{} is not valid UTF-8 (byte {})", what, *bad));
  }
  return {};
}

Status check_name(std::string_view name) {
  const std::string_view t = core::trim(name);
  if (t.empty()) return core::fail(ErrorCode::kInvalidInput, "a system needs a name");
  VIGIE_TRY(check_text("the system name", t, 200));
  for (char c : t) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return core::fail(ErrorCode::kInvalidInput, "the system name holds a control character");
    }
  }
  return {};
}

Status check_count(std::string_view what, const std::optional<std::int64_t>& v) {
  if (v && *v < 0) {
    return core::fail(ErrorCode::kInvalidInput, fmt::format("{} cannot be negative", what));
  }
  return {};
}

Result<std::string> required_time(std::string_view what, std::string_view text) {
  if (core::trim(text).empty()) {
    return core::fail(ErrorCode::kInvalidInput, fmt::format("{} is required", what));
  }
  auto t = core::parse_utc(core::trim(text));
  if (!t)
    return core::fail(ErrorCode::kInvalidInput, fmt::format("{}: {}", what, t.error().message));
  return core::format_utc(*t);
}

Result<std::string> optional_time(std::string_view what, std::string_view text) {
  if (core::trim(text).empty()) return std::string();
  return required_time(what, text);
}

Status audit_change(store::Store& store, const Actor& actor, std::string action, std::string object,
                    const json& details) {
  auto id = audit::append(store,
                          {actor.name, std::move(action), std::move(object), actor.origin,
                           details.dump(-1, ' ', false, json::error_handler_t::replace)},
                          internal::now_or(actor));
  if (!id) return tl::unexpected(id.error());
  return {};
}

Criticality from_device(std::string_view device_criticality) {
  return device_criticality == "life-supporting" || device_criticality == "diagnostic"
             ? Criticality::kCritical
             : Criticality::kStandard;
}

constexpr std::string_view kSystemColumns =
    "s.id, s.name, s.device_id, s.criticality, s.description, d.vendor, d.product, "
    "d.criticality";
constexpr std::string_view kSystemFrom =
    " FROM backup_systems s LEFT JOIN devices d ON d.id = s.device_id";

System system_from_row(const store::Row& r) {
  System s;
  s.id = r.integer(0);
  s.name = r.text(1);
  s.device_id = r.is_null(2) ? 0 : r.integer(2);
  s.criticality = r.is_null(3) ? std::nullopt : parse_criticality(r.text(3));
  s.description = r.text(4);
  if (s.device_id != 0) {
    s.device_label = fmt::format("{} {} ({})", r.text(5), r.text(6), r.text(7));
  }
  s.effective = s.criticality      ? *s.criticality
                : s.device_id != 0 ? from_device(r.text(7))
                                   : Criticality::kStandard;
  return s;
}

json policy_json(const Policy& p) {
  return {{"method", to_string(p.method)},
          {"rpo_hours", p.rpo_hours ? json(*p.rpo_hours) : json(nullptr)},
          {"schedule", p.schedule},
          {"retention", p.retention},
          {"targets", p.targets},
          {"offsite", p.offsite},
          {"immutable", p.immutable},
          {"checked_by", p.checked_by},
          {"restore_test_days", p.restore_test_days ? json(*p.restore_test_days) : json(nullptr)},
          {"notes", p.notes}};
}

Policy policy_from_row(const store::Row& r, size_t at) {
  Policy p;
  p.method = parse_method(r.text(at)).value_or(Method::kOther);
  p.rpo_hours = int_or_none(r, at + 1);
  p.schedule = r.text(at + 2);
  p.retention = r.text(at + 3);
  auto targets = json::parse(r.text(at + 4), nullptr, false);
  if (targets.is_array()) {
    for (const auto& t : targets) {
      if (t.is_string()) p.targets.push_back(t.get<std::string>());
    }
  }
  p.offsite = r.integer(at + 5) != 0;
  p.immutable = r.integer(at + 6) != 0;
  p.checked_by = r.text(at + 7);
  p.restore_test_days = int_or_none(r, at + 8);
  p.notes = r.text(at + 9);
  p.updated_at = r.text(at + 10);
  p.updated_by = r.text(at + 11);
  return p;
}

constexpr std::string_view kPolicyColumns =
    "p.method, p.rpo_hours, p.schedule, p.retention, p.targets, p.offsite, p.immutable, "
    "p.checked_by, p.restore_test_days, p.notes, p.updated_at, p.updated_by";

Status check_policy(const Policy& p) {
  if (p.method != Method::kNone && !p.rpo_hours) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("a '{}' policy needs an RPO (--rpo-hours)", to_string(p.method)));
  }
  if (p.rpo_hours && (*p.rpo_hours < 1 || *p.rpo_hours > 87600)) {
    return core::fail(ErrorCode::kInvalidInput, "the RPO must be between 1 and 87600 hours");
  }
  if (p.restore_test_days && (*p.restore_test_days < 0 || *p.restore_test_days > 3650)) {
    return core::fail(ErrorCode::kInvalidInput,
                      "the restore-test interval must be between 0 and 3650 days");
  }
  VIGIE_TRY(check_text("the schedule", p.schedule));
  VIGIE_TRY(check_text("the retention", p.retention));
  VIGIE_TRY(check_text("checked by", p.checked_by));
  VIGIE_TRY(check_text("the notes", p.notes));
  if (p.targets.size() > 64) return core::fail(ErrorCode::kInvalidInput, "more than 64 targets");
  for (const auto& t : p.targets) {
    if (core::trim(t).empty()) return core::fail(ErrorCode::kInvalidInput, "an empty target");
    VIGIE_TRY(check_text("a target", t, 1024));
  }
  return {};
}

// The row of a system by name, inside the caller's transaction.
Result<std::optional<store::Row>> system_row(store::Store& store, std::string_view name) {
  const Value params[] = {internal::normalize_name(name)};
  auto rows = store.query(
      "SELECT id, name, device_id, criticality, description FROM backup_systems "
      "WHERE name_norm = ?",
      params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

Status check_device(store::Store& store, std::int64_t device_id, std::int64_t system_id) {
  const Value id[] = {device_id};
  auto exists = store.query_int("SELECT COUNT(*) FROM devices WHERE id = ?", id);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists == 0) {
    return core::fail(ErrorCode::kNotFound,
                      fmt::format("no device {} in the inventory", device_id));
  }
  const Value params[] = {device_id, system_id};
  auto other =
      store.query("SELECT name FROM backup_systems WHERE device_id = ? AND id <> ?", params);
  if (!other) return tl::unexpected(other.error());
  if (!other->empty()) {
    return core::fail(ErrorCode::kConflict, fmt::format("device {} is already system '{}'",
                                                        device_id, other->front().text(0)));
  }
  return {};
}

Result<std::int64_t> ensure_system_in_transaction(store::Store& store, const SystemSpec& spec,
                                                  const Actor& actor) {
  VIGIE_TRY(check_name(spec.name));
  VIGIE_TRY(check_text("the description", spec.description));
  if (spec.device_id < 0) return core::fail(ErrorCode::kInvalidInput, "a device id is positive");
  const std::string name(core::trim(spec.name));
  auto row = system_row(store, name);
  if (!row) return tl::unexpected(row.error());
  if (!*row) {
    if (spec.device_id != 0) VIGIE_TRY(check_device(store, spec.device_id, 0));
    VIGIE_TRY(store.lock_table("backup_systems"));
    auto id = store.next_id("backup_systems");
    if (!id) return id;
    const std::string at = internal::now_or(actor);
    const Value params[] = {
        *id,
        name,
        internal::normalize_name(name),
        spec.device_id != 0 ? Value(spec.device_id) : Value(nullptr),
        spec.criticality ? Value(std::string(to_string(*spec.criticality))) : Value(nullptr),
        internal::text_or_null(spec.description),
        at,
        actor.name};
    VIGIE_TRY(store.execute(
        "INSERT INTO backup_systems (id, name, name_norm, device_id, criticality, description, "
        "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params));
    json details{
        {"device_id", spec.device_id == 0 ? json(nullptr) : json(spec.device_id)},
        {"criticality", spec.criticality ? json(to_string(*spec.criticality)) : json(nullptr)},
        {"description", spec.description}};
    VIGIE_TRY(audit_change(store, actor, "backups.system.create", "system:" + name, details));
    return *id;
  }
  const store::Row& r = **row;
  const std::int64_t id = r.integer(0);
  json changes = json::object();
  if (spec.device_id != 0 && (r.is_null(2) || r.integer(2) != spec.device_id)) {
    VIGIE_TRY(check_device(store, spec.device_id, id));
    const Value params[] = {spec.device_id, id};
    VIGIE_TRY(store.execute("UPDATE backup_systems SET device_id = ? WHERE id = ?", params));
    changes["device_id"] = {{"old", r.is_null(2) ? json(nullptr) : json(r.integer(2))},
                            {"new", spec.device_id}};
  }
  if (spec.criticality && r.text(3) != to_string(*spec.criticality)) {
    const Value params[] = {std::string(to_string(*spec.criticality)), id};
    VIGIE_TRY(store.execute("UPDATE backup_systems SET criticality = ? WHERE id = ?", params));
    changes["criticality"] = {{"old", r.is_null(3) ? json(nullptr) : json(r.text(3))},
                              {"new", to_string(*spec.criticality)}};
  }
  if (!spec.description.empty() && r.text(4) != spec.description) {
    const Value params[] = {spec.description, id};
    VIGIE_TRY(store.execute("UPDATE backup_systems SET description = ? WHERE id = ?", params));
    changes["description"] = {{"old", r.text(4)}, {"new", spec.description}};
  }
  if (!changes.empty()) {
    VIGIE_TRY(audit_change(store, actor, "backups.system.update", "system:" + r.text(1), changes));
  }
  return id;
}

// A restic id: 8 (short) or 64 (full) lower-case hex digits.
bool is_restic_id(std::string_view id) {
  return (id.size() == 8 || id.size() == 64) && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

constexpr std::string_view kRunColumns =
    "r.id, s.name, r.snapshot_id, r.started_at, r.finished_at, r.status, r.size_bytes, "
    "r.added_bytes, r.files, r.duration_ms, r.source, r.detail, r.recorded_at, r.recorded_by, "
    "r.run_key";

StoredRun run_from_row(const store::Row& r) {
  StoredRun run;
  run.id = r.integer(0);
  run.system = r.text(1);
  run.snapshot_id = r.text(2);
  run.started_at = r.text(3);
  run.finished_at = r.text(4);
  run.status = parse_run_status(r.text(5)).value_or(RunStatus::kFailed);
  run.size_bytes = int_or_none(r, 6);
  run.added_bytes = int_or_none(r, 7);
  run.files = int_or_none(r, 8);
  run.duration_ms = int_or_none(r, 9);
  run.source = r.text(10);
  run.detail = r.text(11);
  run.recorded_at = r.text(12);
  run.recorded_by = r.text(13);
  return run;
}

// The stored run this one is (same key; a restic short id and its long id are one snapshot).
Result<std::optional<store::Row>> find_run(store::Store& store, std::int64_t system_id,
                                           const std::string& key) {
  const std::string sql = fmt::format(
      "SELECT {} FROM backup_runs r JOIN backup_systems s ON s.id = r.system_id "
      "WHERE r.system_id = ? AND ",
      kRunColumns);
  const Value exact[] = {system_id, key};
  auto rows = store.query(sql + "r.run_key = ?", exact);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty() && is_restic_id(key)) {
    if (key.size() == 64) {
      const Value shorter[] = {system_id, key.substr(0, 8)};
      rows = store.query(sql + "r.run_key = ?", shorter);
    } else {
      const Value longer[] = {system_id, key + "%"};
      rows = store.query(sql + "r.run_key LIKE ? AND LENGTH(r.run_key) = 64", longer);
    }
    if (!rows) return tl::unexpected(rows.error());
  }
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

json run_json(const BackupRun& run) {
  return {{"snapshot_id", run.snapshot_id},
          {"started_at", run.started_at},
          {"finished_at", run.finished_at},
          {"status", to_string(run.status)},
          {"size_bytes", run.size_bytes ? json(*run.size_bytes) : json(nullptr)},
          {"source", run.source}};
}

Result<std::int64_t> system_id_of(store::Store& store, std::string_view name) {
  auto row = system_row(store, name);
  if (!row) return tl::unexpected(row.error());
  if (!*row) {
    return core::fail(ErrorCode::kNotFound,
                      fmt::format("no backup system '{}' (create it with `vigie backups policy "
                                  "set`)",
                                  core::trim(name)));
  }
  return (*row)->integer(0);
}

// Fills the stored run's missing fields from `run`; returns the changes made.
Result<json> complete_run(store::Store& store, const store::Row& stored, const BackupRun& run,
                          const std::string& key) {
  json changes = json::object();
  const std::int64_t id = stored.integer(0);
  auto set = [&](std::string_view column, Value v, json shown) -> Status {
    const Value params[] = {std::move(v), id};
    VIGIE_TRY(
        store.execute(fmt::format("UPDATE backup_runs SET {} = ? WHERE id = ?", column), params));
    changes[std::string(column)] = std::move(shown);
    return {};
  };
  // A full restic id replaces the short one it completes.
  if (key.size() > stored.text(14).size()) {
    VIGIE_TRY(set("run_key", key, key));
    VIGIE_TRY(set("snapshot_id", run.snapshot_id, run.snapshot_id));
  }
  if (stored.is_null(4) && !run.finished_at.empty()) {
    VIGIE_TRY(set("finished_at", run.finished_at, run.finished_at));
  }
  const std::pair<size_t, std::pair<std::string_view, const std::optional<std::int64_t>*>>
      numbers[] = {
          {6, {"size_bytes", &run.size_bytes}},
          {7, {"added_bytes", &run.added_bytes}},
          {8, {"files", &run.files}},
          {9, {"duration_ms", &run.duration_ms}},
      };
  for (const auto& [column, field] : numbers) {
    if (stored.is_null(column) && *field.second) {
      VIGIE_TRY(set(field.first, **field.second, **field.second));
    }
  }
  if (stored.is_null(11) && !run.detail.empty()) VIGIE_TRY(set("detail", run.detail, run.detail));
  return changes;
}

Result<BackupRun> normalized_run(const BackupRun& in) {
  BackupRun run = in;
  VIGIE_TRY(check_name(run.system));
  auto started = required_time("started_at", run.started_at);
  if (!started) return tl::unexpected(started.error());
  run.started_at = *started;
  auto finished = optional_time("finished_at", run.finished_at);
  if (!finished) return tl::unexpected(finished.error());
  run.finished_at = *finished;
  if (!run.finished_at.empty() &&
      core::parse_utc(run.finished_at).value() < core::parse_utc(run.started_at).value()) {
    return core::fail(ErrorCode::kInvalidInput, "finished_at is before started_at");
  }
  run.snapshot_id = std::string(core::trim(run.snapshot_id));
  VIGIE_TRY(check_text("the snapshot id", run.snapshot_id, 256));
  VIGIE_TRY(check_text("the detail", run.detail));
  VIGIE_TRY(check_count("size_bytes", run.size_bytes));
  VIGIE_TRY(check_count("added_bytes", run.added_bytes));
  VIGIE_TRY(check_count("files", run.files));
  VIGIE_TRY(check_count("duration_ms", run.duration_ms));
  if (run.source.empty()) run.source = "cli";
  return run;
}

}  // namespace

namespace internal {

std::string now_or(const Actor& actor) {
  return actor.at.empty() ? core::format_utc(core::utc_now()) : actor.at;
}

std::string normalize_name(std::string_view name) { return core::ascii_lower(core::trim(name)); }

Value text_or_null(std::string_view text) {
  return text.empty() ? Value(nullptr) : Value(std::string(text));
}

}  // namespace internal

std::string_view to_string(Criticality c) { return name_of(kCriticalities, c); }
std::optional<Criticality> parse_criticality(std::string_view text) {
  return value_of(kCriticalities, text);
}
std::string_view to_string(Method m) { return name_of(kMethods, m); }
std::optional<Method> parse_method(std::string_view text) { return value_of(kMethods, text); }
std::string_view to_string(RunStatus s) { return name_of(kRunStatuses, s); }
std::optional<RunStatus> parse_run_status(std::string_view text) {
  return value_of(kRunStatuses, text);
}
std::string_view to_string(TestResult r) { return name_of(kTestResults, r); }
std::optional<TestResult> parse_test_result(std::string_view text) {
  return value_of(kTestResults, text);
}

std::string_view to_string(Recorded r) {
  switch (r) {
    case Recorded::kCreated:
      return "created";
    case Recorded::kUpdated:
      return "updated";
    case Recorded::kUnchanged:
      return "unchanged";
  }
  return "?";
}

Rules Rules::from(const core::Config& config) {
  Rules rules;
  rules.restore_test_days_critical = config.backups_restore_test_days_critical;
  rules.restore_test_days_important = config.backups_restore_test_days_important;
  rules.restore_test_days_standard = config.backups_restore_test_days_standard;
  rules.policy_required_for.clear();
  std::string_view list = config.backups_policy_required_for;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = core::trim(list.substr(0, comma));
    if (!item.empty()) rules.policy_required_for.emplace_back(item);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return rules;
}

std::int64_t Rules::restore_test_days(Criticality c) const {
  switch (c) {
    case Criticality::kCritical:
      return restore_test_days_critical;
    case Criticality::kImportant:
      return restore_test_days_important;
    case Criticality::kStandard:
      return restore_test_days_standard;
  }
  return 0;
}

Result<std::int64_t> ensure_system(store::Store& store, const SystemSpec& spec,
                                   const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto id = ensure_system_in_transaction(store, spec, actor);
  if (!id) return id;
  VIGIE_TRY(tx->commit());
  return id;
}

Result<std::int64_t> set_policy(store::Store& store, const SystemSpec& spec, const Policy& policy,
                                const Actor& actor) {
  VIGIE_TRY(check_policy(policy));
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto id = ensure_system_in_transaction(store, spec, actor);
  if (!id) return id;
  const Value key[] = {*id};
  auto old = store.query(
      fmt::format("SELECT {} FROM backup_policies p WHERE p.system_id = ?", kPolicyColumns), key);
  if (!old) return tl::unexpected(old.error());
  json details{{"policy", policy_json(policy)}};
  if (!old->empty()) {
    const json previous = policy_json(policy_from_row(old->front(), 0));
    if (previous == details["policy"]) {
      VIGIE_TRY(tx->commit());  // the system may have changed; the policy did not
      return id;
    }
    details["previous"] = previous;
    VIGIE_TRY(store.execute("DELETE FROM backup_policies WHERE system_id = ?", key));
  }
  const std::string at = internal::now_or(actor);
  const Value params[] = {*id,
                          std::string(to_string(policy.method)),
                          opt_int(policy.rpo_hours),
                          internal::text_or_null(policy.schedule),
                          internal::text_or_null(policy.retention),
                          json(policy.targets).dump(),
                          std::int64_t{policy.offsite ? 1 : 0},
                          std::int64_t{policy.immutable ? 1 : 0},
                          internal::text_or_null(policy.checked_by),
                          opt_int(policy.restore_test_days),
                          internal::text_or_null(policy.notes),
                          at,
                          actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO backup_policies (system_id, method, rpo_hours, schedule, retention, targets, "
      "offsite, immutable, checked_by, restore_test_days, notes, updated_at, updated_by) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  VIGIE_TRY(audit_change(store, actor, "backups.policy.set",
                         "system:" + std::string(core::trim(spec.name)), details));
  VIGIE_TRY(tx->commit());
  return id;
}

Result<std::vector<System>> list_systems(store::Store& store) {
  auto rows =
      store.query(fmt::format("SELECT {}{} ORDER BY s.name_norm", kSystemColumns, kSystemFrom));
  if (!rows) return tl::unexpected(rows.error());
  std::vector<System> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(system_from_row(r));
  return out;
}

Result<System> find_system(store::Store& store, std::string_view name) {
  const Value params[] = {internal::normalize_name(name)};
  auto rows = store.query(
      fmt::format("SELECT {}{} WHERE s.name_norm = ?", kSystemColumns, kSystemFrom), params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) {
    return core::fail(ErrorCode::kNotFound, fmt::format("no backup system '{}'", core::trim(name)));
  }
  return system_from_row(rows->front());
}

Result<std::vector<std::pair<System, Policy>>> list_policies(store::Store& store) {
  auto rows = store.query(
      fmt::format("SELECT {}, {}{} JOIN backup_policies p ON p.system_id = s.id ORDER BY "
                  "s.name_norm",
                  kSystemColumns, kPolicyColumns, kSystemFrom));
  if (!rows) return tl::unexpected(rows.error());
  std::vector<std::pair<System, Policy>> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.emplace_back(system_from_row(r), policy_from_row(r, 8));
  return out;
}

Result<RecordOutcome> record_run_in_transaction(store::Store& store, const BackupRun& in,
                                                const Actor& actor) {
  auto run = normalized_run(in);
  if (!run) return tl::unexpected(run.error());
  auto system_id = system_id_of(store, run->system);
  if (!system_id) return tl::unexpected(system_id.error());
  const std::string key = run->snapshot_id.empty() ? "@" + run->started_at : run->snapshot_id;
  auto stored = find_run(store, *system_id, key);
  if (!stored) return tl::unexpected(stored.error());
  if (*stored) {
    auto changes = complete_run(store, **stored, *run, key);
    if (!changes) return tl::unexpected(changes.error());
    return RecordOutcome{(*stored)->integer(0),
                         changes->empty() ? Recorded::kUnchanged : Recorded::kUpdated};
  }
  VIGIE_TRY(store.lock_table("backup_runs"));
  auto id = store.next_id("backup_runs");
  if (!id) return tl::unexpected(id.error());
  const Value params[] = {*id,
                          *system_id,
                          key,
                          internal::text_or_null(run->snapshot_id),
                          run->started_at,
                          internal::text_or_null(run->finished_at),
                          std::string(to_string(run->status)),
                          opt_int(run->size_bytes),
                          opt_int(run->added_bytes),
                          opt_int(run->files),
                          opt_int(run->duration_ms),
                          run->source,
                          internal::text_or_null(run->detail),
                          internal::now_or(actor),
                          actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO backup_runs (id, system_id, run_key, snapshot_id, started_at, finished_at, "
      "status, size_bytes, added_bytes, files, duration_ms, source, detail, recorded_at, "
      "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  return RecordOutcome{*id, Recorded::kCreated};
}

Result<RecordOutcome> record_run(store::Store& store, const BackupRun& run, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto outcome = record_run_in_transaction(store, run, actor);
  if (!outcome) return outcome;
  if (outcome->what != Recorded::kUnchanged) {
    json details = run_json(run);
    details["run_id"] = outcome->id;
    details["outcome"] = to_string(outcome->what);
    VIGIE_TRY(audit_change(store, actor, "backups.run.record",
                           "system:" + std::string(core::trim(run.system)), details));
  }
  VIGIE_TRY(tx->commit());
  return outcome;
}

Result<RecordOutcome> record_verification(store::Store& store, const Verification& in,
                                          const Actor& actor) {
  VIGIE_TRY(check_name(in.system));
  auto at = required_time("the verification time", in.verified_at);
  if (!at) return tl::unexpected(at.error());
  VIGIE_TRY(check_text("the scope", in.scope));
  VIGIE_TRY(check_text("the detail", in.detail));
  VIGIE_TRY(check_text("the snapshot id", in.snapshot_id, 256));
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto system_id = system_id_of(store, in.system);
  if (!system_id) return tl::unexpected(system_id.error());
  const std::string status = in.ok ? "ok" : "failed";
  const Value key[] = {*system_id, *at};
  auto existing = store.query(
      "SELECT id, status FROM backup_verifications WHERE system_id = ? AND verified_at = ?", key);
  if (!existing) return tl::unexpected(existing.error());
  if (!existing->empty()) {
    if (existing->front().text(1) != status) {
      return core::fail(ErrorCode::kConflict,
                        fmt::format("a verification of '{}' at {} is already recorded as {}",
                                    core::trim(in.system), *at, existing->front().text(1)));
    }
    return RecordOutcome{existing->front().integer(0), Recorded::kUnchanged};
  }
  VIGIE_TRY(store.lock_table("backup_verifications"));
  auto id = store.next_id("backup_verifications");
  if (!id) return tl::unexpected(id.error());
  const Value params[] = {*id,
                          *system_id,
                          *at,
                          status,
                          internal::text_or_null(in.snapshot_id),
                          internal::text_or_null(in.scope),
                          internal::text_or_null(in.detail),
                          in.source.empty() ? std::string("cli") : in.source,
                          internal::now_or(actor),
                          actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO backup_verifications (id, system_id, verified_at, status, snapshot_id, scope, "
      "detail, source, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  VIGIE_TRY(audit_change(store, actor, "backups.verification.record",
                         "system:" + std::string(core::trim(in.system)),
                         {{"verification_id", *id},
                          {"verified_at", *at},
                          {"status", status},
                          {"scope", in.scope},
                          {"snapshot_id", in.snapshot_id}}));
  VIGIE_TRY(tx->commit());
  return RecordOutcome{*id, Recorded::kCreated};
}

Result<RecordOutcome> record_restore_test(store::Store& store, const RestoreTest& in,
                                          const Actor& actor) {
  VIGIE_TRY(check_name(in.system));
  auto at = required_time("the restore-test time", in.tested_at);
  if (!at) return tl::unexpected(at.error());
  if (core::trim(in.tested_by).empty()) {
    return core::fail(ErrorCode::kInvalidInput, "a restore test needs who did it (--by)");
  }
  if (core::trim(in.scope).empty()) {
    return core::fail(ErrorCode::kInvalidInput, "a restore test needs its scope (--scope)");
  }
  VIGIE_TRY(check_text("tested by", in.tested_by, 200));
  VIGIE_TRY(check_text("the scope", in.scope));
  VIGIE_TRY(check_text("the detail", in.detail));
  VIGIE_TRY(check_text("the snapshot id", in.snapshot_id, 256));
  VIGIE_TRY(check_count("the restore time", in.restore_seconds));
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto system_id = system_id_of(store, in.system);
  if (!system_id) return tl::unexpected(system_id.error());
  const std::string result(to_string(in.result));
  const Value key[] = {*system_id, *at};
  auto existing = store.query(
      "SELECT id, result FROM restore_tests WHERE system_id = ? AND tested_at = ?", key);
  if (!existing) return tl::unexpected(existing.error());
  if (!existing->empty()) {
    if (existing->front().text(1) != result) {
      return core::fail(ErrorCode::kConflict,
                        fmt::format("a restore test of '{}' at {} is already recorded as {}",
                                    core::trim(in.system), *at, existing->front().text(1)));
    }
    return RecordOutcome{existing->front().integer(0), Recorded::kUnchanged};
  }
  VIGIE_TRY(store.lock_table("restore_tests"));
  auto id = store.next_id("restore_tests");
  if (!id) return tl::unexpected(id.error());
  const Value params[] = {*id,
                          *system_id,
                          *at,
                          std::string(core::trim(in.tested_by)),
                          std::string(core::trim(in.scope)),
                          internal::text_or_null(in.snapshot_id),
                          opt_int(in.restore_seconds),
                          result,
                          internal::text_or_null(in.detail),
                          in.source.empty() ? std::string("cli") : in.source,
                          internal::now_or(actor),
                          actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO restore_tests (id, system_id, tested_at, tested_by, scope, snapshot_id, "
      "restore_seconds, result, detail, source, recorded_at, recorded_by) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  VIGIE_TRY(audit_change(
      store, actor, "backups.restore_test.record", "system:" + std::string(core::trim(in.system)),
      {{"restore_test_id", *id},
       {"tested_at", *at},
       {"tested_by", in.tested_by},
       {"scope", in.scope},
       {"result", result},
       {"restore_seconds", in.restore_seconds ? json(*in.restore_seconds) : json(nullptr)}}));
  VIGIE_TRY(tx->commit());
  return RecordOutcome{*id, Recorded::kCreated};
}

namespace {

// "WHERE s.name_norm = ?" when a system is named, with its parameter; plus LIMIT.
struct Filter {
  std::string sql;
  std::vector<Value> params;
};

Filter filter_of(std::string_view system, std::string_view order, std::int64_t limit) {
  Filter f;
  if (!core::trim(system).empty()) {
    f.sql = " WHERE s.name_norm = ?";
    f.params.emplace_back(internal::normalize_name(system));
  }
  f.sql += fmt::format(" ORDER BY {}", order);
  if (limit > 0) {
    f.sql += " LIMIT ?";
    f.params.emplace_back(limit);
  }
  return f;
}

constexpr std::string_view kVerificationColumns =
    "v.id, s.name, v.verified_at, v.status, v.snapshot_id, v.scope, v.detail, v.source, "
    "v.recorded_at, v.recorded_by FROM backup_verifications v "
    "JOIN backup_systems s ON s.id = v.system_id";

StoredVerification verification_from_row(const store::Row& r) {
  StoredVerification v;
  v.id = r.integer(0);
  v.system = r.text(1);
  v.verified_at = r.text(2);
  v.ok = r.text(3) == "ok";
  v.snapshot_id = r.text(4);
  v.scope = r.text(5);
  v.detail = r.text(6);
  v.source = r.text(7);
  v.recorded_at = r.text(8);
  v.recorded_by = r.text(9);
  return v;
}

constexpr std::string_view kRestoreTestColumns =
    "t.id, s.name, t.tested_at, t.tested_by, t.scope, t.snapshot_id, t.restore_seconds, "
    "t.result, t.detail, t.source, t.recorded_at, t.recorded_by FROM restore_tests t "
    "JOIN backup_systems s ON s.id = t.system_id";

StoredRestoreTest restore_test_from_row(const store::Row& r) {
  StoredRestoreTest t;
  t.id = r.integer(0);
  t.system = r.text(1);
  t.tested_at = r.text(2);
  t.tested_by = r.text(3);
  t.scope = r.text(4);
  t.snapshot_id = r.text(5);
  t.restore_seconds = int_or_none(r, 6);
  t.result = parse_test_result(r.text(7)).value_or(TestResult::kFailed);
  t.detail = r.text(8);
  t.source = r.text(9);
  t.recorded_at = r.text(10);
  t.recorded_by = r.text(11);
  return t;
}

template <class T, class F>
Result<std::vector<T>> select_all(store::Store& store, const std::string& sql,
                                  const std::vector<Value>& params, F from_row) {
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<T> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

template <class T, class F>
Result<std::optional<T>> select_first(store::Store& store, const std::string& sql,
                                      std::int64_t system_id, F from_row) {
  const Value params[] = {system_id};
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(from_row(rows->front()));
}

double hours_between(core::TimePoint from, core::TimePoint to) {
  return std::chrono::duration<double, std::ratio<3600>>(to - from).count();
}

}  // namespace

Result<std::vector<StoredRun>> list_runs(store::Store& store, std::string_view system,
                                         std::int64_t limit) {
  auto f = filter_of(system, "r.started_at DESC, r.id DESC", limit);
  return select_all<StoredRun>(
      store,
      fmt::format("SELECT {} FROM backup_runs r JOIN backup_systems s ON s.id = r.system_id{}",
                  kRunColumns, f.sql),
      f.params, run_from_row);
}

Result<std::vector<StoredVerification>> list_verifications(store::Store& store,
                                                           std::string_view system,
                                                           std::int64_t limit) {
  auto f = filter_of(system, "v.verified_at DESC, v.id DESC", limit);
  return select_all<StoredVerification>(store,
                                        fmt::format("SELECT {}{}", kVerificationColumns, f.sql),
                                        f.params, verification_from_row);
}

Result<std::vector<StoredRestoreTest>> list_restore_tests(store::Store& store,
                                                          std::string_view system,
                                                          std::int64_t limit) {
  auto f = filter_of(system, "t.tested_at DESC, t.id DESC", limit);
  return select_all<StoredRestoreTest>(store,
                                       fmt::format("SELECT {}{}", kRestoreTestColumns, f.sql),
                                       f.params, restore_test_from_row);
}

Result<StatusReport> status(store::Store& store, core::TimePoint now, const Rules& rules) {
  StatusReport report;
  auto systems = list_systems(store);
  if (!systems) return tl::unexpected(systems.error());
  auto policies = list_policies(store);
  if (!policies) return tl::unexpected(policies.error());
  std::map<std::int64_t, Policy> policy_of;
  for (auto& [s, p] : *policies) policy_of.emplace(s.id, std::move(p));

  const std::string runs_sql = fmt::format(
      "SELECT {} FROM backup_runs r JOIN backup_systems s ON s.id = r.system_id "
      "WHERE r.system_id = ?{} ORDER BY r.started_at DESC, r.id DESC LIMIT 1",
      kRunColumns, "{}");
  const std::string last_run_sql = fmt::format(fmt::runtime(runs_sql), "");
  const std::string last_good_sql = fmt::format(fmt::runtime(runs_sql), " AND r.status = 'ok'");
  const std::string verification_sql =
      fmt::format("SELECT {} WHERE v.system_id = ? ORDER BY v.verified_at DESC, v.id DESC LIMIT 1",
                  kVerificationColumns);
  const std::string test_sql =
      fmt::format("SELECT {} WHERE t.system_id = ?{} ORDER BY t.tested_at DESC, t.id DESC LIMIT 1",
                  kRestoreTestColumns, "{}");
  const std::string last_test_sql = fmt::format(fmt::runtime(test_sql), "");
  const std::string good_test_sql = fmt::format(fmt::runtime(test_sql), " AND t.result = 'ok'");

  for (auto& system : *systems) {
    SystemStatus st;
    st.system = std::move(system);
    const std::int64_t id = st.system.id;
    if (auto p = policy_of.find(id); p != policy_of.end()) st.policy = p->second;
    auto last = select_first<StoredRun>(store, last_run_sql, id, run_from_row);
    if (!last) return tl::unexpected(last.error());
    st.last_run = std::move(*last);
    auto good = select_first<StoredRun>(store, last_good_sql, id, run_from_row);
    if (!good) return tl::unexpected(good.error());
    st.last_good_run = std::move(*good);
    auto ver = select_first<StoredVerification>(store, verification_sql, id, verification_from_row);
    if (!ver) return tl::unexpected(ver.error());
    st.last_verification = std::move(*ver);
    auto test = select_first<StoredRestoreTest>(store, last_test_sql, id, restore_test_from_row);
    if (!test) return tl::unexpected(test.error());
    st.last_restore_test = std::move(*test);
    auto good_test =
        select_first<StoredRestoreTest>(store, good_test_sql, id, restore_test_from_row);
    if (!good_test) return tl::unexpected(good_test.error());
    st.last_good_restore_test = std::move(*good_test);

    const bool backed_up = st.policy && st.policy->method != Method::kNone;
    if (st.last_good_run) {
      auto started = core::parse_utc(st.last_good_run->started_at);
      if (started) {
        st.last_good_age_hours = hours_between(*started, now);
        if (backed_up && st.policy->rpo_hours) {
          const auto due = *started + std::chrono::hours(*st.policy->rpo_hours);
          st.backup_due_at = core::format_utc(due);
          st.backup_overdue = due < now;
        }
      }
    } else {
      st.backup_overdue = backed_up;
    }
    if (backed_up) {
      st.restore_test_days = st.policy->restore_test_days
                                 ? *st.policy->restore_test_days
                                 : rules.restore_test_days(st.system.effective);
    }
    if (st.restore_test_days > 0) {
      if (st.last_good_restore_test) {
        auto tested = core::parse_utc(st.last_good_restore_test->tested_at);
        if (tested) {
          st.restore_test_due_on = core::date_after(*tested, st.restore_test_days);
          st.restore_test_overdue = *tested + std::chrono::days(st.restore_test_days) < now;
        }
      } else {
        st.restore_test_due_on = core::format_date(now);
        st.restore_test_overdue = true;
      }
    }
    report.systems.push_back(std::move(st));
  }
  auto without = internal::devices_without_policy(store, rules, false);
  if (!without) return tl::unexpected(without.error());
  report.devices_without_policy = static_cast<std::int64_t>(without->size());
  return report;
}

}  // namespace vigie::resilience
