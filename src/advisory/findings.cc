#include "vigie/advisory/findings.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "vigie/core/ids.h"
#include "vigie/store/store.h"

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;
using store::Value;

constexpr std::string_view kAutomaticActor = "vigie";

json actions_json(const std::vector<Action>& actions) {
  json out = json::array();
  for (const auto& a : actions) {
    json j = {{"category", a.category}, {"text", a.text}};
    if (!a.target_version.empty()) j["target_version"] = a.target_version;
    if (!a.url.empty()) j["url"] = a.url;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<Action> actions_from_json(const std::string& text) {
  std::vector<Action> out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& a : j) {
    out.push_back({a.value("category", ""), a.value("text", ""), a.value("target_version", ""),
                   a.value("url", "")});
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  return fmt::format("{}", fmt::join(parts, ","));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool is_closed(FindingStatus s) {
  return s == FindingStatus::kMitigated || s == FindingStatus::kFixed ||
         s == FindingStatus::kRiskAccepted || s == FindingStatus::kNotApplicable;
}

// The status an assessment gives a new finding, or a closed one the verdict reopens.
FindingStatus initial_status(Verdict v) {
  switch (v) {
    case Verdict::kFixed:
      return FindingStatus::kFixed;
    case Verdict::kNotAffected:
      return FindingStatus::kNotApplicable;
    default:
      return FindingStatus::kOpen;
  }
}

bool needs_action(Verdict v) { return v != Verdict::kFixed && v != Verdict::kNotAffected; }

Status add_history(store::Store& s, std::int64_t finding, std::string_view at,
                   std::string_view actor, Verdict verdict, FindingStatus status,
                   std::string_view note) {
  VIGIE_TRY(s.lock_table("finding_history"));
  auto id = s.next_id("finding_history");
  if (!id) return tl::unexpected(id.error());
  std::vector<Value> p = {*id,
                          finding,
                          std::string(at),
                          std::string(actor),
                          std::string(to_string(verdict)),
                          std::string(to_string(status)),
                          note.empty() ? Value(nullptr) : Value(std::string(note))};
  return s.execute(
      "INSERT INTO finding_history (id, finding_id, at, actor, verdict, status, note) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      p);
}

constexpr std::string_view kFactsSql =
    "SELECT d.id, d.vendor, p.vendor_norm, d.product, p.product_norm, d.part_number, "
    "d.serial_number, d.software_version FROM devices d JOIN products p ON p.id = d.product_id";

DeviceFacts facts_of(const store::Row& r) {
  return {r.integer(0), r.text(1), r.text(2), r.text(3),
          r.text(4),    r.text(5), r.text(6), r.text(7)};
}

struct Existing {
  std::int64_t id = 0;
  Verdict verdict = Verdict::kNotAffected;
  FindingStatus status = FindingStatus::kOpen;
  std::string reason;
  std::string actions;
  std::string missing;
  std::string product_ref;
  bool seen = false;
};
using ExistingMap = std::map<std::pair<std::int64_t, std::int64_t>, Existing>;

// Loads the findings the assessment may touch: of one device, of one advisory, or all.
Result<ExistingMap> load_existing(store::Store& s, const std::string& where,
                                  std::span<const Value> params) {
  ExistingMap out;
  VIGIE_TRY(
      s.for_each(fmt::format("SELECT id, device_id, advisory_id, verdict, status, reason, actions, "
                             "missing, product_ref FROM findings {}",
                             where),
                 params, [&](const store::Row& r) {
                   Existing e;
                   e.id = r.integer(0);
                   e.verdict = parse_verdict(r.text(3)).value_or(Verdict::kUnknown);
                   e.status = parse_finding_status(r.text(4)).value_or(FindingStatus::kOpen);
                   e.reason = r.text(5);
                   e.actions = r.text(6);
                   e.missing = r.text(7);
                   e.product_ref = r.text(8);
                   out.emplace(std::make_pair(r.integer(1), r.integer(2)), std::move(e));
                   return true;
                 }));
  return out;
}

// Applies one assessment to the findings table: inserts, updates, closes or reopens.
class Reconciler {
 public:
  Reconciler(store::Store& s, const Actor& actor, const LoadedAdvisories& advisories,
             ExistingMap existing)
      : s_(s),
        actor_(actor),
        advisories_(advisories),
        existing_(std::move(existing)),
        now_(core::format_utc(actor.clock.now())) {}

  Status apply(const DeviceFacts& d, const Assessment& a) {
    ++summary_.assessments;
    std::int64_t advisory_id = advisories_.ids[a.advisory];
    std::string actions = actions_json(a.actions).dump();
    std::string missing = join(a.missing);
    auto it = existing_.find({d.id, advisory_id});
    if (it == existing_.end()) return insert(d, a, advisory_id, actions, missing);
    Existing& e = it->second;
    e.seen = true;
    if (e.verdict == a.verdict && e.reason == a.reason && e.actions == actions &&
        e.missing == missing && e.product_ref == a.product_id) {
      return {};
    }
    FindingStatus status = e.status;
    std::string note;
    bool closes = !needs_action(a.verdict) && !is_closed(e.status);
    bool reopens = needs_action(a.verdict) && is_closed(e.status) && !needs_action(e.verdict);
    if (closes) {
      status = initial_status(a.verdict);
      note = fmt::format("now {}: {} ({})",
                         d.software_version.empty() ? "changed" : "at " + d.software_version,
                         to_string(a.verdict), a.reason);
      ++summary_.closed;
    } else if (reopens) {
      status = FindingStatus::kOpen;
      note = fmt::format("{} again: {}", to_string(a.verdict), a.reason);
      ++summary_.reopened;
    } else if (e.verdict != a.verdict) {
      note =
          fmt::format("verdict {} -> {}: {}", to_string(e.verdict), to_string(a.verdict), a.reason);
    }
    ++summary_.updated;
    std::vector<Value> p = {std::string(to_string(a.verdict)),
                            a.product_id,
                            a.reason,
                            missing.empty() ? Value(nullptr) : Value(missing),
                            actions,
                            std::string(to_string(status)),
                            now_,
                            e.id};
    std::string sql =
        "UPDATE findings SET verdict = ?, product_ref = ?, reason = ?, missing = ?, actions = ?, "
        "status = ?, updated_at = ?";
    if (closes) {
      sql += ", closed_at = ?, status_note = ?, status_by = ?";
      p.insert(p.end() - 1, {now_, note, std::string(kAutomaticActor)});
    } else if (reopens) {
      sql += ", closed_at = NULL, accepted_until = NULL, due_on = ?";
      p.insert(p.end() - 1, due_on(a.advisory));
    }
    VIGIE_TRY(s_.execute(sql + " WHERE id = ?", p));
    if (!note.empty()) {
      VIGIE_TRY(add_history(s_, e.id, now_, kAutomaticActor, a.verdict, status, note));
    }
    return {};
  }

  // Findings the assessment no longer produces (the device was renamed, the advisory changed):
  // closed as not applicable. Only those within `scope` were looked at.
  Status close_unseen() {
    for (auto& [key, e] : existing_) {
      if (e.seen || e.verdict == Verdict::kNotAffected) continue;
      std::string note = "no longer named by the advisory";
      FindingStatus status = is_closed(e.status) ? e.status : FindingStatus::kNotApplicable;
      std::vector<Value> p = {std::string(to_string(status)), now_, now_, note, e.id};
      VIGIE_TRY(s_.execute(
          "UPDATE findings SET verdict = 'not_affected', status = ?, updated_at = ?, "
          "closed_at = COALESCE(closed_at, ?), status_note = ?, missing = NULL, actions = '[]' "
          "WHERE id = ?",
          p));
      VIGIE_TRY(add_history(s_, e.id, now_, kAutomaticActor, Verdict::kNotAffected, status, note));
      ++summary_.closed;
    }
    return {};
  }

  AssessSummary& summary() { return summary_; }

 private:
  std::string due_on(size_t advisory) const {
    const CsafDocument& doc = advisories_.matcher.advisory(advisory);
    double score = 0;
    for (const auto& v : doc.vulnerabilities) score = std::max(score, v.max_base_score);
    return core::date_after(actor_.clock.now(), actor_.policy.days_for(score));
  }

  Status insert(const DeviceFacts& d, const Assessment& a, std::int64_t advisory_id,
                const std::string& actions, const std::string& missing) {
    VIGIE_TRY(s_.lock_table("findings"));
    auto id = s_.next_id("findings");
    if (!id) return tl::unexpected(id.error());
    FindingStatus status = initial_status(a.verdict);
    bool open = needs_action(a.verdict);
    if (open) ++summary_.opened;
    std::vector<Value> p = {*id,
                            d.id,
                            advisory_id,
                            std::string(to_string(a.verdict)),
                            a.product_id,
                            a.reason,
                            missing.empty() ? Value(nullptr) : Value(missing),
                            actions,
                            std::string(to_string(status)),
                            open ? Value(due_on(a.advisory)) : Value(nullptr),
                            now_,
                            now_,
                            open ? Value(nullptr) : Value(now_)};
    VIGIE_TRY(s_.execute(
        "INSERT INTO findings (id, device_id, advisory_id, verdict, product_ref, reason, "
        "missing, actions, status, due_on, opened_at, updated_at, closed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        p));
    return add_history(s_, *id, now_, kAutomaticActor, a.verdict, status, a.reason);
  }

  store::Store& s_;
  const Actor& actor_;
  const LoadedAdvisories& advisories_;
  ExistingMap existing_;
  std::string now_;
  AssessSummary summary_;
};

// Which devices and findings one assessment covers.
struct Scope {
  std::optional<size_t> advisory;  // only this advisory of the matcher
  std::string device_sql;
  std::vector<Value> device_params;
  std::string findings_where;
  std::vector<Value> findings_params;
};

// Assesses the devices of `scope` against the matcher and reconciles the findings of `scope`,
// in one transaction.
Result<AssessSummary> assess(store::Store& s, const Actor& actor, const LoadedAdvisories& loaded,
                             const Scope& scope) {
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  auto existing = load_existing(s, scope.findings_where, scope.findings_params);
  if (!existing) return tl::unexpected(existing.error());
  const std::optional<size_t>& only = scope.advisory;
  // Devices first, then writes: a SQLite statement must not be read while the table changes.
  std::vector<DeviceFacts> devices;
  VIGIE_TRY(s.for_each(scope.device_sql, scope.device_params, [&](const store::Row& r) {
    devices.push_back(facts_of(r));
    return true;
  }));
  Reconciler reconciler(s, actor, loaded, std::move(*existing));
  std::vector<Assessment> out;
  for (const auto& d : devices) {
    out.clear();
    if (only) {
      loaded.matcher.assess(d, *only, out);
    } else {
      loaded.matcher.assess(d, out);
    }
    for (const auto& a : out) VIGIE_TRY(reconciler.apply(d, a));
  }
  VIGIE_TRY(reconciler.close_unseen());
  VIGIE_TRY(tx->commit());
  reconciler.summary().devices = devices.size();
  return reconciler.summary();
}

Finding finding_of(const store::Row& r, std::string_view today) {
  Finding f;
  f.id = r.integer(0);
  f.device_id = r.integer(1);
  f.vendor = r.text(2);
  f.product = r.text(3);
  f.part_number = r.text(4);
  f.serial_number = r.text(5);
  f.software_version = r.text(6);
  f.hostname = r.text(7);
  f.site = r.text(8);
  f.zone = r.text(9);
  f.device_status = r.text(10);
  f.advisory_id = r.integer(11);
  f.advisory = r.text(12);
  f.verdict = parse_verdict(r.text(13)).value_or(Verdict::kUnknown);
  f.product_ref = r.text(14);
  f.reason = r.text(15);
  f.missing = split_list(r.text(16));
  f.actions = actions_from_json(r.text(17));
  f.status = parse_finding_status(r.text(18)).value_or(FindingStatus::kOpen);
  f.status_note = r.text(19);
  f.status_by = r.text(20);
  f.accepted_until = r.text(21);
  f.due_on = r.text(22);
  f.opened_at = r.text(23);
  f.updated_at = r.text(24);
  f.closed_at = r.text(25);
  f.overdue = f.needs_work(today) && !f.due_on.empty() && f.due_on < today;
  return f;
}

constexpr std::string_view kFindingSql =
    "SELECT f.id, f.device_id, d.vendor, d.product, d.part_number, d.serial_number, "
    "d.software_version, (SELECT MIN(i.hostname) FROM interfaces i WHERE i.device_id = d.id), "
    "s.name, z.name, d.status, f.advisory_id, a.tracking_id, f.verdict, f.product_ref, f.reason, "
    "f.missing, f.actions, f.status, f.status_note, f.status_by, f.accepted_until, f.due_on, "
    "f.opened_at, f.updated_at, f.closed_at "
    "FROM findings f JOIN devices d ON d.id = f.device_id "
    "JOIN advisories a ON a.id = f.advisory_id "
    "LEFT JOIN sites s ON s.id = d.site_id LEFT JOIN zones z ON z.id = d.zone_id";

}  // namespace

DeadlinePolicy DeadlinePolicy::from(const core::Config& c) {
  return {c.deadline_days_critical, c.deadline_days_high, c.deadline_days_medium,
          c.deadline_days_low, c.deadline_days_unscored};
}

std::int64_t DeadlinePolicy::days_for(double max_score) const {
  if (max_score >= 9.0) return critical;
  if (max_score >= 7.0) return high;
  if (max_score >= 4.0) return medium;
  if (max_score > 0.0) return low;
  return unscored;
}

std::string_view to_string(FindingStatus status) {
  switch (status) {
    case FindingStatus::kOpen:
      return "open";
    case FindingStatus::kInProgress:
      return "in_progress";
    case FindingStatus::kMitigated:
      return "mitigated";
    case FindingStatus::kFixed:
      return "fixed";
    case FindingStatus::kRiskAccepted:
      return "risk_accepted";
    case FindingStatus::kNotApplicable:
      return "not_applicable";
  }
  return "open";
}

std::optional<FindingStatus> parse_finding_status(std::string_view text) {
  for (auto s :
       {FindingStatus::kOpen, FindingStatus::kInProgress, FindingStatus::kMitigated,
        FindingStatus::kFixed, FindingStatus::kRiskAccepted, FindingStatus::kNotApplicable}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

bool Finding::needs_work(std::string_view today) const {
  if (status == FindingStatus::kOpen || status == FindingStatus::kInProgress) return true;
  return status == FindingStatus::kRiskAccepted && !accepted_until.empty() &&
         accepted_until < today;
}

std::string actions_to_json(const std::vector<Action>& actions) {
  return actions_json(actions).dump();
}

Result<LoadedAdvisories> load_advisories(store::Store& s) {
  LoadedAdvisories out;
  Status status = s.for_each("SELECT id, document, source FROM advisories ORDER BY id", {},
                             [&](const store::Row& r) {
                               auto doc = read_csaf(r.text(1), r.text(2));
                               if (doc) {
                                 out.matcher.add(std::move(*doc));
                                 out.ids.push_back(r.integer(0));
                               }
                               return true;
                             });
  if (!status) return tl::unexpected(status.error());
  return out;
}

Result<DeviceFacts> device_facts(store::Store& s, std::int64_t device_id) {
  std::vector<Value> p = {device_id};
  auto rows = s.query(std::string(kFactsSql) + " WHERE d.id = ?", p);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no device {}", device_id));
  return facts_of(rows->front());
}

Result<AssessSummary> assess_all(store::Store& s, const Actor& actor) {
  auto loaded = load_advisories(s);
  if (!loaded) return tl::unexpected(loaded.error());
  return assess(
      s, actor, *loaded,
      // By product: consecutive devices meet the same rules, which stay in cache.
      {std::nullopt, std::string(kFactsSql) + " ORDER BY d.product_id, d.id", {}, "", {}});
}

Result<AssessSummary> assess_device(store::Store& s, std::int64_t device_id, const Actor& actor) {
  auto loaded = load_advisories(s);
  if (!loaded) return tl::unexpected(loaded.error());
  return assess(s, actor, *loaded,
                {std::nullopt,
                 std::string(kFactsSql) + " WHERE d.id = ?",
                 {device_id},
                 "WHERE device_id = ?",
                 {device_id}});
}

// The devices one advisory can touch: those of the products it names (the products table
// holds each vendor's few distinct names) and those with a part number it names.
Result<Scope> scope_of_advisory(store::Store& s, const Matcher& matcher, size_t index,
                                std::int64_t advisory_id) {
  Scope scope{index, {}, {}, "WHERE advisory_id = ?", {advisory_id}};
  std::vector<std::string> conditions;
  std::vector<Value> vendors;
  std::string marks;
  for (const auto& v : matcher.vendors(index)) {
    marks += marks.empty() ? "?" : ", ?";
    vendors.emplace_back(v);
  }
  std::string products;
  if (!vendors.empty()) {
    VIGIE_TRY(s.for_each(
        "SELECT id, vendor_norm, product_norm FROM products WHERE vendor_norm IN (" + marks + ")",
        vendors, [&](const store::Row& r) {
          if (matcher.names_product(index, r.text(1), r.text(2))) {
            products += products.empty() ? "?" : ", ?";
            scope.device_params.emplace_back(r.integer(0));
          }
          return true;
        }));
  }
  if (!products.empty()) conditions.push_back("d.product_id IN (" + products + ")");
  for (const auto& [vendor, part] : matcher.part_numbers(index)) {
    conditions.emplace_back("(p.vendor_norm = ? AND LOWER(d.part_number) = ?)");
    scope.device_params.emplace_back(vendor);
    scope.device_params.emplace_back(part);
  }
  std::string where =
      conditions.empty() ? "1 = 0" : fmt::format("{}", fmt::join(conditions, " OR "));
  scope.device_sql = std::string(kFactsSql) + " WHERE " + where + " ORDER BY d.id";
  return scope;
}

Result<ImportResult> import_advisory(store::Store& s, std::string_view text,
                                     std::string_view source, const ImportOptions& options,
                                     const Actor& actor) {
  ValidationReport report = validate_csaf(text);
  if (!report.valid() && !options.force) {
    std::string lines;
    for (const auto& i : report.issues) {
      lines += fmt::format("\n  {} {}: {}", i.test, i.pointer.empty() ? "/" : i.pointer, i.reason);
    }
    return fail(ErrorCode::kInvalidInput,
                fmt::format("not a valid CSAF 2.0 document ({} problems; --force stores it "
                            "anyway and records them):{}",
                            report.issues.size(), lines),
                std::string(source));
  }
  auto doc = read_csaf(text, source);
  if (!doc) return tl::unexpected(doc.error());
  ImportResult result;
  result.tracking_id = doc->tracking_id;
  result.forced_failures = report.issues;
  double score = 0;
  for (const auto& v : doc->vulnerabilities) score = std::max(score, v.max_base_score);
  std::string sha = core::sha256_hex(text);
  std::string now = core::format_utc(actor.clock.now());
  {
    auto tx = store::Transaction::begin(s);
    if (!tx) return tl::unexpected(tx.error());
    std::vector<Value> key = {doc->publisher_namespace, doc->tracking_id};
    auto rows = s.query(
        "SELECT id, sha256 FROM advisories WHERE publisher_namespace = ? AND tracking_id = ?", key);
    if (!rows) return tl::unexpected(rows.error());
    std::string failures;
    if (!report.valid()) {
      json f = json::array();
      for (const auto& i : report.issues) {
        f.push_back({{"test", i.test}, {"pointer", i.pointer}, {"reason", i.reason}});
      }
      failures = f.dump();
    }
    std::vector<Value> values = {doc->publisher,
                                 doc->title,
                                 doc->version,
                                 doc->current_release_date,
                                 score > 0 ? Value(score) : Value(nullptr),
                                 std::string(text),
                                 sha,
                                 std::string(source),
                                 failures.empty() ? Value(nullptr) : Value(failures),
                                 now,
                                 actor.name};
    if (!rows->empty()) {
      result.advisory_id = rows->front().integer(0);
      if (rows->front().text(1) == sha) {
        result.outcome = "unchanged";
        return result;
      }
      result.outcome = "updated";
      values.emplace_back(result.advisory_id);
      VIGIE_TRY(s.execute(
          "UPDATE advisories SET publisher = ?, title = ?, version = ?, current_release_date = ?, "
          "max_score = ?, document = ?, sha256 = ?, source = ?, forced_failures = ?, "
          "imported_at = ?, imported_by = ? WHERE id = ?",
          values));
    } else {
      VIGIE_TRY(s.lock_table("advisories"));
      auto id = s.next_id("advisories");
      if (!id) return tl::unexpected(id.error());
      result.advisory_id = *id;
      result.outcome = "imported";
      values.insert(values.begin(), {*id, doc->publisher_namespace, doc->tracking_id});
      VIGIE_TRY(s.execute(
          "INSERT INTO advisories (id, publisher_namespace, tracking_id, publisher, title, "
          "version, current_release_date, max_score, document, sha256, source, forced_failures, "
          "imported_at, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          values));
    }
    VIGIE_TRY(tx->commit());
  }
  // Only the devices whose product (or part number) it names, against this advisory only.
  auto loaded = load_advisories(s);
  if (!loaded) return tl::unexpected(loaded.error());
  auto at = std::find(loaded->ids.begin(), loaded->ids.end(), result.advisory_id);
  if (at == loaded->ids.end()) {
    return fail(ErrorCode::kInternal, "the imported advisory cannot be read back");
  }
  auto index = static_cast<size_t>(at - loaded->ids.begin());
  auto scope = scope_of_advisory(s, loaded->matcher, index, result.advisory_id);
  if (!scope) return tl::unexpected(scope.error());
  auto assessed = assess(s, actor, *loaded, *scope);
  if (!assessed) return tl::unexpected(assessed.error());
  result.assessed = *assessed;
  return result;
}

Result<std::vector<AdvisorySummary>> list_advisories(store::Store& s) {
  auto rows = s.query(
      "SELECT a.id, a.tracking_id, a.publisher, a.title, a.version, a.current_release_date, "
      "a.max_score, a.forced_failures IS NOT NULL, "
      "(SELECT COUNT(*) FROM findings f WHERE f.advisory_id = a.id AND f.verdict = 'affected'), "
      "(SELECT COUNT(*) FROM findings f WHERE f.advisory_id = a.id "
      " AND (f.status = 'open' OR f.status = 'in_progress')) "
      "FROM advisories a ORDER BY a.id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<AdvisorySummary> out;
  for (const auto& r : *rows) {
    AdvisorySummary a;
    a.id = r.integer(0);
    a.tracking_id = r.text(1);
    a.publisher = r.text(2);
    a.title = r.text(3);
    a.version = r.text(4);
    a.current_release_date = r.text(5);
    if (!r.is_null(6)) a.max_score = std::stod(r.text(6));
    a.forced = r.integer(7) != 0;
    a.affected = r.integer(8);
    a.open_findings = r.integer(9);
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::int64_t> find_advisory(store::Store& s, std::string_view id_or_tracking) {
  std::vector<Value> p = {std::string(id_or_tracking)};
  auto rows = s.query("SELECT id FROM advisories WHERE tracking_id = ? ORDER BY id", p);
  if (!rows) return tl::unexpected(rows.error());
  if (!rows->empty()) return rows->front().integer(0);
  std::int64_t id = 0;
  auto [end, ec] =
      std::from_chars(id_or_tracking.data(), id_or_tracking.data() + id_or_tracking.size(), id);
  if (ec == std::errc() && end == id_or_tracking.data() + id_or_tracking.size()) {
    std::vector<Value> q = {id};
    auto n = s.query_int("SELECT COUNT(*) FROM advisories WHERE id = ?", q);
    if (!n) return tl::unexpected(n.error());
    if (*n == 1) return id;
  }
  return fail(ErrorCode::kNotFound,
              fmt::format("no advisory '{}' (give its tracking id or number)", id_or_tracking));
}

Status for_each_finding(store::Store& s, const FindingFilter& filter, const core::Clock& clock,
                        const std::function<void(const Finding&)>& on_finding) {
  std::string today = core::format_date(clock.now());
  std::string sql(kFindingSql);
  std::vector<std::string> where;
  std::vector<Value> p;
  if (!filter.all) where.emplace_back("f.verdict <> 'not_affected'");
  if (filter.device_id != 0) {
    where.emplace_back("f.device_id = ?");
    p.emplace_back(filter.device_id);
  }
  if (filter.advisory_id != 0) {
    where.emplace_back("f.advisory_id = ?");
    p.emplace_back(filter.advisory_id);
  }
  if (!where.empty()) sql += fmt::format(" WHERE {}", fmt::join(where, " AND "));
  sql += " ORDER BY f.advisory_id, f.device_id";
  return s.for_each(sql, p, [&](const store::Row& r) {
    Finding f = finding_of(r, today);
    if (filter.overdue && !f.overdue) return true;
    if (!filter.all && !filter.overdue && !f.needs_work(today) &&
        f.status != FindingStatus::kMitigated && f.status != FindingStatus::kRiskAccepted) {
      return true;
    }
    on_finding(f);
    return true;
  });
}

Result<Finding> get_finding(store::Store& s, std::int64_t id, const core::Clock& clock) {
  std::vector<Value> p = {id};
  auto rows = s.query(std::string(kFindingSql) + " WHERE f.id = ?", p);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no finding {}", id));
  return finding_of(rows->front(), core::format_date(clock.now()));
}

Result<std::vector<HistoryEntry>> finding_history(store::Store& s, std::int64_t id) {
  std::vector<Value> p = {id};
  auto rows = s.query(
      "SELECT at, actor, verdict, status, note FROM finding_history WHERE finding_id = ? "
      "ORDER BY id",
      p);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<HistoryEntry> out;
  for (const auto& r : *rows)
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4)});
  return out;
}

Status set_finding_status(store::Store& s, std::int64_t id, const StatusChange& change,
                          const Actor& actor) {
  if (actor.name.empty()) return fail(ErrorCode::kInvalidInput, "who makes the change is required");
  switch (change.status) {
    case FindingStatus::kRiskAccepted:
      if (change.note.empty() || change.until.empty()) {
        return fail(ErrorCode::kInvalidInput,
                    "risk_accepted needs a justification (note=...) and an end date (until=...)");
      }
      if (!core::parse_utc(change.until)) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("until '{}' is not a date (YYYY-MM-DD)", change.until));
      }
      break;
    case FindingStatus::kMitigated:
    case FindingStatus::kNotApplicable:
    case FindingStatus::kFixed:
      if (change.note.empty()) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("{} needs a justification (note=...)", to_string(change.status)));
      }
      break;
    default:
      break;
  }
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  std::vector<Value> key = {id};
  auto rows = s.query("SELECT verdict FROM findings WHERE id = ?", key);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no finding {}", id));
  Verdict verdict = parse_verdict(rows->front().text(0)).value_or(Verdict::kUnknown);
  std::string now = core::format_utc(actor.clock.now());
  bool closed = is_closed(change.status);
  std::vector<Value> p = {std::string(to_string(change.status)),
                          change.note.empty() ? Value(nullptr) : Value(change.note),
                          actor.name,
                          change.until.empty() ? Value(nullptr) : Value(change.until),
                          now,
                          closed ? Value(now) : Value(nullptr),
                          id};
  VIGIE_TRY(s.execute(
      "UPDATE findings SET status = ?, status_note = ?, status_by = ?, accepted_until = ?, "
      "updated_at = ?, closed_at = ? WHERE id = ?",
      p));
  VIGIE_TRY(add_history(s, id, now, actor.name, verdict, change.status, change.note));
  return tx->commit();
}

}  // namespace vigie::advisory
