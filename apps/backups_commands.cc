#include "backups_commands.h"

#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/time.h"
#include "vigie/resilience/alerts.h"
#include "vigie/resilience/tracking.h"
#include "vigie/resilience/tracking_import.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace rs = resilience;

json or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }
json or_null(const std::optional<std::int64_t>& n) { return n ? json(*n) : json(nullptr); }
std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }
std::string or_dash(const std::optional<std::int64_t>& n) { return n ? std::to_string(*n) : "-"; }

rs::Actor actor() { return {current_user(), "cli", {}}; }

json system_json(const rs::System& s) {
  return {{"name", s.name},
          {"device_id", s.device_id == 0 ? json(nullptr) : json(s.device_id)},
          {"device", or_null(s.device_label)},
          {"criticality", rs::to_string(s.effective)},
          {"criticality_set", s.criticality ? json(rs::to_string(*s.criticality)) : json(nullptr)},
          {"description", or_null(s.description)}};
}

json policy_json(const rs::Policy& p) {
  return {{"method", rs::to_string(p.method)},
          {"rpo_hours", or_null(p.rpo_hours)},
          {"schedule", or_null(p.schedule)},
          {"retention", or_null(p.retention)},
          {"targets", p.targets},
          {"offsite", p.offsite},
          {"immutable", p.immutable},
          {"checked_by", or_null(p.checked_by)},
          {"restore_test_days", or_null(p.restore_test_days)},
          {"notes", or_null(p.notes)},
          {"updated_at", p.updated_at},
          {"updated_by", p.updated_by}};
}

json run_json(const rs::StoredRun& r) {
  return {{"id", r.id},
          {"system", r.system},
          {"snapshot_id", or_null(r.snapshot_id)},
          {"started_at", r.started_at},
          {"finished_at", or_null(r.finished_at)},
          {"status", rs::to_string(r.status)},
          {"size_bytes", or_null(r.size_bytes)},
          {"added_bytes", or_null(r.added_bytes)},
          {"files", or_null(r.files)},
          {"duration_ms", or_null(r.duration_ms)},
          {"source", r.source},
          {"detail", or_null(r.detail)},
          {"recorded_at", r.recorded_at},
          {"recorded_by", r.recorded_by}};
}

json verification_json(const rs::StoredVerification& v) {
  return {{"id", v.id},
          {"system", v.system},
          {"verified_at", v.verified_at},
          {"status", v.ok ? "ok" : "failed"},
          {"snapshot_id", or_null(v.snapshot_id)},
          {"scope", or_null(v.scope)},
          {"detail", or_null(v.detail)},
          {"source", v.source},
          {"recorded_at", v.recorded_at},
          {"recorded_by", v.recorded_by}};
}

json restore_test_json(const rs::StoredRestoreTest& t) {
  return {{"id", t.id},
          {"system", t.system},
          {"tested_at", t.tested_at},
          {"tested_by", t.tested_by},
          {"scope", t.scope},
          {"snapshot_id", or_null(t.snapshot_id)},
          {"restore_seconds", or_null(t.restore_seconds)},
          {"result", rs::to_string(t.result)},
          {"detail", or_null(t.detail)},
          {"source", t.source},
          {"recorded_at", t.recorded_at},
          {"recorded_by", t.recorded_by}};
}

json alert_json(const rs::Alert& a) {
  return {{"id", a.id},
          {"kind", a.kind},
          {"object", a.object},
          {"severity", a.severity},
          {"message", a.message},
          {"raised_at", a.raised_at},
          {"cleared_at", or_null(a.cleared_at)}};
}

std::string human_bytes(const std::optional<std::int64_t>& n) {
  if (!n) return "-";
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  auto v = static_cast<double>(*n);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", *n) : fmt::format("{:.1f} {}", v, kUnits[unit]);
}

// restic and borg ids are 64 hex digits; their first 12 identify them for people.
std::string short_id(const std::string& id) { return id.size() == 64 ? id.substr(0, 12) : id; }

core::Result<std::chrono::minutes> parse_offset(const std::string& text) {
  auto bad = [&] {
    return core::fail(core::ErrorCode::kUsage,
                      fmt::format("--utc-offset '{}': expected +HH:MM or -HH:MM", text));
  };
  if (text == "0" || text == "Z") return std::chrono::minutes(0);
  int h = 0;
  int m = 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return bad();
  if (std::from_chars(text.data() + 1, text.data() + 3, h).ec != std::errc() ||
      std::from_chars(text.data() + 4, text.data() + 6, m).ec != std::errc() || h > 14 || m > 59) {
    return bad();
  }
  const std::chrono::minutes offset(h * 60 + m);
  return text[0] == '-' ? -offset : offset;
}

std::string at_or_now(const std::string& at) {
  return at.empty() ? core::format_utc(core::utc_now()) : at;
}

}  // namespace

BackupsCommands::BackupsCommands(CLI::App& app) {
  auto* backups = app.add_subcommand(
      "backups", "Backup tracking for every system: policies, runs, verifications, restore tests");
  backups->require_subcommand(1);

  auto* policy = backups->add_subcommand("policy", "A system's backup policy");
  policy->require_subcommand(1);
  policy_set_ = policy->add_subcommand(
      "set", "Set (replace) a system's backup policy; the system is created when new");
  policy_set_->add_option("SYSTEM", system_, "System name (\"pacs\", \"vigie\"...)")->required();
  policy_set_->add_option("--device", device_, "Inventory device id this system is");
  policy_set_->add_option("--criticality", criticality_,
                          "critical, important or standard (default: from the device, else "
                          "standard)");
  policy_set_->add_option("--description", description_, "What the system is");
  policy_set_
      ->add_option("--method", method_,
                   "restic, borg, vendor-tool, vm-snapshot, tape, database-dump, replication, "
                   "manual, other, or none (nothing to back up)")
      ->required();
  policy_set_->add_option("--rpo-hours", rpo_hours_,
                          "Recovery point objective: the newest good backup may be this old");
  policy_set_->add_option("--schedule", schedule_, "When it runs (\"daily 22:00\")");
  policy_set_->add_option("--retention", retention_, "What is kept (\"7 daily, 12 monthly\")");
  policy_set_->add_option("--target", targets_, "Where a copy goes (repeatable)");
  policy_set_->add_flag("--offsite", offsite_, "A copy is kept away from the production site");
  policy_set_->add_flag("--immutable", immutable_,
                        "A copy the production host cannot alter or delete (append-only)");
  policy_set_->add_option("--checked-by", checked_by_, "Person or role who checks the backups");
  policy_set_->add_option("--restore-test-days", restore_test_days_,
                          "Days between restore tests (default: by criticality; 0: none)");
  policy_set_->add_option("--notes", notes_, "Free text");

  policies_ = backups->add_subcommand("policies", "List the systems' backup policies");
  policies_->add_flag("--json", json_, "One JSON array on stdout");

  import_ = backups->add_subcommand(
      "import", "Import backup runs from restic or borg JSON or CSV (all or nothing)");
  import_->add_option("FILE", file_, "restic/borg --json output, or CSV")->required();
  import_->add_option("--format", format_, "restic, borg or csv (default: csv for *.csv)");
  import_->add_option("--system", system_,
                      "The system the runs belong to (CSV: for rows without 'system')");
  import_->add_option("--utc-offset", utc_offset_,
                      "borg: the offset of the host's local time (+01:00); default: this host's");
  import_->add_option("--finished-at", finished_at_,
                      "restic backup output: when it finished (default: the file's time)");
  import_->add_flag("--json", json_, "The outcome as JSON");

  runs_ = backups->add_subcommand("runs", "List backup runs, newest first");
  runs_->add_option("SYSTEM", system_, "Only this system");
  runs_->add_option("--limit", limit_, "At most this many");
  runs_->add_flag("--json", json_, "One JSON array on stdout");

  auto* verification = backups->add_subcommand("verification", "Verifications of backups");
  verification->require_subcommand(1);
  verification_record_ =
      verification->add_subcommand("record", "Record a verification (restic check, a review...)");
  verification_record_->add_option("SYSTEM", system_, "System name")->required();
  verification_record_->add_option("--status", status_text_, "ok or failed")->required();
  verification_record_->add_option("--at", at_, "When (ISO 8601; default now)");
  verification_record_->add_option("--snapshot", snapshot_, "Snapshot verified");
  verification_record_->add_option("--scope", scope_, "What was checked");
  verification_record_->add_option("--detail", detail_, "What failed, or notes");
  verification_record_->add_flag("--json", json_, "The outcome as JSON");
  verifications_ = backups->add_subcommand("verifications", "List verifications, newest first");
  verifications_->add_option("SYSTEM", system_, "Only this system");
  verifications_->add_option("--limit", limit_, "At most this many");
  verifications_->add_flag("--json", json_, "One JSON array on stdout");

  auto* restore_test = backups->add_subcommand("restore-test", "Restore tests");
  restore_test->require_subcommand(1);
  restore_test_record_ = restore_test->add_subcommand("record", "Record a restore test");
  restore_test_record_->add_option("SYSTEM", system_, "System name")->required();
  restore_test_record_->add_option("--by", by_, "Who did it")->required();
  restore_test_record_->add_option("--scope", scope_, "What was restored, where")->required();
  restore_test_record_->add_option("--result", result_, "ok, partial or failed")->required();
  restore_test_record_->add_option("--at", at_, "When (ISO 8601; default now)");
  auto* secs = restore_test_record_->add_option("--restore-seconds", restore_seconds_,
                                                "Measured time to restore, in seconds");
  auto* mins = restore_test_record_->add_option("--restore-minutes", restore_minutes_,
                                                "Measured time to restore, in minutes");
  secs->excludes(mins);
  restore_test_record_->add_option("--snapshot", snapshot_, "Snapshot restored");
  restore_test_record_->add_option("--detail", detail_, "Notes, what failed");
  restore_test_record_->add_flag("--json", json_, "The outcome as JSON");
  restore_tests_ = backups->add_subcommand("restore-tests", "List restore tests, newest first");
  restore_tests_->add_option("SYSTEM", system_, "Only this system");
  restore_tests_->add_option("--limit", limit_, "At most this many");
  restore_tests_->add_flag("--json", json_, "One JSON array on stdout");

  status_ = backups->add_subcommand(
      "status", "Per system: last good backup vs RPO, verification, restore test, due dates");
  status_->add_flag("--json", json_, "One JSON document on stdout");

  alerts_ = backups->add_subcommand("alerts", "Open backup alerts");
  alerts_->add_flag("--evaluate", evaluate_,
                    "Evaluate the rules now: raise and clear alerts (audited)");
  alerts_->add_flag("--all", all_, "Cleared alerts too");
  alerts_->add_flag("--json", json_, "One JSON document on stdout");

  every_alert_ = app.add_subcommand(
      "alerts", "Alerts of every kind: backups, exports, offline sync, scheduled jobs");
  every_alert_->add_flag("--all", all_, "Cleared alerts too");
  every_alert_->add_option("--kind", kind_prefix_,
                           "Only kinds starting with this (\"export.\", \"sync.\"...)");
  every_alert_->add_flag("--json", json_, "One JSON document on stdout");
}

std::optional<int> BackupsCommands::run(AppContext& ctx) const {
  if (policy_set_->parsed()) return policy_set(ctx);
  if (policies_->parsed()) return policies(ctx);
  if (import_->parsed()) return import(ctx);
  if (runs_->parsed()) return runs(ctx);
  if (verification_record_->parsed()) return verification_record(ctx);
  if (verifications_->parsed()) return verifications(ctx);
  if (restore_test_record_->parsed()) return restore_test_record(ctx);
  if (restore_tests_->parsed()) return restore_tests(ctx);
  if (status_->parsed()) return status(ctx);
  if (alerts_->parsed() || every_alert_->parsed()) return alerts(ctx);
  return std::nullopt;
}

int BackupsCommands::policy_set(AppContext& ctx) const {
  rs::SystemSpec spec{system_, device_, std::nullopt, description_};
  if (!criticality_.empty()) {
    spec.criticality = rs::parse_criticality(criticality_);
    if (!spec.criticality) {
      return fail_with(
          {core::ErrorCode::kUsage,
           fmt::format("--criticality '{}': critical, important or standard", criticality_), ""});
    }
  }
  rs::Policy p;
  auto method = rs::parse_method(method_);
  if (!method) {
    return fail_with({core::ErrorCode::kUsage,
                      fmt::format("--method '{}': restic, borg, vendor-tool, vm-snapshot, tape, "
                                  "database-dump, replication, manual, other or none",
                                  method_),
                      ""});
  }
  p.method = *method;
  p.rpo_hours = rpo_hours_;
  p.schedule = schedule_;
  p.retention = retention_;
  p.targets = targets_;
  p.offsite = offsite_;
  p.immutable = immutable_;
  p.checked_by = checked_by_;
  p.restore_test_days = restore_test_days_;
  p.notes = notes_;
  auto id = rs::set_policy(*ctx.store, spec, p, actor());
  if (!id) return fail_with(id.error());
  std::cout << fmt::format("policy of '{}' set: {}{}\n", system_, rs::to_string(p.method),
                           p.rpo_hours ? fmt::format(", RPO {} h", *p.rpo_hours) : "");
  return 0;
}

int BackupsCommands::policies(AppContext& ctx) const {
  auto list = rs::list_policies(*ctx.store);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& [s, p] : *list) {
      json j = system_json(s);
      j["policy"] = policy_json(p);
      out.push_back(std::move(j));
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  if (list->empty()) {
    std::cout << "no backup policy yet (vigie backups policy set SYSTEM --method ...)\n";
    return 0;
  }
  std::cout << fmt::format("{:<24} {:<10} {:<13} {:>5} {:<8} {:<9} {:>8}  {}\n", "SYSTEM", "CRIT.",
                           "METHOD", "RPO h", "OFFSITE", "IMMUTABLE", "TEST d",
                           "CHECKED BY / TARGETS");
  for (const auto& [s, p] : *list) {
    std::string targets;
    for (const auto& t : p.targets) targets += (targets.empty() ? "" : ", ") + t;
    std::cout << fmt::format("{:<24} {:<10} {:<13} {:>5} {:<8} {:<9} {:>8}  {}{}\n", s.name,
                             rs::to_string(s.effective), rs::to_string(p.method),
                             or_dash(p.rpo_hours), p.offsite ? "yes" : "no",
                             p.immutable ? "yes" : "no", or_dash(p.restore_test_days),
                             or_dash(p.checked_by), targets.empty() ? "" : " -> " + targets);
  }
  return 0;
}

int BackupsCommands::import(AppContext& ctx) const {
  std::string format_text = format_;
  if (format_text.empty()) {
    if (std::filesystem::path(file_).extension() != ".csv") {
      return fail_with(
          {core::ErrorCode::kUsage, "--format restic, borg or csv is required for this file", ""});
    }
    format_text = "csv";
  }
  auto format = rs::parse_import_format(format_text);
  if (!format) {
    return fail_with({core::ErrorCode::kUsage,
                      fmt::format("--format '{}': restic, borg or csv", format_text), ""});
  }
  rs::ImportOptions options;
  options.system = system_;
  options.restic_finished_at = finished_at_;
  if (!utc_offset_.empty()) {
    auto offset = parse_offset(utc_offset_);
    if (!offset) return fail_with(offset.error());
    options.borg_utc_offset = *offset;
  }
  auto summary = rs::import_runs(*ctx.store, file_, *format, options, actor());
  if (!summary) {
    fail_with(summary.error());
    std::cerr << "vigie: import refused; nothing was changed\n";
    return core::exit_code(summary.error());
  }
  if (json_) {
    std::cout << dump({{"file", file_},
                       {"format", rs::to_string(*format)},
                       {"records", summary->records},
                       {"created", summary->created},
                       {"updated", summary->updated},
                       {"unchanged", summary->unchanged}})
              << "\n";
  } else {
    std::cout << fmt::format("imported {}: {} runs, {} new, {} completed, {} already stored\n",
                             file_, summary->records, summary->created, summary->updated,
                             summary->unchanged);
  }
  return 0;
}

int BackupsCommands::runs(AppContext& ctx) const {
  if (!system_.empty()) {
    auto s = rs::find_system(*ctx.store, system_);
    if (!s) return fail_with(s.error());
  }
  auto list = rs::list_runs(*ctx.store, system_, limit_);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& r : *list) out.push_back(run_json(r));
    std::cout << dump(out) << "\n";
    return 0;
  }
  if (list->empty()) {
    std::cout << "no backup run recorded\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:<24} {:<8} {:<12} {:>10} {:>9}  {}\n", "SYSTEM", "STARTED",
                           "STATUS", "SNAPSHOT", "SIZE", "DURATION", "SOURCE / DETAIL");
  for (const auto& r : *list) {
    std::cout << fmt::format(
        "{:<20} {:<24} {:<8} {:<12} {:>10} {:>9}  {}{}\n", r.system, r.started_at,
        rs::to_string(r.status), or_dash(short_id(r.snapshot_id)), human_bytes(r.size_bytes),
        r.duration_ms ? fmt::format("{:.1f}s", static_cast<double>(*r.duration_ms) / 1000) : "-",
        r.source, r.detail.empty() ? "" : ": " + r.detail);
  }
  return 0;
}

int BackupsCommands::verification_record(AppContext& ctx) const {
  if (status_text_ != "ok" && status_text_ != "failed") {
    return fail_with(
        {core::ErrorCode::kUsage, fmt::format("--status '{}': ok or failed", status_text_), ""});
  }
  rs::Verification v;
  v.system = system_;
  v.verified_at = at_or_now(at_);
  v.ok = status_text_ == "ok";
  v.snapshot_id = snapshot_;
  v.scope = scope_;
  v.detail = detail_;
  auto outcome = rs::record_verification(*ctx.store, v, actor());
  if (!outcome) return fail_with(outcome.error());
  if (json_) {
    std::cout << dump({{"id", outcome->id}, {"outcome", rs::to_string(outcome->what)}}) << "\n";
  } else {
    std::cout << fmt::format("verification of '{}' {}: {}\n", system_, rs::to_string(outcome->what),
                             status_text_);
  }
  return 0;
}

int BackupsCommands::verifications(AppContext& ctx) const {
  auto list = rs::list_verifications(*ctx.store, system_, limit_);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& v : *list) out.push_back(verification_json(v));
    std::cout << dump(out) << "\n";
    return 0;
  }
  if (list->empty()) {
    std::cout << "no verification recorded\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:<24} {:<7} {:<12}  {}\n", "SYSTEM", "VERIFIED", "STATUS",
                           "SNAPSHOT", "SCOPE / DETAIL");
  for (const auto& v : *list) {
    std::cout << fmt::format("{:<20} {:<24} {:<7} {:<12}  {}{}\n", v.system, v.verified_at,
                             v.ok ? "ok" : "FAILED", or_dash(short_id(v.snapshot_id)),
                             or_dash(v.scope), v.detail.empty() ? "" : ": " + v.detail);
  }
  return 0;
}

int BackupsCommands::restore_test_record(AppContext& ctx) const {
  auto result = rs::parse_test_result(result_);
  if (!result) {
    return fail_with({core::ErrorCode::kUsage,
                      fmt::format("--result '{}': ok, partial or failed", result_), ""});
  }
  rs::RestoreTest t;
  t.system = system_;
  t.tested_at = at_or_now(at_);
  t.tested_by = by_;
  t.scope = scope_;
  t.snapshot_id = snapshot_;
  t.result = *result;
  t.detail = detail_;
  if (restore_seconds_) t.restore_seconds = *restore_seconds_;
  if (restore_minutes_) t.restore_seconds = *restore_minutes_ * 60;
  auto outcome = rs::record_restore_test(*ctx.store, t, actor());
  if (!outcome) return fail_with(outcome.error());
  if (json_) {
    std::cout << dump({{"id", outcome->id}, {"outcome", rs::to_string(outcome->what)}}) << "\n";
  } else {
    std::cout << fmt::format("restore test of '{}' {}: {}\n", system_, rs::to_string(outcome->what),
                             result_);
  }
  return 0;
}

int BackupsCommands::restore_tests(AppContext& ctx) const {
  auto list = rs::list_restore_tests(*ctx.store, system_, limit_);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& t : *list) out.push_back(restore_test_json(t));
    std::cout << dump(out) << "\n";
    return 0;
  }
  if (list->empty()) {
    std::cout << "no restore test recorded\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:<24} {:<8} {:<16} {:>9}  {}\n", "SYSTEM", "TESTED", "RESULT",
                           "BY", "TIME", "SCOPE");
  for (const auto& t : *list) {
    std::cout << fmt::format("{:<20} {:<24} {:<8} {:<16} {:>9}  {}{}\n", t.system, t.tested_at,
                             rs::to_string(t.result), t.tested_by,
                             t.restore_seconds ? fmt::format("{}s", *t.restore_seconds) : "-",
                             t.scope, t.detail.empty() ? "" : ": " + t.detail);
  }
  return 0;
}

int BackupsCommands::status(AppContext& ctx) const {
  const auto now = core::utc_now();
  auto report = rs::status(*ctx.store, now, rs::Rules::from(ctx.config));
  if (!report) return fail_with(report.error());
  if (json_) {
    json systems = json::array();
    for (const auto& st : report->systems) {
      json j = system_json(st.system);
      j["policy"] = st.policy ? policy_json(*st.policy) : json(nullptr);
      j["last_run"] = st.last_run ? run_json(*st.last_run) : json(nullptr);
      j["last_good_run"] = st.last_good_run ? run_json(*st.last_good_run) : json(nullptr);
      j["last_good_age_hours"] =
          st.last_good_age_hours ? json(*st.last_good_age_hours) : json(nullptr);
      j["backup_due_at"] = or_null(st.backup_due_at);
      j["backup_overdue"] = st.backup_overdue;
      j["last_verification"] =
          st.last_verification ? verification_json(*st.last_verification) : json(nullptr);
      j["last_restore_test"] =
          st.last_restore_test ? restore_test_json(*st.last_restore_test) : json(nullptr);
      j["last_good_restore_test"] =
          st.last_good_restore_test ? restore_test_json(*st.last_good_restore_test) : json(nullptr);
      j["restore_test_days"] = st.restore_test_days;
      j["restore_test_due_on"] = or_null(st.restore_test_due_on);
      j["restore_test_overdue"] = st.restore_test_overdue;
      systems.push_back(std::move(j));
    }
    std::cout << dump({{"at", core::format_utc(now)},
                       {"systems", systems},
                       {"devices_without_policy", report->devices_without_policy}})
              << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:<9} {:<12} {:>9} {:>6} {:<4} {:<22} {:<11} {:<11} {}\n",
                           "SYSTEM", "CRIT.", "METHOD", "LAST GOOD", "RPO h", "OK?",
                           "LAST VERIFICATION", "LAST TEST", "TEST DUE", "");
  for (const auto& st : report->systems) {
    const std::string age =
        st.last_good_age_hours ? fmt::format("{:.1f}h", *st.last_good_age_hours) : "never";
    const std::string ver = st.last_verification
                                ? fmt::format("{} {}", st.last_verification->ok ? "ok" : "FAILED",
                                              st.last_verification->verified_at.substr(0, 10))
                                : "-";
    const std::string test = st.last_restore_test
                                 ? fmt::format("{} {}", rs::to_string(st.last_restore_test->result),
                                               st.last_restore_test->tested_at.substr(0, 10))
                                 : "-";
    const bool backed_up = st.policy && st.policy->method != rs::Method::kNone;
    std::cout << fmt::format(
        "{:<20} {:<9} {:<12} {:>9} {:>6} {:<4} {:<22} {:<11} {:<11} {}\n", st.system.name,
        rs::to_string(st.system.effective),
        st.policy ? std::string(rs::to_string(st.policy->method)) : "NO POLICY",
        backed_up ? age : "-", st.policy ? or_dash(st.policy->rpo_hours) : "-",
        !backed_up          ? "-"
        : st.backup_overdue ? "LATE"
                            : "yes",
        ver, test, or_dash(st.restore_test_due_on), st.restore_test_overdue ? "TEST OVERDUE" : "");
  }
  if (report->systems.empty()) std::cout << "(no system registered)\n";
  if (report->devices_without_policy > 0) {
    std::cout << fmt::format(
        "{} inventory device(s) that must have a backup policy have none (vigie backups alerts "
        "--evaluate lists them)\n",
        report->devices_without_policy);
  }
  return 0;
}

int BackupsCommands::alerts(AppContext& ctx) const {
  rs::AlertChanges changes;
  if (evaluate_) {
    auto evaluated = rs::evaluate_alerts(*ctx.store, core::utc_now(), rs::Rules::from(ctx.config),
                                         {current_user(), "cli", {}});
    if (!evaluated) return fail_with(evaluated.error());
    changes = std::move(*evaluated);
  }
  // `vigie backups alerts`: the backup ones; `vigie alerts`: every kind, or --kind.
  auto list = rs::list_alerts(*ctx.store, !all_, every_alert_->parsed() ? kind_prefix_ : "backup.");
  if (!list) return fail_with(list.error());
  if (json_) {
    json out{{"alerts", json::array()}};
    for (const auto& a : *list) out["alerts"].push_back(alert_json(a));
    if (evaluate_) {
      out["raised"] = json::array();
      out["cleared"] = json::array();
      for (const auto& a : changes.raised) out["raised"].push_back(alert_json(a));
      for (const auto& a : changes.cleared) out["cleared"].push_back(alert_json(a));
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  if (evaluate_) {
    std::cout << fmt::format("{} alert(s) raised, {} cleared\n", changes.raised.size(),
                             changes.cleared.size());
  }
  if (list->empty()) {
    const char* what = every_alert_->parsed() ? "alert" : "backup alert";
    std::cout << (all_ ? fmt::format("no {}\n", what) : fmt::format("no open {}\n", what));
    return 0;
  }
  std::cout << fmt::format("{:>5} {:<8} {:<28} {:<22} {:<20} {}\n", "ID", "SEVERITY", "KIND",
                           "OBJECT", "RAISED", "MESSAGE");
  for (const auto& a : *list) {
    std::cout << fmt::format("{:>5} {:<8} {:<28} {:<22} {:<20} {}{}\n", a.id, a.severity, a.kind,
                             a.object, a.raised_at, a.message,
                             a.cleared_at.empty() ? "" : " (cleared " + a.cleared_at + ")");
  }
  return 0;
}

}  // namespace vigie::apps
