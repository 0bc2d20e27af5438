// vigie: the command line. Thin: parses arguments, calls the modules, prints tables for
// people and one JSON document with --json.
#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "access_commands.h"
#include "advisory_commands.h"
#include "app_context.h"
#include "audit_commands.h"
#include "backup_commands.h"
#include "backups_commands.h"
#include "conformance_commands.h"
#include "export_commands.h"
#include "netpolicy_commands.h"
#include "notify_commands.h"
#include "offline_commands.h"
#include "phi_commands.h"
#include "policy_commands.h"
#include "profile_commands.h"
#include "remote_commands.h"
#include "session_commands.h"
#include "vigie/advisory/findings.h"
#include "vigie/api/tls_identity.h"
#include "vigie/core/home.h"
#include "vigie/inventory/import.h"
#include "vigie/inventory/inventory.h"
#include "vigie/remote/pki.h"

namespace {

using namespace vigie;
using nlohmann::json;

int report(const core::Error& e) {
  std::cerr << "vigie: " << e.to_string() << "\n";
  return core::exit_code(e);
}

std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

advisory::Actor actor_of(const apps::AppContext& ctx) {
  static const core::SystemClock kClock;
  return {apps::current_user(), kClock, advisory::DeadlinePolicy::from(ctx.config)};
}

// After the inventory changed: the findings follow (an upgraded device closes its own).
core::Result<std::optional<advisory::AssessSummary>> reassess(apps::AppContext& ctx,
                                                              std::int64_t device_id) {
  auto advisories = ctx.store->query_int("SELECT COUNT(*) FROM advisories");
  if (!advisories) return tl::unexpected(advisories.error());
  if (*advisories == 0) return std::nullopt;
  auto summary = device_id == 0 ? advisory::assess_all(*ctx.store, actor_of(ctx))
                                : advisory::assess_device(*ctx.store, device_id, actor_of(ctx));
  if (!summary) return tl::unexpected(summary.error());
  return *summary;
}

int cmd_init(const std::optional<std::string>& home_flag, const std::string& store_url, bool demo) {
  auto home = core::resolve_home(home_flag);
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  if (ec) return report({core::ErrorCode::kIo, "cannot create the home: " + ec.message(), home});
  ::chmod(home.c_str(), 0700);
  auto config_file = core::config_path(home);
  if (!std::filesystem::exists(config_file)) {
    std::string text = core::default_config_text();
    if (!store_url.empty()) {
      auto pos = text.find("url = \"sqlite:vigie.db\"");
      text.replace(pos, std::string_view("url = \"sqlite:vigie.db\"").size(),
                   fmt::format("url = {}", json(store_url).dump()));
    }
    std::ofstream(config_file) << text;
  }
  auto ctx = apps::open_home(home.string());
  if (!ctx) return report(ctx.error());
  auto made = api::ensure_tls_identity(home / ctx->config.server_tls_cert,
                                       home / ctx->config.server_tls_key);
  if (!made) return report(made.error());
  std::cout << fmt::format(
      "Vigie home: {}\nconfiguration: {}\nstore: {} (schema version {})\n", home.string(),
      config_file.string(),
      ctx->store->backend() == store::Backend::kSqlite ? "SQLite" : "PostgreSQL",
      ctx->store->schema_version());
  if (*made) std::cout << "TLS: created a self-signed server certificate\n";
  auto ca_dir = home / ctx->config.remote_ca_dir;
  auto ca = remote::ensure_ca(ca_dir);
  if (!ca) return report(ca.error());
  auto ca_info = remote::cert_info_file(remote::ca_cert_path(ca_dir));
  if (!ca_info) return report(ca_info.error());
  std::cout << fmt::format("remote-service CA{}: {} (SHA-256 {})\n", *ca ? " created" : "",
                           remote::ca_cert_path(ca_dir).string(), ca_info->fingerprint);
  if (!apps::PhiCommands::init_home(home)) return 1;
  if (demo) {
    auto loaded = apps::load_demo_if_empty(*ctx);
    if (!loaded) return report(loaded.error());
    std::cout << (*loaded == 0 ? std::string("demo: the store already has devices, not loaded\n")
                               : fmt::format("demo: {} devices and 3 letters loaded\n", *loaded));
  }
  return 0;
}

struct ImportArgs {
  std::string file;
  std::string format;
  bool ignore_unknown = false;
  bool report_all = false;
  bool progress = false;
  bool json = false;
};

int cmd_import(apps::AppContext& ctx, const ImportArgs& a) {
  inventory::ImportFormat format = inventory::guess_import_format(a.file);
  if (!a.format.empty()) {
    auto f = inventory::parse_import_format(a.format);
    if (!f) return report({core::ErrorCode::kUsage, "--format must be csv, glpi or nmap", ""});
    format = *f;
  }
  if (!std::filesystem::is_regular_file(a.file)) {
    return report({core::ErrorCode::kIo, "no such file", a.file});
  }
  inventory::ImportOptions options;
  options.ignore_unknown_columns = a.ignore_unknown;
  options.report_all = a.report_all;
  if (a.progress) {
    options.on_progress = [](size_t n) { std::cerr << "vigie: " << n << " records read\n"; };
  }
  auto result = inventory::import_devices(*ctx.store, a.file, format, options);
  const auto& s = result.summary;
  if (a.json) {
    json errors = json::array();
    for (const auto& e : result.errors)
      errors.push_back({{"where", e.where}, {"reason", e.message}});
    std::cout << dump({{"committed", result.ok()},
                       {"records", s.records},
                       {"created", result.ok() ? s.created : 0},
                       {"updated", result.ok() ? s.updated : 0},
                       {"open_ports", result.ok() ? s.ports : 0},
                       {"errors", errors}})
              << "\n";
  }
  if (!result.ok()) {
    for (const auto& e : result.errors) std::cerr << "vigie: " << e.to_string() << "\n";
    std::cerr << fmt::format("vigie: import refused ({} error{}); nothing was changed\n",
                             result.errors.size(), result.errors.size() == 1 ? "" : "s");
    return core::exit_code(result.errors.front());
  }
  if (!a.json) {
    std::cout << fmt::format("imported {}: {} records, {} devices created, {} updated", a.file,
                             s.records, s.created, s.updated);
    if (format == inventory::ImportFormat::kNmap)
      std::cout << fmt::format(", {} open ports", s.ports);
    std::cout << "\n";
  }
  auto assessed = reassess(ctx, 0);
  if (!assessed) return report(assessed.error());
  if (*assessed && !a.json) {
    std::cout << fmt::format("findings: {} opened, {} closed, {} reopened\n", (*assessed)->opened,
                             (*assessed)->closed, (*assessed)->reopened);
  }
  return 0;
}

std::string cut(std::string_view s, size_t width) {
  if (s.size() <= width) return std::string(s);
  return std::string(s.substr(0, width - 1)) + "~";
}

int cmd_list(apps::AppContext& ctx, const inventory::DeviceFilter& filter, bool as_json) {
  size_t n = 0;
  std::string buffer;  // JSON is written in 1 MiB blocks
  if (as_json) {
    std::cout << "[";
  } else {
    std::cout << fmt::format("{:>6}  {:<22} {:<26} {:<10} {:<12} {:<28} {:<15} {}\n", "ID",
                             "VENDOR", "PRODUCT", "VERSION", "SERIAL", "SITE / ZONE", "IP",
                             "STATUS");
  }
  auto st = inventory::for_each_device(*ctx.store, filter, [&](const inventory::Device& d) {
    if (as_json) {
      buffer += n == 0 ? "\n" : ",\n";
      core::JsonWriter w(buffer);
      inventory::write_json(w, d);
      if (buffer.size() > (1 << 20)) {
        std::cout << buffer;
        buffer.clear();
      }
    } else {
      std::string place = d.site.empty() ? "" : d.site + (d.zone.empty() ? "" : " / " + d.zone);
      std::string ip = d.interfaces.empty() ? "" : d.interfaces.front().ip;
      std::cout << fmt::format("{:>6}  {:<22} {:<26} {:<10} {:<12} {:<28} {:<15} {}\n", d.id,
                               cut(d.vendor, 22), cut(d.product, 26), cut(d.software_version, 10),
                               cut(d.serial_number, 12), cut(place, 28), ip,
                               inventory::to_string(d.status));
    }
    ++n;
    return true;
  });
  if (as_json) std::cout << buffer << (n == 0 ? "]\n" : "\n]\n");
  if (!st) return report(st.error());
  if (!as_json) std::cerr << fmt::format("{} device{}\n", n, n == 1 ? "" : "s");
  return 0;
}

int cmd_show(apps::AppContext& ctx, std::int64_t id, bool as_json) {
  auto d = inventory::get_device(*ctx.store, id);
  if (!d) return report(d.error());
  json j = json::parse(inventory::to_json_text(*d));
  if (as_json) {
    std::cout << dump(j) << "\n";
    return 0;
  }
  for (const auto& f : inventory::fields()) {
    if (f.field == inventory::Field::kIp || f.field == inventory::Field::kMac ||
        f.field == inventory::Field::kHostname || f.field == inventory::Field::kVlan ||
        f.field == inventory::Field::kZoneVlan || f.field == inventory::Field::kZoneTrust) {
      continue;
    }
    std::string key(f.name);
    json v = j.contains(key) ? j[key] : json();
    if (key == "zone" && v.is_object()) {
      v = fmt::format("{} (vlan {}, trust {})", v["name"].get<std::string>(),
                      v["vlan"].is_null() ? "-" : v["vlan"].dump(), v["trust"].get<std::string>());
    }
    std::cout << fmt::format("{:<22} {}\n", key,
                             v.is_null()     ? "-"
                             : v.is_string() ? v.get<std::string>()
                                             : v.dump());
  }
  std::cout << fmt::format("{:<22} {}\n", "identified", d->identified ? "yes" : "no (from a scan)");
  for (const auto& i : d->interfaces) {
    std::cout << fmt::format("{:<22} ip {} mac {} host {} vlan {}\n", "interface",
                             i.ip.empty() ? "-" : i.ip, i.mac.empty() ? "-" : i.mac,
                             i.hostname.empty() ? "-" : i.hostname,
                             i.vlan ? std::to_string(*i.vlan) : "-");
  }
  for (const auto& p : d->open_ports) {
    std::cout << fmt::format("{:<22} {}/{} on {} {} {} (seen {})\n", "open port", p.port,
                             p.protocol, p.ip, p.service, p.service_product, p.seen_at);
  }
  return 0;
}

int cmd_set(apps::AppContext& ctx, std::int64_t id, const std::vector<std::string>& assignments) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report({core::ErrorCode::kUsage, fmt::format("'{}' is not key=value", a), ""});
    }
    pairs.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  if (auto st = inventory::set_device_fields(*ctx.store, id, pairs); !st) return report(st.error());
  std::cout << fmt::format("device {} updated\n", id);
  auto assessed = reassess(ctx, id);
  if (!assessed) return report(assessed.error());
  if (*assessed) {
    std::cout << fmt::format("findings: {} opened, {} closed, {} reopened, {} updated\n",
                             (*assessed)->opened, (*assessed)->closed, (*assessed)->reopened,
                             (*assessed)->updated);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigie: medical-device cybersecurity for hospitals"};
  app.require_subcommand(1);
  std::optional<std::string> home;
  app.add_option("--home", home, "Data directory (default: $VIGIE_HOME, ~/.local/share/vigie)");

  std::string store_url;
  auto* init = app.add_subcommand("init", "Create the home: configuration, store, TLS identity");
  init->add_option("--store", store_url, "Store URL (sqlite:PATH or postgresql://...)");
  bool init_demo = false;
  init->add_flag("--demo", init_demo,
                 "Load the demo hospital and the letters it received (into an empty store)");

  auto* devices = app.add_subcommand("devices", "The device inventory");
  devices->require_subcommand(1);
  ImportArgs import_args;
  auto* import = devices->add_subcommand("import", "Import devices (all or nothing)");
  import->add_option("FILE", import_args.file, "CSV, GLPI JSON or nmap XML file")->required();
  import->add_option("--format", import_args.format, "csv, glpi or nmap (default: guessed)");
  import->add_flag("--ignore-unknown", import_args.ignore_unknown, "Skip unknown CSV columns");
  import->add_flag("--report", import_args.report_all, "List every bad record, change nothing");
  import->add_flag("--progress", import_args.progress, "Print progress on stderr");
  import->add_flag("--json", import_args.json, "Print the outcome as JSON");

  inventory::DeviceFilter filter;
  bool list_json = false;
  auto* list = devices->add_subcommand("list", "List devices");
  list->add_option("--zone", filter.zone, "Zone name, or SITE/ZONE");
  list->add_option("--vendor", filter.vendor, "Vendor (normalised: any spelling or alias)");
  list->add_option("--site", filter.site, "Site name");
  list->add_option("--status", filter.status, "in-service, standalone, disconnected...");
  list->add_option("--limit", filter.limit, "At most this many devices");
  list->add_option("--offset", filter.offset, "Skip this many devices");
  list->add_flag("--json", list_json, "One JSON array of devices on stdout");

  std::int64_t show_id = 0;
  bool show_json = false;
  auto* show = devices->add_subcommand("show", "Show one device");
  show->add_option("ID", show_id, "Device id")->required();
  show->add_flag("--json", show_json, "JSON on stdout");

  std::int64_t set_id = 0;
  std::vector<std::string> assignments;
  auto* set = devices->add_subcommand("set", "Change fields of a device");
  set->add_option("ID", set_id, "Device id")->required();
  set->add_option("ASSIGNMENTS", assignments, "key=value (field names as in CSV)")->required();

  apps::AdvisoryCommands advisory_commands(app);
  apps::ConformanceCommands conformance_commands(app);
  apps::NetpolicyCommands netpolicy_commands(app);
  apps::PolicyCommands policy_commands(app);
  apps::ProfileCommands profile_commands(app);
  apps::PhiCommands phi_commands(app);
  apps::BackupsCommands backups_commands(app);
  apps::BackupCommands backup_commands(app);
  apps::AuditCommands audit_commands(app);
  apps::NotifyCommands notify_commands(app);
  apps::ExportCommands export_commands(app);
  apps::OfflineCommands offline_commands(app);
  apps::RemoteCommands remote_commands(app);
  apps::AccessCommands access_commands(app);
  apps::SessionCommands session_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (init->parsed()) return cmd_init(home, store_url, init_demo);
  if (auto rc = advisory_commands.run_without_home()) return *rc;
  if (auto rc = policy_commands.run_without_home()) return *rc;
  if (auto rc = phi_commands.run(home)) return *rc;
  if (auto rc = export_commands.run_without_home()) return *rc;
  if (auto rc = offline_commands.run_without_store(home)) return *rc;
  if (auto rc = remote_commands.run_without_home()) return *rc;
  if (auto rc = session_commands.run_without_home()) return *rc;
  auto ctx = apps::open_home(home);
  if (!ctx) return report(ctx.error());
  if (auto rc = advisory_commands.run(*ctx)) return *rc;
  if (auto rc = conformance_commands.run(*ctx)) return *rc;
  if (auto rc = netpolicy_commands.run(*ctx)) return *rc;
  if (auto rc = policy_commands.run(*ctx)) return *rc;
  if (auto rc = profile_commands.run(*ctx)) return *rc;
  if (auto rc = backups_commands.run(*ctx)) return *rc;
  if (auto rc = backup_commands.run(*ctx)) return *rc;
  if (auto rc = audit_commands.run(*ctx)) return *rc;
  if (auto rc = notify_commands.run(*ctx)) return *rc;
  if (auto rc = export_commands.run(*ctx)) return *rc;
  if (auto rc = offline_commands.run(*ctx)) return *rc;
  if (auto rc = remote_commands.run(*ctx)) return *rc;
  if (auto rc = access_commands.run(*ctx)) return *rc;
  if (auto rc = session_commands.run(*ctx)) return *rc;
  if (import->parsed()) return cmd_import(*ctx, import_args);
  if (list->parsed()) return cmd_list(*ctx, filter, list_json);
  if (show->parsed()) return cmd_show(*ctx, show_id, show_json);
  if (set->parsed()) return cmd_set(*ctx, set_id, assignments);
  return 2;
}
