#include "conformance_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/time.h"
#include "vigie/netpolicy/conformance.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace np = netpolicy;

std::string peer_text(const np::Finding& f) { return f.peer_ip ? f.peer_ip->to_string() : "-"; }

json finding_json(const np::Finding& f) {
  json j{{"kind", np::to_string(f.kind)},
         {"device_ip", f.device_ip.to_string()},
         {"peer_ip", f.peer_ip ? json(f.peer_ip->to_string()) : json(nullptr)},
         {"protocol", np::to_string(f.protocol)},
         {"port", f.port},
         {"app", np::to_string(f.app)},
         {"count", f.count},
         {"bytes", f.bytes},
         {"first_seen", np::format_time_us(f.first_us)},
         {"last_seen", np::format_time_us(f.last_us)},
         {"detail", f.detail}};
  j["device_id"] = f.device_id == 0 ? json(nullptr) : json(f.device_id);
  j["entry"] = f.entry == np::AllowChecker::kNoMatch ? json(nullptr) : json(f.entry);
  return j;
}

json proposal_json(const np::ProposedIntent& p) {
  return {{"device_id", p.device_id},
          {"device_ip", p.device_ip.to_string()},
          {"direction", np::to_string(p.direction)},
          {"peer", p.peer.to_string()},
          {"protocol", np::to_string(p.protocol)},
          {"ports", std::to_string(p.port)},
          {"purpose", p.purpose},
          {"cleartext", p.cleartext},
          {"flows", p.flows}};
}

void print_text(const np::ConformanceReport& report) {
  if (report.findings.empty()) {
    std::cout << "no finding\n";
    return;
  }
  std::cout << fmt::format("{:<18} {:>6} {:<16} {:<16} {:<10} {:<9} {:>7}  {}\n", "KIND", "DEVICE",
                           "ADDRESS", "PEER", "PORT", "APP", "FLOWS", "DETAIL");
  for (const auto& f : report.findings) {
    std::cout << fmt::format(
        "{:<18} {:>6} {:<16} {:<16} {:<10} {:<9} {:>7}  {} [{} .. {}]\n", np::to_string(f.kind),
        f.device_id == 0 ? std::string("-") : std::to_string(f.device_id), f.device_ip.to_string(),
        peer_text(f), fmt::format("{}/{}", np::to_string(f.protocol), f.port), np::to_string(f.app),
        f.count, f.detail, np::format_time_us(f.first_us), np::format_time_us(f.last_us));
  }
}

}  // namespace

ConformanceCommands::ConformanceCommands(CLI::App& app) {
  conformance_ = app.add_subcommand(
      "conformance", "Check a scan or observed traffic against the allow-list (findings stored)");
  conformance_->add_option("FILE", file_, "nmap XML, Zeek conn.log (TSV or JSON), pcap or pcapng")
      ->required();
  conformance_->add_option("--format", format_, "nmap, zeek or pcap (default: from the content)");
  conformance_->add_flag("--json", json_, "One JSON document on stdout");
  conformance_->add_flag("--propose", propose_,
                         "List candidate intents (port-table rows) for unexpected flows; nothing "
                         "is added to any profile");
}

std::optional<int> ConformanceCommands::run(AppContext& ctx) const {
  if (!conformance_->parsed()) return std::nullopt;
  np::FlowFormat format = np::FlowFormat::kZeek;
  if (!format_.empty()) {
    auto f = np::parse_flow_format(format_);
    if (!f) {
      return fail_with({core::ErrorCode::kUsage,
                        fmt::format("unknown format '{}' (nmap, zeek or pcap)", format_), ""});
    }
    format = *f;
  } else {
    auto f = np::detect_file_format(file_);
    if (!f) return fail_with(f.error());
    format = *f;
  }
  auto devices = np::load_device_addresses(*ctx.store);
  if (!devices) return fail_with(devices.error());
  auto allow = np::load_allow_list(*ctx.store, {});
  if (!allow) return fail_with(allow.error());
  if (!allow->unbound.empty()) {
    std::cerr << fmt::format(
        "vigie: {} intent(s) have no address bound at their site and allow nothing (e.g. {})\n",
        allow->unbound.size(), allow->unbound.front());
  }
  std::vector<np::AllowEntry> entries = allow->entries;
  std::string started_at = core::format_utc(core::utc_now());
  np::ConformanceAnalyzer analyzer(std::move(allow->entries), *devices,
                                   format != np::FlowFormat::kNmap);
  auto stats = np::read_flows(file_, format, analyzer);
  if (!stats) return fail_with(stats.error());  // nothing stored
  auto report = analyzer.report();
  np::ConformanceRun run{file_, format, stats->records, started_at, current_user()};
  auto run_id = np::save_conformance_run(*ctx.store, run, report.findings, entries);
  if (!run_id) return fail_with(run_id.error());
  auto proposals = propose_ ? np::propose_intents(report) : std::vector<np::ProposedIntent>{};

  const auto& s = report.summary;
  if (json_) {
    json out{{"run_id", *run_id},
             {"source", file_},
             {"format", np::to_string(format)},
             {"records", stats->records},
             {"flows", s.flows},
             {"allowed", s.allowed},
             {"flows_between_unknown_hosts", s.unknown_hosts_flows},
             {"allow_entries", entries.size()},
             {"first_seen", np::format_time_us(s.first_us)},
             {"last_seen", np::format_time_us(s.last_us)},
             {"findings", json::array()}};
    for (const auto& f : report.findings) out["findings"].push_back(finding_json(f));
    if (propose_) {
      out["proposals"] = json::array();
      for (const auto& p : proposals) out["proposals"].push_back(proposal_json(p));
    }
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cerr << fmt::format(
      "{}: {} {}, {} flows ({} allowed, {} between hosts not in the inventory), {} allow-list "
      "entries; run {} stored with {} finding(s)\n",
      file_, stats->records,
      format == np::FlowFormat::kNmap   ? "hosts"
      : format == np::FlowFormat::kPcap ? "packets"
                                        : "records",
      s.flows, s.allowed, s.unknown_hosts_flows, entries.size(), *run_id, report.findings.size());
  if (propose_) {
    std::cerr << fmt::format(
        "{} candidate intent(s) for review; add the ones that are legitimate to a profile's port "
        "table yourself\n",
        proposals.size());
    std::cout << np::format_proposals_csv(proposals);
    return 0;
  }
  print_text(report);
  return 0;
}

}  // namespace vigie::apps
