#include "profile_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/netpolicy/mud.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/netpolicy/port_table.h"
#include "vigie/store/store.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace np = vigie::netpolicy;

// The format of FILE: given ("table" is CSV or YAML by the name), else by its extension.
core::Result<std::string> import_format(const fs::path& path, const std::string& given) {
  const std::string ext = core::ascii_lower(path.extension().string());
  const bool csv_name = ext == ".csv" || ext == ".tsv";
  if (given == "csv" || given == "yaml" || given == "mud") return given;
  if (given == "table") return std::string(csv_name ? "csv" : "yaml");
  if (!given.empty()) {
    return core::fail(core::ErrorCode::kUsage,
                      fmt::format("unknown format '{}' (table, yaml, csv or mud)", given));
  }
  if (csv_name) return std::string("csv");
  if (ext == ".yaml" || ext == ".yml") return std::string("yaml");
  if (ext == ".json") return std::string("mud");
  return core::fail(core::ErrorCode::kUsage,
                    fmt::format("cannot tell the format of '{}': give --format", path.string()));
}

core::Result<np::Profile> read_profile(const fs::path& path, const std::string& format) {
  if (format == "csv") return np::read_port_table_csv(path);
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  if (format == "yaml") return np::read_port_table_yaml(*text, path.string());
  auto mud = np::read_mud(*text, path.string());
  if (!mud) return tl::unexpected(mud.error());
  for (const auto& w : mud->warnings) std::cerr << "vigie: warning: " << w << "\n";
  return std::move(mud->profile);
}

np::Actor actor() { return {current_user(), "cli", {}}; }

int import(AppContext& ctx, const std::string& file, const std::string& given,
           const std::string& name, bool as_json) {
  auto format = import_format(file, given);
  if (!format) return fail_with(format.error());
  auto profile = read_profile(file, *format);
  if (!profile) return fail_with(profile.error());
  if (!name.empty()) profile->name = name;
  auto tx = store::Transaction::begin(*ctx.store);
  if (!tx) return fail_with(tx.error());
  const std::string kind = *format == "mud" ? "mud" : "table";
  if (auto saved = np::save_profile(*ctx.store, *profile, kind, actor()); !saved) {
    return fail_with(saved.error());
  }
  if (auto committed = tx->commit(); !committed) return fail_with(committed.error());
  if (as_json) {
    std::cout << dump({{"name", profile->name},
                       {"id", profile->id},
                       {"format", *format},
                       {"intents", profile->intents.size()}})
              << "\n";
  } else {
    std::cout << fmt::format("profile {}: {} intents imported from {} ({})\n", profile->name,
                             profile->intents.size(), file, *format);
  }
  return 0;
}

core::Result<np::Profile> stored(AppContext& ctx, const std::string& name) {
  auto found = np::find_profile(*ctx.store, name);
  if (!found) return tl::unexpected(found.error());
  if (!*found) {
    return core::fail(core::ErrorCode::kNotFound, fmt::format("no profile named '{}'", name));
  }
  return std::move(**found);
}

int export_profile(AppContext& ctx, const std::string& name, const std::string& format,
                   const std::string& last_update) {
  auto profile = stored(ctx, name);
  if (!profile) return fail_with(profile.error());
  if (format == "yaml") {
    std::cout << np::write_port_table_yaml(*profile);
    return 0;
  }
  if (format != "mud") {
    return fail_with(
        {core::ErrorCode::kUsage, fmt::format("unknown format '{}' (mud or yaml)", format), {}});
  }
  const std::string when = last_update.empty() ? core::format_utc(core::utc_now()) : last_update;
  if (auto t = core::parse_utc(when); !t) {
    return fail_with({core::ErrorCode::kUsage,
                      fmt::format("--last-update '{}' is not a UTC date-time", when),
                      {}});
  }
  auto mud = np::write_mud(*profile, when);
  if (!mud) return fail_with(mud.error());
  std::cout << *mud;
  return 0;
}

json summary_json(const np::Profile& p) {
  return {{"name", p.name},
          {"vendor", p.vendor},
          {"product", p.product},
          {"versions", p.versions},
          {"source", p.source},
          {"mud_url", p.mud_url},
          {"intents", p.intents.size()}};
}

int list(AppContext& ctx, bool as_json) {
  auto profiles = np::load_profiles(*ctx.store);
  if (!profiles) return fail_with(profiles.error());
  if (as_json) {
    json out = json::array();
    for (const auto& p : *profiles) out.push_back(summary_json(p));
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<36} {:<12} {:<28} {:>7}  {}\n", "NAME", "VENDOR", "PRODUCT",
                           "INTENTS", "VERSIONS");
  for (const auto& p : *profiles) {
    std::cout << fmt::format("{:<36} {:<12} {:<28} {:>7}  {}\n", p.name, p.vendor, p.product,
                             p.intents.size(), p.versions.empty() ? "all" : p.versions);
  }
  return 0;
}

json intent_json(const np::Intent& i) {
  return {{"direction", np::to_string(i.direction)},
          {"peer", np::format_peer(i.peer)},
          {"peer_kind", np::to_string(i.peer.kind)},
          {"protocol", np::to_string(i.protocol)},
          {"ports", np::format_ports(i.ports)},
          {"source_ports", np::format_ports(i.source_ports)},
          {"purpose", i.purpose},
          {"cleartext", i.cleartext},
          {"provenance",
           {{"document", i.provenance.document},
            {"locator", i.provenance.locator},
            {"quote", i.provenance.quote}}}};
}

int show(AppContext& ctx, const std::string& name, bool as_json) {
  auto profile = stored(ctx, name);
  if (!profile) return fail_with(profile.error());
  if (as_json) {
    json out = summary_json(*profile);
    out["intents"] = json::array();
    for (const auto& i : profile->intents) out["intents"].push_back(intent_json(i));
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "{} — {} {}{}\nsource: {}\n\n", profile->name, profile->vendor, profile->product,
      profile->versions.empty() ? "" : " " + profile->versions, profile->source);
  std::cout << fmt::format("{:<11} {:<24} {:<5} {:<24} {:<9} {:<40} {}\n", "DIRECTION", "PEER",
                           "PROTO", "PORTS", "CLEARTEXT", "PURPOSE", "FROM");
  for (const auto& i : profile->intents) {
    std::cout << fmt::format("{:<11} {:<24} {:<5} {:<24} {:<9} {:<40} {}\n",
                             np::to_string(i.direction), np::format_peer(i.peer),
                             np::to_string(i.protocol), np::format_ports(i.ports),
                             i.cleartext ? "yes" : "no", i.purpose, i.provenance.locator);
  }
  return 0;
}

}  // namespace

ProfileCommands::ProfileCommands(CLI::App& app) {
  auto* profiles =
      app.add_subcommand("profiles", "Device communication profiles (port tables, MUD)");
  profiles->require_subcommand(1);
  import_ = profiles->add_subcommand("import",
                                     "Import a vendor port table or a MUD file (all or nothing)");
  import_->add_option("FILE", file_, "CSV or YAML port table, or MUD JSON")->required();
  import_->add_option("--format", format_, "table, yaml, csv or mud (default: by extension)");
  import_->add_option("--name", name_, "Profile name (default: from vendor and product)");
  import_->add_flag("--json", json_, "Print the outcome as JSON");
  export_ = profiles->add_subcommand("export", "Write a stored profile on stdout");
  export_->add_option("NAME", name_, "Profile name")->required();
  export_->add_option("--format", format_, "mud (default) or yaml");
  export_->add_option("--last-update", last_update_, "MUD last-update (default: now, UTC)");
  list_ = profiles->add_subcommand("list", "List stored profiles");
  list_->add_flag("--json", json_, "JSON on stdout");
  show_ = profiles->add_subcommand("show", "Show a profile's intents with their provenance");
  show_->add_option("NAME", name_, "Profile name")->required();
  show_->add_flag("--json", json_, "JSON on stdout");
}

std::optional<int> ProfileCommands::run(AppContext& ctx) const {
  if (import_->parsed()) return import(ctx, file_, format_, name_, json_);
  if (export_->parsed()) {
    return export_profile(ctx, name_, format_.empty() ? "mud" : format_, last_update_);
  }
  if (list_->parsed()) return list(ctx, json_);
  if (show_->parsed()) return show(ctx, name_, json_);
  return std::nullopt;
}

}  // namespace vigie::apps
