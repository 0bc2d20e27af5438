#include "advisory_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_output.h"
#include "vigie/advisory/findings.h"
#include "vigie/advisory/notices.h"
#include "vigie/advisory/report.h"
#include "vigie/advisory/validate.h"
#include "vigie/core/file.h"
#include "vigie/netpolicy/exposure.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using core::Result;

std::string cut(std::string_view s, size_t width) {
  if (s.size() <= width) return std::string(s);
  return std::string(s.substr(0, width - 1)) + "~";
}

const core::SystemClock& system_clock() {
  static const core::SystemClock kClock;
  return kClock;
}

advisory::Actor actor_of(const AppContext& ctx) {
  return {current_user(), system_clock(), advisory::DeadlinePolicy::from(ctx.config)};
}

// FILE|DIR... as files: a directory gives its *.json advisories (not the *.sources.json
// provenance sidecars), in name order.
std::vector<fs::path> advisory_files(const std::vector<std::string>& args) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    std::error_code ec;
    if (!fs::is_directory(a, ec)) {
      out.emplace_back(a);
      continue;
    }
    std::vector<fs::path> in_dir;
    for (const auto& entry : fs::directory_iterator(a, ec)) {
      std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.ends_with(".json") && !name.ends_with(".sources.json")) {
        in_dir.push_back(entry.path());
      }
    }
    std::sort(in_dir.begin(), in_dir.end());
    out.insert(out.end(), in_dir.begin(), in_dir.end());
  }
  return out;
}

json issues_json(const std::vector<advisory::ValidationIssue>& issues) {
  json out = json::array();
  for (const auto& i : issues) {
    out.push_back({{"test", i.test}, {"pointer", i.pointer}, {"reason", i.reason}});
  }
  return out;
}

std::string issue_line(const std::string& file, const advisory::ValidationIssue& i) {
  return fmt::format("{}: {} at {}: {}", file, i.test, i.pointer.empty() ? "/" : i.pointer,
                     i.reason);
}

int validate(const std::vector<std::string>& files, bool as_json) {
  int rc = 0;
  json out = json::array();
  for (const auto& file : files) {
    auto text = core::read_file(file);
    if (!text) {
      if (as_json) {
        out.push_back({{"file", file}, {"readable", false}, {"error", text.error().message}});
      }
      std::cerr << "vigie: " << text.error().to_string() << "\n";
      rc = 2;
      continue;
    }
    auto report = advisory::validate_csaf(*text);
    if (!report.valid() && rc == 0) rc = 1;
    if (as_json) {
      out.push_back({{"file", file},
                     {"readable", true},
                     {"valid", report.valid()},
                     {"issues", issues_json(report.issues)}});
      continue;
    }
    for (const auto& i : report.issues) std::cout << issue_line(file, i) << "\n";
    std::cout << fmt::format("{}: {}\n", file,
                             report.valid()
                                 ? "valid CSAF 2.0"
                                 : fmt::format("invalid ({} problem{})", report.issues.size(),
                                               report.issues.size() == 1 ? "" : "s"));
  }
  if (as_json) std::cout << dump(out) << "\n";
  return rc;
}

json summary_json(const advisory::AssessSummary& s) {
  return {{"devices", s.devices}, {"assessments", s.assessments}, {"opened", s.opened},
          {"closed", s.closed},   {"reopened", s.reopened},       {"updated", s.updated}};
}

std::string summary_text(const advisory::AssessSummary& s) {
  return fmt::format("{} devices assessed, {} findings opened, {} closed, {} reopened, {} updated",
                     s.devices, s.opened, s.closed, s.reopened, s.updated);
}

int import(AppContext& ctx, const std::vector<std::string>& args, bool force, bool as_json) {
  int rc = 0;
  json out = json::array();
  auto actor = actor_of(ctx);
  for (const auto& path : advisory_files(args)) {
    auto text = core::read_file(path);
    if (!text) {
      rc = std::max(rc, fail_with(text.error()));
      continue;
    }
    auto result = advisory::import_advisory(*ctx.store, *text, path.string(), {force}, actor);
    if (!result) {
      rc = std::max(rc, fail_with(result.error()));
      if (as_json) {
        out.push_back(
            {{"file", path.string()}, {"committed", false}, {"error", result.error().message}});
      }
      continue;
    }
    if (as_json) {
      out.push_back({{"file", path.string()},
                     {"committed", true},
                     {"advisory_id", result->advisory_id},
                     {"tracking_id", result->tracking_id},
                     {"outcome", result->outcome},
                     {"forced_failures", issues_json(result->forced_failures)},
                     {"assessed", summary_json(result->assessed)}});
      continue;
    }
    for (const auto& i : result->forced_failures) {
      std::cerr << "vigie: forced past " << issue_line(path.string(), i) << "\n";
    }
    std::cout << fmt::format("{}: {} {} (advisory {}); {}\n", path.string(), result->outcome,
                             result->tracking_id, result->advisory_id,
                             summary_text(result->assessed));
  }
  if (as_json) std::cout << dump(out) << "\n";
  return rc;
}

int list_advisories(AppContext& ctx, bool as_json) {
  auto list = advisory::list_advisories(*ctx.store);
  if (!list) return fail_with(list.error());
  if (as_json) {
    json out = json::array();
    for (const auto& a : *list) {
      out.push_back({{"id", a.id},
                     {"tracking_id", a.tracking_id},
                     {"publisher", a.publisher},
                     {"title", a.title},
                     {"version", a.version},
                     {"current_release_date", a.current_release_date},
                     {"max_score", a.max_score ? json(*a.max_score) : json()},
                     {"forced", a.forced},
                     {"affected_devices", a.affected},
                     {"open_findings", a.open_findings}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<20} {:<22} {:<7} {:<10} {:>5} {:>8} {:>5}  {}\n", "ID",
                           "TRACKING", "PUBLISHER", "VERSION", "RELEASED", "SCORE", "AFFECTED",
                           "OPEN", "TITLE");
  for (const auto& a : *list) {
    std::cout << fmt::format("{:>4}  {:<20} {:<22} {:<7} {:<10} {:>5} {:>8} {:>5}  {}{}\n", a.id,
                             cut(a.tracking_id, 20), cut(a.publisher, 22), cut(a.version, 7),
                             a.current_release_date.substr(0, 10),
                             a.max_score ? fmt::format("{:.1f}", *a.max_score) : "-", a.affected,
                             a.open_findings, a.title, a.forced ? " (forced)" : "");
  }
  return 0;
}

json notice_json(const advisory::Notice& n) {
  return {{"id", n.id},
          {"reference", n.reference},
          {"title", n.title},
          {"advisory", n.advisory},
          {"received_on", n.received_on},
          {"channel", n.channel},
          {"forwarded_to", n.forwarded_to},
          {"response_required", n.response_required},
          {"response_due", n.response_due},
          {"acknowledged_by", n.ack_by},
          {"acknowledged_on", n.ack_on},
          {"acknowledgement_reference", n.ack_reference},
          {"document", n.document_name},
          {"document_sha256", n.document_sha256},
          {"affected_devices", n.affected_devices},
          {"open_findings", n.open_findings},
          {"response_overdue", n.response_overdue},
          {"complete", n.complete}};
}

std::string notice_state(const advisory::Notice& n) {
  if (n.complete) return "complete";
  std::string state = fmt::format("{} open of {} affected", n.open_findings, n.affected_devices);
  if (n.response_required && n.ack_on.empty()) {
    state +=
        fmt::format(", response due {}{}", n.response_due, n.response_overdue ? " (OVERDUE)" : "");
  }
  return state;
}

json finding_json(const advisory::Finding& f) {
  return {{"finding_id", f.id},
          {"device_id", f.device_id},
          {"vendor", f.vendor},
          {"product", f.product},
          {"part_number", f.part_number},
          {"serial_number", f.serial_number},
          {"software_version", f.software_version},
          {"hostname", f.hostname},
          {"site", f.site},
          {"zone", f.zone},
          {"device_status", f.device_status},
          {"advisory", f.advisory},
          {"status", advisory::to_string(f.verdict)},
          {"product_id", f.product_ref},
          {"reason", f.reason},
          {"missing", f.missing},
          {"actions", json::parse(advisory::actions_to_json(f.actions))},
          {"finding_status", advisory::to_string(f.status)},
          {"status_note", f.status_note},
          {"accepted_until", f.accepted_until},
          {"due_on", f.due_on},
          {"overdue", f.overdue}};
}

std::string first_action(const advisory::Finding& f) {
  if (!f.missing.empty())
    return "complete the inventory: " + fmt::format("{}", fmt::join(f.missing, ", "));
  return f.actions.empty() ? "" : f.actions.front().text;
}

// Findings as one JSON array or a table, streamed.
int print_findings(AppContext& ctx, const advisory::FindingFilter& filter, bool as_json) {
  size_t n = 0;
  if (as_json)
    std::cout << "[";
  else
    std::cout << fmt::format("{:>6} {:>6}  {:<18} {:<22} {:<8} {:<14} {:<19} {:<12} {:<10} {}\n",
                             "ID", "DEVICE", "HOST/SERIAL", "PRODUCT", "VERSION", "ADVISORY",
                             "VERDICT", "STATUS", "DUE", "ACTION");
  auto st = advisory::for_each_finding(
      *ctx.store, filter, system_clock(), [&](const advisory::Finding& f) {
        if (as_json) {
          std::cout << (n == 0 ? "\n" : ",\n")
                    << finding_json(f).dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
          std::cout << fmt::format(
              "{:>6} {:>6}  {:<18} {:<22} {:<8} {:<14} {:<19} {:<12} {:<10} {}\n", f.id,
              f.device_id, cut(f.hostname.empty() ? "s/n " + f.serial_number : f.hostname, 18),
              cut(f.product, 22), cut(f.software_version, 8), cut(f.advisory, 14),
              advisory::to_string(f.verdict), advisory::to_string(f.status),
              f.due_on.empty() ? "-" : f.due_on + (f.overdue ? "!" : ""), first_action(f));
        }
        ++n;
      });
  if (as_json) std::cout << (n == 0 ? "]\n" : "\n]\n");
  if (!st) return fail_with(st.error());
  if (!as_json) std::cerr << fmt::format("{} finding{}\n", n, n == 1 ? "" : "s");
  return 0;
}

Result<std::int64_t> parse_id(std::string_view text, std::string_view what) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return core::fail(core::ErrorCode::kUsage,
                      fmt::format("{} must be a number, not '{}'", what, text));
  }
  return id;
}

int explain(AppContext& ctx, const std::vector<std::string>& args) {
  auto device_id = parse_id(args[0], "the device");
  if (!device_id) return fail_with(device_id.error());
  auto facts = advisory::device_facts(*ctx.store, *device_id);
  if (!facts) return fail_with(facts.error());
  auto advisory_id = advisory::find_advisory(*ctx.store, args[1]);
  if (!advisory_id) return fail_with(advisory_id.error());
  auto loaded = advisory::load_advisories(*ctx.store);
  if (!loaded) return fail_with(loaded.error());
  auto at = std::find(loaded->ids.begin(), loaded->ids.end(), *advisory_id);
  auto index = static_cast<size_t>(at - loaded->ids.begin());
  std::cout << fmt::format("device {}: {} / {} / P/N {} / s/n {} / version {}\n", facts->id,
                           facts->vendor, facts->product,
                           facts->part_number.empty() ? "-" : facts->part_number,
                           facts->serial_number.empty() ? "-" : facts->serial_number,
                           facts->software_version.empty() ? "-" : facts->software_version);
  std::cout << fmt::format("advisory {}: {}\n", loaded->matcher.advisory(index).tracking_id,
                           loaded->matcher.advisory(index).title);
  for (const auto& line : loaded->matcher.explain(*facts, index)) std::cout << "  " << line << "\n";
  return 0;
}

int assess(AppContext& ctx, bool as_json, bool all) {
  auto summary = advisory::assess_all(*ctx.store, actor_of(ctx));
  if (!summary) return fail_with(summary.error());
  if (!as_json) std::cerr << summary_text(*summary) << "\n";
  advisory::FindingFilter filter;
  // The JSON contract lists every device x advisory verdict, not-affected ones included.
  filter.all = as_json || all;
  return print_findings(ctx, filter, as_json);
}

Result<advisory::StatusChange> parse_change(const std::vector<std::string>& assignments) {
  advisory::StatusChange change;
  bool has_status = false;
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    std::string key = eq == std::string::npos ? a : a.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (eq == std::string::npos) {
      return core::fail(core::ErrorCode::kUsage, fmt::format("'{}' is not key=value", a));
    }
    if (key == "status") {
      auto s = advisory::parse_finding_status(value);
      if (!s) {
        return core::fail(core::ErrorCode::kUsage,
                          fmt::format("status '{}' is not one of open, in_progress, mitigated, "
                                      "fixed, risk_accepted, not_applicable",
                                      value));
      }
      change.status = *s;
      has_status = true;
    } else if (key == "note") {
      change.note = value;
    } else if (key == "until") {
      change.until = value;
    } else {
      return core::fail(core::ErrorCode::kUsage,
                        fmt::format("unknown key '{}' (status, note, until)", key));
    }
  }
  if (!has_status) return core::fail(core::ErrorCode::kUsage, "status=... is required");
  return change;
}

// "mitigated" by blocking ports is a fact the firewall model can check: refused when another
// zone still reaches a port the mitigation names (unless forced), recorded when it holds.
int check_port_mitigation(AppContext& ctx, std::int64_t id, advisory::StatusChange& change,
                          bool force) {
  auto checks = netpolicy::check_mitigations(*ctx.store);
  if (!checks) return fail_with(checks.error());
  for (const auto& c : *checks) {
    if (c.finding_id != id) continue;
    std::string ports;
    for (const auto& p : c.ports) ports += (ports.empty() ? "" : ", ") + p.name;
    if (c.in_place) {
      change.note += fmt::format("{}checked: {} blocked from every other zone (firewall model)",
                                 change.note.empty() ? "" : "; ", ports);
      return 0;
    }
    for (const auto& e : c.evidence) std::cerr << "vigie: " << e << "\n";
    if (!force) {
      std::cerr << fmt::format(
          "vigie: finding {}: the mitigation (block {}) is not in place; fix the firewall or "
          "give --force to record it anyway\n",
          id, ports);
      return 1;
    }
    change.note += fmt::format("{}forced: {} still reachable from other zones",
                               change.note.empty() ? "" : "; ", ports);
  }
  return 0;
}

int set_finding(AppContext& ctx, std::int64_t id, const std::vector<std::string>& assignments,
                bool force) {
  auto change = parse_change(assignments);
  if (!change) return fail_with(change.error());
  if (change->status == advisory::FindingStatus::kMitigated) {
    if (int rc = check_port_mitigation(ctx, id, *change, force); rc != 0) return rc;
  }
  if (auto st = advisory::set_finding_status(*ctx.store, id, *change, actor_of(ctx)); !st) {
    return fail_with(st.error());
  }
  std::cout << fmt::format("finding {} is now {}\n", id, advisory::to_string(change->status));
  return 0;
}

int history(AppContext& ctx, std::int64_t id, bool as_json) {
  auto entries = advisory::finding_history(*ctx.store, id);
  if (!entries) return fail_with(entries.error());
  json out = json::array();
  for (const auto& e : *entries) {
    if (as_json) {
      out.push_back({{"at", e.at},
                     {"actor", e.actor},
                     {"verdict", e.verdict},
                     {"status", e.status},
                     {"note", e.note}});
    } else {
      std::cout << fmt::format("{}  {:<12} {:<19} {:<14} {}\n", e.at, e.actor, e.verdict, e.status,
                               e.note);
    }
  }
  if (as_json) std::cout << dump(out) << "\n";
  return 0;
}

int write_report(const Result<std::string>& text, const std::string& output) {
  if (!text) return fail_with(text.error());
  if (output.empty() || output == "-") {
    std::cout << *text;
    return 0;
  }
  if (auto st = core::write_file_durably(output, *text, 0644); !st) return fail_with(st.error());
  std::cerr << "vigie: report written to " << output << "\n";
  return 0;
}

}  // namespace

std::string current_user() {
  for (const char* name : {"VIGIE_USER", "USER"}) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread
    if (v != nullptr && *v != '\0') return v;
  }
  return "unknown";
}

AdvisoryCommands::AdvisoryCommands(CLI::App& app) {
  auto* advisories = app.add_subcommand("advisories", "CSAF 2.0 advisories");
  advisories->require_subcommand(1);
  advisories_import_ = advisories->add_subcommand(
      "import", "Validate, store and assess advisories (each file all or nothing)");
  advisories_import_->add_option("FILE", files_, "CSAF files or directories of them")->required();
  advisories_import_->add_flag("--force", force_,
                               "Store documents that fail validation, recording the failures");
  advisories_import_->add_flag("--json", json_, "Print the outcome as JSON");
  advisories_validate_ = advisories->add_subcommand(
      "validate",
      "Check CSAF files (schema and the 6.1 mandatory tests); exit 0 valid, 1 "
      "invalid, 2 unreadable");
  advisories_validate_->add_option("FILE", files_, "CSAF files")->required();
  advisories_validate_->add_flag("--json", json_, "Print the problems as JSON");
  advisories_list_ = advisories->add_subcommand("list", "List stored advisories");
  advisories_list_->add_flag("--json", json_, "JSON on stdout");

  auto* notices = app.add_subcommand("notices", "Vendors' letters as the hospital received them");
  notices->require_subcommand(1);
  notices_add_ = notices->add_subcommand("add", "Record a received letter");
  notices_add_->add_option("REFERENCE", reference_, "The letter's reference")->required();
  notices_add_->add_option("--advisory", advisory_, "Tracking id or number of its advisory");
  notices_add_->add_option("--title", title_, "Title (default: the advisory's)");
  notices_add_->add_option("--received", received_on_, "Date received, YYYY-MM-DD")->required();
  notices_add_->add_option("--channel", channel_, "registered letter, e-mail, vendor portal...")
      ->required();
  notices_add_->add_option("--forwarded-to", forwarded_to_, "Who it was forwarded to");
  notices_add_->add_option("--response-days", response_days_,
                           "A response form is due this many days after receipt");
  notices_add_->add_option("--response-due", response_due_, "A response form is due on this date");
  notices_add_->add_option("--document", document_, "The original letter (kept in the home)");
  notices_list_ = notices->add_subcommand("list", "List notices and how far each is");
  notices_list_->add_flag("--json", json_, "JSON on stdout");
  notices_show_ = notices->add_subcommand("show", "One notice and the devices it names");
  notices_show_->add_option("NOTICE", reference_, "Reference or number")->required();
  notices_show_->add_flag("--json", json_, "JSON on stdout");
  notices_ack_ = notices->add_subcommand("ack", "Record the signed acknowledgement");
  notices_ack_->add_option("NOTICE", reference_, "Reference or number")->required();
  notices_ack_->add_option("--by", ack_by_, "Who signed the response form")->required();
  notices_ack_->add_option("--on", ack_on_, "Date sent, YYYY-MM-DD")->required();
  notices_ack_->add_option("--reference", ack_reference_, "Reference of the response");

  assess_ = app.add_subcommand("assess", "Assess every device against every advisory");
  assess_->add_flag("--json", json_, "Every device x advisory verdict as one JSON array");
  assess_->add_flag("--all", all_, "Also list fixed and not-affected verdicts");
  assess_->add_option("--explain", explain_, "Explain one verdict: DEVICE ADVISORY")->expected(2);

  findings_ = app.add_subcommand("findings", "What each affected device still needs");
  findings_->add_flag("--overdue", overdue_, "Only findings past their deadline");
  findings_->add_option("--device", device_, "Only this device");
  findings_->add_option("--advisory", advisory_, "Only this advisory");
  findings_->add_flag("--all", all_, "Also closed findings and not-affected verdicts");
  findings_->add_flag("--json", json_, "One JSON array on stdout");
  findings_set_ = findings_->add_subcommand("set", "Change a finding's status");
  findings_set_->add_option("ID", finding_, "Finding id")->required();
  findings_set_
      ->add_option("ASSIGNMENTS", assignments_,
                   "status=open|in_progress|mitigated|fixed|risk_accepted|"
                   "not_applicable note=... until=YYYY-MM-DD")
      ->required();
  findings_set_->add_flag(
      "--force", force_,
      "Record 'mitigated' even when the firewall model shows the ports reachable");
  findings_history_ = findings_->add_subcommand("history", "Every change of a finding");
  findings_history_->add_option("ID", finding_, "Finding id")->required();
  findings_history_->add_flag("--json", json_, "JSON on stdout");

  auto* report = app.add_subcommand("report", "Reports to file (HTML or CSV, French or English)");
  report->require_subcommand(1);
  report_notice_ = report->add_subcommand("notice", "A notice: the letter and every device");
  report_notice_->add_option("NOTICE", reference_, "Reference or number")->required();
  report_device_ = report->add_subcommand("device", "A device: its findings and letters");
  report_device_->add_option("ID", device_, "Device id")->required();
  for (auto* r : {report_notice_, report_device_}) {
    r->add_option("--format", format_, "html or csv")->check(CLI::IsMember({"html", "csv"}));
    r->add_option("--lang", language_, "fr or en")->check(CLI::IsMember({"fr", "en"}));
    r->add_option("-o,--output", output_, "Write to this file (default: stdout)");
  }
}

std::optional<int> AdvisoryCommands::run_without_home() const {
  if (advisories_validate_->parsed()) return validate(files_, json_);
  return std::nullopt;
}

std::optional<int> AdvisoryCommands::run(AppContext& ctx) const {
  const core::Clock& clock = system_clock();
  if (advisories_import_->parsed()) return import(ctx, files_, force_, json_);
  if (advisories_list_->parsed()) return list_advisories(ctx, json_);
  if (notices_add_->parsed()) {
    advisory::NoticeInput in{reference_,     title_,        advisory_,
                             received_on_,   channel_,      forwarded_to_,
                             response_days_, response_due_, fs::path(document_)};
    auto id = advisory::add_notice(*ctx.store, ctx.home, in, actor_of(ctx));
    if (!id) return fail_with(id.error());
    auto n = advisory::get_notice(*ctx.store, std::to_string(*id), clock);
    if (!n) return fail_with(n.error());
    std::cout << fmt::format("notice {} recorded ({}): {}\n", n->reference, n->id,
                             notice_state(*n));
    return 0;
  }
  if (notices_list_->parsed()) {
    auto list = advisory::list_notices(*ctx.store, clock);
    if (!list) return fail_with(list.error());
    json out = json::array();
    for (const auto& n : *list) {
      if (json_) {
        out.push_back(notice_json(n));
      } else {
        std::cout << fmt::format("{:>4}  {:<18} {:<10} {:<16} {}\n       {}\n", n.id,
                                 cut(n.reference, 18), n.received_on, cut(n.advisory, 16), n.title,
                                 notice_state(n));
      }
    }
    if (json_) std::cout << dump(out) << "\n";
    return 0;
  }
  if (notices_show_->parsed()) {
    auto n = advisory::get_notice(*ctx.store, reference_, clock);
    if (!n) return fail_with(n.error());
    if (json_) {
      json j = notice_json(*n);
      j["devices"] = json::array();
      if (n->advisory_id != 0) {
        advisory::FindingFilter f;
        f.advisory_id = n->advisory_id;
        f.all = true;
        auto st = advisory::for_each_finding(*ctx.store, f, clock, [&](const advisory::Finding& x) {
          if (x.verdict != advisory::Verdict::kNotAffected) j["devices"].push_back(finding_json(x));
        });
        if (!st) return fail_with(st.error());
      }
      std::cout << dump(j) << "\n";
      return 0;
    }
    for (const auto& [key, value] : notice_json(*n).items()) {
      std::cout << fmt::format("{:<26} {}\n", key,
                               value.is_string() ? value.get<std::string>() : value.dump());
    }
    if (n->advisory_id == 0) return 0;
    advisory::FindingFilter f;
    f.advisory_id = n->advisory_id;
    std::cout << "\n";
    return print_findings(ctx, f, false);
  }
  if (notices_ack_->parsed()) {
    if (auto st = advisory::acknowledge_notice(*ctx.store, reference_,
                                               {ack_by_, ack_on_, ack_reference_}, actor_of(ctx));
        !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("notice {} acknowledged by {} on {}\n", reference_, ack_by_, ack_on_);
    return 0;
  }
  if (assess_->parsed()) {
    if (!explain_.empty()) return explain(ctx, explain_);
    return assess(ctx, json_, all_);
  }
  if (findings_set_->parsed()) return set_finding(ctx, finding_, assignments_, force_);
  if (findings_history_->parsed()) return history(ctx, finding_, json_);
  if (findings_->parsed()) {
    advisory::FindingFilter filter;
    filter.all = all_;
    filter.overdue = overdue_;
    filter.device_id = device_;
    if (!advisory_.empty()) {
      auto id = advisory::find_advisory(*ctx.store, advisory_);
      if (!id) return fail_with(id.error());
      filter.advisory_id = *id;
    }
    return print_findings(ctx, filter, json_);
  }
  if (report_notice_->parsed() || report_device_->parsed()) {
    auto format = *advisory::parse_report_format(format_);
    auto language = *advisory::parse_language(language_);
    if (report_notice_->parsed()) {
      return write_report(advisory::notice_report(*ctx.store, reference_, format, language, clock),
                          output_);
    }
    return write_report(advisory::device_report(*ctx.store, device_, format, language, clock),
                        output_);
  }
  return std::nullopt;
}

}  // namespace vigie::apps
