#include "netpolicy_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"
#include "vigie/netpolicy/dns.h"
#include "vigie/netpolicy/exposure.h"
#include "vigie/netpolicy/firewall.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace np = netpolicy;

np::Actor actor() { return {current_user(), "cli", core::format_utc(core::utc_now())}; }

// Runs `body` in one transaction: committed when it succeeds, rolled back otherwise.
int in_transaction(AppContext& ctx, const std::function<core::Status()>& body) {
  auto tx = store::Transaction::begin(*ctx.store);
  if (!tx) return fail_with(tx.error());
  if (auto st = body(); !st) return fail_with(st.error());
  if (auto st = tx->commit(); !st) return fail_with(st.error());
  return 0;
}

core::Result<std::int64_t> site_id(AppContext& ctx, const std::string& name) {
  const store::Value params[] = {inventory::normalize_words(name)};
  auto rows = ctx.store->query("SELECT id FROM sites WHERE name_norm = ?", params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty())
    return core::fail(core::ErrorCode::kNotFound, fmt::format("no site '{}'", name));
  return rows->front().integer(0);
}

json zone_json(const np::Zone& z) {
  json networks = json::array();
  for (const auto& n : z.networks) networks.push_back(n.to_string());
  return {{"id", z.id},
          {"site", z.site},
          {"name", z.name},
          {"vlan", z.vlan ? json(*z.vlan) : json()},
          {"kind", np::to_string(z.kind)},
          {"networks", networks}};
}

int zones_list(AppContext& ctx, bool as_json) {
  auto zones = np::load_zones(*ctx.store);
  if (!zones) return fail_with(zones.error());
  if (as_json) {
    json out = json::array();
    for (const auto& z : *zones) out.push_back(zone_json(z));
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<32} {:<22} {:>4}  {:<9} {}\n", "ID", "SITE", "ZONE", "VLAN",
                           "KIND", "NETWORKS");
  for (const auto& z : *zones) {
    std::string nets;
    for (const auto& n : z.networks) nets += (nets.empty() ? "" : " ") + n.to_string();
    std::cout << fmt::format("{:>4}  {:<32} {:<22} {:>4}  {:<9} {}\n", z.id, z.site, z.name,
                             z.vlan ? std::to_string(*z.vlan) : "-", np::to_string(z.kind), nets);
  }
  return 0;
}

struct ZoneChange {
  std::optional<np::ZoneKind> kind;
  std::optional<std::vector<np::IpPrefix>> networks;
};

// kind=... networks=... as given to `zones set` and `zones add`.
core::Result<ZoneChange> parse_zone_change(const std::vector<std::string>& assignments) {
  ZoneChange change;
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    const std::string key = a.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "kind") {
      change.kind = np::parse_zone_kind(value);
      if (!change.kind) {
        return core::fail(core::ErrorCode::kUsage,
                          fmt::format("kind '{}': expected medical, clinical, office, servers, "
                                      "dmz, internet or other",
                                      value),
                          a);
      }
    } else if (key == "networks") {
      change.networks.emplace();
      size_t start = 0;
      while (start <= value.size() && !value.empty()) {
        const auto comma = value.find(',', start);
        const auto item =
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto prefix = np::parse_prefix(item);
        if (!prefix) {
          return core::fail(core::ErrorCode::kUsage, fmt::format("'{}' is not a prefix", item), a);
        }
        change.networks->push_back(*prefix);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      return core::fail(core::ErrorCode::kUsage,
                        fmt::format("unknown key '{}' (kind, networks)", key), a);
    }
  }
  return change;
}

int zones_add(AppContext& ctx, const std::string& site, const std::string& name,
              const std::vector<std::string>& assignments) {
  auto id = site_id(ctx, site);
  if (!id) return fail_with(id.error());
  auto change = parse_zone_change(assignments);
  if (!change) return fail_with(change.error());
  return in_transaction(ctx, [&]() -> core::Status {
    auto zone = np::create_zone(*ctx.store, *id, name, change->kind.value_or(np::ZoneKind::kOther),
                                change->networks.value_or(std::vector<np::IpPrefix>{}), actor());
    if (!zone) return tl::unexpected(zone.error());
    return {};
  });
}

int zones_set(AppContext& ctx, const std::string& name,
              const std::vector<std::string>& assignments) {
  auto zone = np::find_zone(*ctx.store, name);
  if (!zone) return fail_with(zone.error());
  auto change = parse_zone_change(assignments);
  if (!change) return fail_with(change.error());
  const auto who = actor();
  return in_transaction(ctx, [&]() -> core::Status {
    if (change->kind) VIGIE_TRY(np::set_zone_kind(*ctx.store, zone->id, *change->kind, who));
    if (change->networks) {
      VIGIE_TRY(np::set_zone_networks(*ctx.store, zone->id, *change->networks, who));
    }
    return {};
  });
}

int roles_list(AppContext& ctx, const std::string& site, bool as_json) {
  std::string sql =
      "SELECT s.name, r.role, r.address, r.kind, r.created_by, r.created_at, r.id FROM site_roles "
      "r "
      "JOIN sites s ON s.id = r.site_id";
  std::vector<store::Value> params;
  if (!site.empty()) {
    sql += " WHERE s.name_norm = ?";
    params.emplace_back(inventory::normalize_words(site));
  }
  sql += " ORDER BY s.name, r.role, r.address";
  auto rows = ctx.store->query(sql, params);
  if (!rows) return fail_with(rows.error());
  json out = json::array();
  for (const auto& r : *rows) {
    json entry = {{"site", r.text(0)}, {"role", r.text(1)},     {"address", r.text(2)},
                  {"kind", r.text(3)}, {"bound_by", r.text(4)}, {"bound_at", r.text(5)}};
    if (r.text(3) == "dns") {
      const store::Value id[] = {r.integer(6)};
      auto seen = ctx.store->query(
          "SELECT address, first_seen, last_seen, expires_at FROM dns_addresses "
          "WHERE site_role_id = ? ORDER BY last_seen DESC, address",
          id);
      if (!seen) return fail_with(seen.error());
      json addresses = json::array();
      for (const auto& a : *seen) {
        addresses.push_back({{"address", a.text(0)},
                             {"first_seen", a.text(1)},
                             {"last_seen", a.text(2)},
                             {"expires_at", a.text(3)}});
      }
      entry["resolved"] = addresses;
    }
    out.push_back(entry);
  }
  if (as_json) {
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<32} {:<24} {:<28} {}\n", "SITE", "ROLE", "ADDRESS", "RESOLVED");
  for (const auto& e : out) {
    std::string resolved;
    if (e.contains("resolved")) {
      for (const auto& a : e["resolved"]) {
        resolved += (resolved.empty() ? "" : " ") + a["address"].get<std::string>();
      }
      if (resolved.empty()) resolved = "(not yet: vigie roles resolve)";
    }
    std::cout << fmt::format("{:<32} {:<24} {:<28} {}\n", e["site"].get<std::string>(),
                             e["role"].get<std::string>(), e["address"].get<std::string>(),
                             resolved);
  }
  return 0;
}

int roles_resolve(AppContext& ctx, bool force, bool as_json) {
  np::ResolverOptions options;
  options.server = ctx.config.netpolicy_dns_server;
  core::Result<std::vector<np::ResolveOutcome>> outcomes = std::vector<np::ResolveOutcome>{};
  int rc = in_transaction(ctx, [&]() -> core::Status {
    outcomes = np::resolve_roles(*ctx.store, options, actor(), force);
    if (!outcomes) return tl::unexpected(outcomes.error());
    return {};
  });
  if (rc != 0) return rc;
  json out = json::array();
  for (const auto& o : *outcomes) {
    out.push_back({{"role", o.role},
                   {"name", o.name},
                   {"current", o.current},
                   {"added", o.added},
                   {"removed", o.removed},
                   {"error", o.error.empty() ? json() : json(o.error)}});
    if (!o.error.empty()) {
      std::cerr << fmt::format("vigie: {} ({}): {}; keeping its last addresses\n", o.name, o.role,
                               o.error);
      rc = 1;
    }
  }
  if (as_json) {
    std::cout << dump(out) << "\n";
  } else {
    for (const auto& o : *outcomes) {
      std::cout << fmt::format(
          "{} ({}): {}{}{}\n", o.name, o.role,
          o.current.empty() ? "-" : fmt::format("{}", fmt::join(o.current, " ")),
          o.added.empty() ? "" : fmt::format("; new {}", fmt::join(o.added, " ")),
          o.removed.empty() ? "" : fmt::format("; gone {}", fmt::join(o.removed, " ")));
    }
  }
  return rc;
}

int firewall_import(AppContext& ctx, const std::string& file, std::string format,
                    const std::string& ruleset, const std::vector<std::string>& interfaces,
                    bool skip_unsupported, bool as_json) {
  if (format.empty()) format = file.ends_with(".json") ? "nft-json" : "csv";
  core::Result<np::RuleSet> set = core::fail(core::ErrorCode::kUsage, "");
  if (format == "csv") {
    set = np::read_rules_csv(file, ruleset);
  } else if (format == "nft-json" || format == "nft") {
    auto text = core::read_file(file);
    if (!text) return fail_with(text.error());
    np::NftImportOptions options;
    options.ruleset = ruleset.empty() ? std::string("nftables") : ruleset;
    options.skip_unsupported = skip_unsupported;
    for (const auto& i : interfaces) {
      const auto eq = i.find('=');
      if (eq == std::string::npos) {
        return fail_with({core::ErrorCode::kUsage, "expected IFNAME=SITE/ZONE", i});
      }
      options.interfaces[i.substr(0, eq)] = i.substr(eq + 1);
    }
    set = np::read_rules_nft_json(*text, file, options);
  } else {
    return fail_with({core::ErrorCode::kUsage, "--format: csv or nft-json", format});
  }
  if (!set) return fail_with(set.error());
  for (const auto& w : set->warnings) std::cerr << "vigie: warning: " << w << "\n";
  int rc = in_transaction(
      ctx, [&]() -> core::Status { return np::save_ruleset(*ctx.store, *set, file, actor()); });
  if (rc != 0) return rc;
  if (as_json) {
    std::cout << dump({{"ruleset", set->name},
                       {"rules", set->rules.size()},
                       {"warnings", set->warnings}})
              << "\n";
  } else {
    std::cout << fmt::format("{}: ruleset '{}' stored, {} rules\n", file, set->name,
                             set->rules.size());
  }
  return 0;
}

int firewall_list(AppContext& ctx, bool as_json) {
  auto rules = np::load_rules(*ctx.store);
  if (!rules) return fail_with(rules.error());
  if (as_json) {
    json out = json::array();
    for (const auto& r : *rules) {
      out.push_back({{"id", r.id},
                     {"ruleset", r.ruleset},
                     {"position", r.position},
                     {"name", r.name},
                     {"source", np::format_endpoint(r.source)},
                     {"destination", np::format_endpoint(r.destination)},
                     {"protocol", np::to_string(r.protocol)},
                     {"ports", np::format_ports(r.ports)},
                     {"action", np::to_string(r.action)},
                     {"provenance", r.provenance.document + " " + r.provenance.locator}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<12} {:>4}  {:<24} {:<30} {:<30} {:<5} {:<14} {}\n", "RULESET", "POS",
                           "NAME", "SOURCE", "DESTINATION", "PROTO", "PORTS", "ACTION");
  for (const auto& r : *rules) {
    std::cout << fmt::format("{:<12} {:>4}  {:<24} {:<30} {:<30} {:<5} {:<14} {}\n", r.ruleset,
                             r.position, r.name, np::format_endpoint(r.source),
                             np::format_endpoint(r.destination), np::to_string(r.protocol),
                             np::format_ports(r.ports), np::to_string(r.action));
  }
  return 0;
}

int mitigations(AppContext& ctx, bool as_json) {
  auto checks = np::check_mitigations(*ctx.store);
  if (!checks) return fail_with(checks.error());
  json out = json::array();
  for (const auto& c : *checks) {
    json ports = json::array();
    for (const auto& p : c.ports) ports.push_back(p.name);
    out.push_back({{"finding_id", c.finding_id},
                   {"device_id", c.device_id},
                   {"advisory", c.advisory},
                   {"ports", ports},
                   {"in_place", c.in_place},
                   {"evidence", c.evidence}});
  }
  if (as_json) {
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>7} {:>6}  {:<18} {:<26} {}\n", "FINDING", "DEVICE", "ADVISORY",
                           "PORTS TO BLOCK", "IN PLACE");
  for (const auto& c : out) {
    std::string ports;
    for (const auto& p : c["ports"]) ports += (ports.empty() ? "" : " ") + p.get<std::string>();
    std::cout << fmt::format("{:>7} {:>6}  {:<18} {:<26} {}\n", c["finding_id"].get<std::int64_t>(),
                             c["device_id"].get<std::int64_t>(), c["advisory"].get<std::string>(),
                             ports, c["in_place"].get<bool>() ? "yes" : "NO");
    for (const auto& e : c["evidence"]) std::cout << "          " << e.get<std::string>() << "\n";
  }
  return 0;
}

int exposure(AppContext& ctx, std::int64_t device, int port, const std::string& from, bool all,
             bool as_json) {
  np::ExposureQuery query;
  if (device != 0) query.device_id = device;
  if (port != 0) {
    if (port < 1 || port > 65535)
      return fail_with({core::ErrorCode::kUsage, "port out of range", ""});
    query.port = static_cast<std::uint16_t>(port);
  }
  auto analysed = np::exposure_of(*ctx.store, query);
  if (!analysed) return fail_with(analysed.error());
  const auto& [input, report] = *analysed;
  std::optional<std::int64_t> from_zone;
  if (!from.empty()) {
    auto zone = np::find_zone(*ctx.store, from);
    if (!zone) return fail_with(zone.error());
    from_zone = zone->id;
  }
  // Whether a zone's answer is shown: --from narrows to one zone; by default only other zones
  // that get through.
  const auto shown = [&](const np::PortExposure& e, const np::ZoneReach& z) {
    if (from_zone && z.zone_id != *from_zone) return false;
    return all || (z.reach != np::Reach::kBlocked && z.zone_id != e.device_zone_id);
  };
  std::map<std::int64_t, const np::Zone*> zones;
  for (const auto& z : input.zones) zones[z.id] = &z;
  std::map<std::int64_t, std::string> labels;
  auto status = ctx.store->for_each(
      "SELECT d.id, d.vendor, d.product, COALESCE(d.serial_number, '') FROM devices d", {},
      [&](const store::Row& r) {
        labels[r.integer(0)] = fmt::format("{} {} {}", r.text(1), r.text(2), r.text(3));
        return true;
      });
  if (!status) return fail_with(status.error());
  const auto zone_name = [&](std::int64_t id) {
    auto it = zones.find(id);
    return it == zones.end() ? std::string("-") : it->second->site + "/" + it->second->name;
  };
  if (as_json) {
    json exposures = json::array();
    for (const auto& e : report.exposures) {
      if (!std::any_of(e.zones.begin(), e.zones.end(),
                       [&](const auto& z) { return shown(e, z); })) {
        continue;
      }
      json reached_from = json::array();
      for (const auto& z : e.zones) {
        if (!shown(e, z)) continue;
        reached_from.push_back(
            {{"zone_id", z.zone_id},
             {"zone", zone_name(z.zone_id)},
             {"reach", np::to_string(z.reach)},
             {"decided_by", np::decided_by(input, z)},
             {"rule_id",
              z.decider == np::Decider::kRule ? json(np::deciding_rule_id(input, z)) : json()}});
      }
      exposures.push_back({{"device_id", e.device_id},
                           {"device", labels[e.device_id]},
                           {"ip", e.device_ip.to_string()},
                           {"zone", zone_name(e.device_zone_id)},
                           {"protocol", np::to_string(e.port.protocol)},
                           {"port", e.port.port},
                           {"service", e.port.name},
                           {"named_by", e.port.named_by},
                           {"from", reached_from}});
    }
    json rules = json::array();
    for (const auto& f : report.rule_findings) {
      rules.push_back({{"rule_id", f.rule_id}, {"rule", f.rule}, {"kind", f.kind}, {"by", f.by}});
    }
    std::cout << dump({{"flat_network", report.flat_network},
                       {"exposures", exposures},
                       {"rule_findings", rules}})
              << "\n";
    return 0;
  }
  if (report.flat_network) {
    std::cerr << "vigie: no firewall rule imported (vigie firewall import): every zone is taken "
                 "to reach every device\n";
  }
  std::cout << fmt::format("{:>6}  {:<40} {:<15} {:>5}  {:<36} {:<9} {}\n", "DEVICE", "NAME", "IP",
                           "PORT", "REACHABLE FROM", "REACH", "DECIDED BY");
  size_t lines = 0;
  for (const auto& e : report.exposures) {
    for (const auto& z : e.zones) {
      if (!shown(e, z)) continue;
      ++lines;
      std::cout << fmt::format("{:>6}  {:<40} {:<15} {:>5}  {:<36} {:<9} {}\n", e.device_id,
                               labels[e.device_id].substr(0, 40), e.device_ip.to_string(),
                               fmt::format("{}/{}", e.port.port, np::to_string(e.port.protocol)),
                               zone_name(z.zone_id), np::to_string(z.reach),
                               np::decided_by(input, z));
    }
  }
  std::cerr << fmt::format(
      "vigie: {} (device, port, zone) exposures shown over {} devices' ports\n", lines,
      report.exposures.size());
  for (const auto& f : report.rule_findings) {
    std::cout << fmt::format("rule {} is {}: it never decides, {} comes first\n", f.rule, f.kind,
                             f.by);
  }
  return 0;
}

}  // namespace

NetpolicyCommands::NetpolicyCommands(CLI::App& app) {
  auto* zones = app.add_subcommand("zones", "Network zones: kind and networks");
  zones->require_subcommand(1);
  zones_list_ = zones->add_subcommand("list", "List zones with their kind and networks");
  zones_list_->add_flag("--json", json_, "JSON on stdout");
  zones_set_ = zones->add_subcommand("set", "Set a zone's kind and networks");
  zones_set_->add_option("ZONE", zone_, "Zone, or SITE/ZONE")->required();
  zones_set_
      ->add_option("ASSIGNMENTS", assignments_,
                   "kind=medical|clinical|office|servers|dmz|internet|other, "
                   "networks=PREFIX[,PREFIX...]")
      ->required();

  zones_add_ = zones->add_subcommand("add", "Add a zone without devices (DMZ, Internet, vendor)");
  zones_add_->add_option("SITE", site_, "Site name")->required();
  zones_add_->add_option("ZONE", zone_, "Zone name")->required();
  zones_add_->add_option("ASSIGNMENTS", assignments_, "kind=... networks=PREFIX[,PREFIX...]");

  auto* roles =
      app.add_subcommand("roles", "Which addresses play which role at a site (PACS, NTP...)");
  roles->require_subcommand(1);
  roles_bind_ = roles->add_subcommand("bind", "Bind an address, prefix or DNS name to a role");
  roles_unbind_ = roles->add_subcommand("unbind", "Remove a role's address");
  for (auto* c : {roles_bind_, roles_unbind_}) {
    c->add_option("SITE", site_, "Site name")->required();
    c->add_option("ROLE", role_, "Role: pacs, ris, ntp, printer, syslog, vendor-remote-service...")
        ->required();
    c->add_option("ADDRESS", address_, "Address, prefix or DNS name")->required();
  }
  roles_list_ = roles->add_subcommand("list", "List role bindings and what DNS names resolved to");
  roles_list_->add_option("--site", site_, "Only this site");
  roles_list_->add_flag("--json", json_, "JSON on stdout");
  roles_resolve_ =
      roles->add_subcommand("resolve", "Resolve the DNS names whose addresses expired");
  roles_resolve_->add_flag("--force", force_, "Resolve every name, expired or not");
  roles_resolve_->add_flag("--json", json_, "JSON on stdout");

  auto* firewall = app.add_subcommand("firewall", "The hospital's existing firewall rules");
  firewall->require_subcommand(1);
  firewall_import_ =
      firewall->add_subcommand("import", "Import a ruleset (replaces one of that name)");
  firewall_import_->add_option("FILE", file_, "CSV (docs/netpolicy.md) or `nft -j list ruleset`")
      ->required();
  firewall_import_->add_option("--format", format_,
                               "csv or nft-json (default: from the extension)");
  firewall_import_->add_option("--ruleset", ruleset_, "Name to store the rules under");
  firewall_import_->add_option(
      "--interface", interfaces_,
      "IFNAME=SITE/ZONE: the zone behind an interface (nft iifname/oifname)");
  firewall_import_->add_flag("--skip-unsupported", skip_unsupported_,
                             "Skip (with a warning) rules whose matches Vigie cannot model");
  firewall_import_->add_flag("--json", json_, "JSON on stdout");
  firewall_list_ = firewall->add_subcommand("list", "List the stored rules in evaluation order");
  firewall_list_->add_flag("--json", json_, "JSON on stdout");

  exposure_ = app.add_subcommand(
      "exposure", "Which zones reach each device's risky ports, and the rule that decides");
  exposure_->add_option("--device", device_, "Only this device");
  exposure_->add_option("--port", port_, "Only this port");
  exposure_->add_option("--from", from_, "Only what this zone reaches (ZONE or SITE/ZONE)");
  exposure_->add_flag("--all", all_, "Every zone's answer, blocked ones included");
  exposure_->add_flag("--mitigations", mitigations_,
                      "Check the findings whose mitigation is to block ports");
  exposure_->add_flag("--json", json_, "JSON on stdout");
}

std::optional<int> NetpolicyCommands::run(AppContext& ctx) const {
  if (zones_list_->parsed()) return zones_list(ctx, json_);
  if (zones_set_->parsed()) return zones_set(ctx, zone_, assignments_);
  if (zones_add_->parsed()) return zones_add(ctx, site_, zone_, assignments_);
  if (roles_bind_->parsed() || roles_unbind_->parsed()) {
    auto site = site_id(ctx, site_);
    if (!site) return fail_with(site.error());
    const bool bind = roles_bind_->parsed();
    return in_transaction(ctx, [&]() -> core::Status {
      return bind ? np::bind_role(*ctx.store, *site, role_, address_, actor())
                  : np::unbind_role(*ctx.store, *site, role_, address_, actor());
    });
  }
  if (roles_list_->parsed()) return roles_list(ctx, site_, json_);
  if (roles_resolve_->parsed()) return roles_resolve(ctx, force_, json_);
  if (firewall_import_->parsed()) {
    return firewall_import(ctx, file_, format_, ruleset_, interfaces_, skip_unsupported_, json_);
  }
  if (firewall_list_->parsed()) return firewall_list(ctx, json_);
  if (exposure_->parsed()) {
    if (mitigations_) return mitigations(ctx, json_);
    return exposure(ctx, device_, port_, from_, all_, json_);
  }
  return std::nullopt;
}

}  // namespace vigie::apps
