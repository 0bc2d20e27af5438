#include "remote_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/remote/connector.h"
#include "vigie/remote/engineer.h"
#include "vigie/remote/pki.h"
#include "vigie/remote/registry.h"

namespace vigie::apps {
namespace {

using nlohmann::json;

remote::Actor cli_actor() { return {current_user(), "cli", core::format_utc(core::utc_now())}; }

}  // namespace

RemoteCommands::RemoteCommands(CLI::App& app) {
  auto* connectors = app.add_subcommand("connectors", "Remote-service connectors (docs/remote.md)");
  connectors->require_subcommand(1);
  connectors_add_ = connectors->add_subcommand(
      "add", "Add a connector for a zone; prints its one-time enrollment code (valid 1 h)");
  connectors_add_->add_option("NAME", name_, "Connector name")->required();
  connectors_add_->add_option("--zone", zone_, "Zone it serves: ZONE or SITE/ZONE")->required();
  connectors_add_->add_option("--broker", broker_, "Broker URL to print in the instructions");
  connectors_list_ = connectors->add_subcommand("list", "Connectors and their state");
  connectors_list_->add_flag("--json", json_, "One JSON array on stdout");
  connectors_revoke_ = connectors->add_subcommand(
      "revoke", "Revoke a connector and its certificates (its connection is cut)");
  connectors_revoke_->add_option("NAME", name_, "Connector name")->required();
  connectors_token_ =
      connectors->add_subcommand("token", "A new enrollment code for a connector not yet enrolled");
  connectors_token_->add_option("NAME", name_, "Connector name")->required();

  auto* grants = app.add_subcommand("grants", "What engineers may reach through the gateway");
  grants->require_subcommand(1);
  grants_add_ = grants->add_subcommand("add", "Grant an engineer one port of one device");
  grants_add_->add_option("--engineer", engineer_, "Engineer name")->required();
  grants_add_->add_option("--device", device_, "Device id")->required();
  grants_add_->add_option("--port", port_, "TCP port on the device")->required();
  grants_add_->add_option("--until", until_, "Expiry, ISO 8601 UTC (default: until revoked)");
  grants_list_ = grants->add_subcommand("list", "Live grants");
  grants_list_->add_flag("--json", json_, "One JSON array on stdout");
  grants_revoke_ = grants->add_subcommand("revoke", "Revoke a grant (its streams end)");
  grants_revoke_->add_option("ID", grant_id_, "Grant id")->required();

  connect_ = app.add_subcommand(
      "connect", "Engineer: tunnel a local port to a granted device port through the broker");
  connect_->add_option("DEVICE", device_ref_, "Device id");
  connect_->add_option("--port", port_, "Device port");
  connect_->add_option("--local", local_, "Local ADDRESS:PORT to listen on (default 127.0.0.1:0)");
  connect_->add_option("--broker", broker_, "Broker URL, wss://host[:port]")->required();
  connect_->add_option("--ca", ca_file_, "The hospital's CA certificate (PEM)")->required();
  connect_->add_option("--credential-file", credential_file_, "File holding your credential")
      ->required();
  connect_->add_option("--proxy", proxy_, "HTTP proxy, http://[user:password@]host:port");
  connect_->add_flag("--list", list_, "List what you may reach, then exit");
  connect_->add_flag("--json", json_, "With --list: JSON on stdout");
}

std::optional<int> RemoteCommands::run_without_home() const {
  if (connect_->parsed()) return connect();
  return std::nullopt;
}

std::optional<int> RemoteCommands::run(AppContext& ctx) const {
  if (connectors_add_->parsed()) return connectors_add(ctx);
  if (connectors_list_->parsed()) return connectors_list(ctx);
  if (connectors_revoke_->parsed()) {
    if (auto st = remote::revoke_connector(*ctx.store, name_, cli_actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format(
        "connector '{}' revoked: its connection ends within "
        "remote.grant_check_seconds\n",
        name_);
    return 0;
  }
  if (connectors_token_->parsed()) {
    auto fp = remote::cert_info_file(remote::ca_cert_path(ctx.home / ctx.config.remote_ca_dir));
    if (!fp) return fail_with(fp.error());
    auto renewed = remote::renew_enrollment_token(*ctx.store, name_, cli_actor());
    if (!renewed) return fail_with(renewed.error());
    std::cout << fmt::format("enrollment code (valid until {}, shown once):\n  {}\n",
                             renewed->expires_at,
                             remote::enrollment_code(renewed->token, fp->fingerprint));
    return 0;
  }
  if (grants_add_->parsed()) {
    auto g = remote::add_grant(*ctx.store, engineer_, device_, port_, until_, cli_actor());
    if (!g) return fail_with(g.error());
    std::cout << fmt::format("grant {}: {} may reach device {} ({}) port {} at {}{}\n", g->id,
                             g->engineer, g->device_id, g->device, g->port, g->host,
                             g->expires_at.empty() ? "" : " until " + g->expires_at);
    return 0;
  }
  if (grants_list_->parsed()) {
    auto list = remote::live_grants(*ctx.store, core::format_utc(core::utc_now()));
    if (!list) return fail_with(list.error());
    if (json_) {
      json out = json::array();
      for (const auto& g : *list) {
        out.push_back({{"id", g.id},
                       {"engineer", g.engineer},
                       {"device_id", g.device_id},
                       {"device", g.device},
                       {"host", g.host},
                       {"port", g.port},
                       {"expires_at", g.expires_at.empty() ? json() : json(g.expires_at)}});
      }
      std::cout << dump(out) << "\n";
      return 0;
    }
    std::cout << fmt::format("{:>5}  {:<20}  {:>7}  {:<16}  {:>5}  {}\n", "ID", "ENGINEER",
                             "DEVICE", "HOST", "PORT", "EXPIRES");
    for (const auto& g : *list) {
      std::cout << fmt::format("{:>5}  {:<20}  {:>7}  {:<16}  {:>5}  {}\n", g.id, g.engineer,
                               g.device_id, g.host, g.port,
                               g.expires_at.empty() ? "until revoked" : g.expires_at);
    }
    return 0;
  }
  if (grants_revoke_->parsed()) {
    if (auto st = remote::revoke_grant(*ctx.store, grant_id_, cli_actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("grant {} revoked\n", grant_id_);
    return 0;
  }
  return std::nullopt;
}

int RemoteCommands::connectors_add(AppContext& ctx) const {
  auto ca_dir = ctx.home / ctx.config.remote_ca_dir;
  if (auto made = remote::ensure_ca(ca_dir); !made) return fail_with(made.error());
  auto fp = remote::cert_info_file(remote::ca_cert_path(ca_dir));
  if (!fp) return fail_with(fp.error());
  auto added = remote::add_connector(*ctx.store, name_, zone_, cli_actor());
  if (!added) return fail_with(added.error());
  std::string broker = broker_.empty()
                           ? fmt::format("wss://{}:{}", ctx.config.remote_broker_names.front(),
                                         ctx.config.remote_broker_port)
                           : broker_;
  std::string code = remote::enrollment_code(added->token, fp->fingerprint);
  std::cout << fmt::format(
      "connector '{}' added (id {}) for zone {}\n"
      "enrollment code (valid until {}, shown once):\n  {}\n"
      "on the connector's machine:\n"
      "  vigie-connector enroll --dir /var/lib/vigie-connector --broker {} --code {}\n",
      name_, added->id, zone_, added->expires_at, code, broker, code);
  return 0;
}

int RemoteCommands::connectors_list(AppContext& ctx) const {
  auto list = remote::list_connectors(*ctx.store, core::format_utc(core::utc_now()));
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& c : *list) {
      out.push_back(
          {{"id", c.id},
           {"name", c.name},
           {"zone", c.zone},
           {"state", c.state},
           {"enrolled_at", c.enrolled_at.empty() ? json() : json(c.enrolled_at)},
           {"cert_not_after", c.cert_not_after.empty() ? json() : json(c.cert_not_after)}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<20}  {:<24}  {:<20}  {}\n", "ID", "NAME", "ZONE", "STATE",
                           "CERTIFICATE UNTIL");
  for (const auto& c : *list) {
    std::cout << fmt::format("{:>4}  {:<20}  {:<24}  {:<20}  {}\n", c.id, c.name, c.zone, c.state,
                             c.cert_not_after.empty() ? "-" : c.cert_not_after);
  }
  return 0;
}

int RemoteCommands::connect() const {
  auto credential = remote::read_credential(credential_file_);
  if (!credential) return fail_with(credential.error());
  remote::EngineerOptions o;
  o.broker = broker_;
  o.ca_file = ca_file_;
  o.credential = std::move(*credential);
  o.proxy = proxy_;
  o.local = local_;
  if (list_) {
    auto grants = remote::list_reachable(o);
    if (!grants) return fail_with(grants.error());
    if (json_) {
      json out = json::array();
      for (const auto& g : *grants) {
        out.push_back({{"grant", g.grant},
                       {"device_id", g.device_id},
                       {"device", g.device},
                       {"port", g.port},
                       {"expires_at", g.expires_at.empty() ? json() : json(g.expires_at)}});
      }
      std::cout << dump(out) << "\n";
      return 0;
    }
    for (const auto& g : *grants) {
      std::cout << fmt::format("device {} ({}) port {}{}\n", g.device_id, g.device, g.port,
                               g.expires_at.empty() ? "" : " until " + g.expires_at);
    }
    return 0;
  }
  if (device_ref_.empty() || port_ < 1 || port_ > 65535) {
    return fail_with(
        {core::ErrorCode::kUsage, "give DEVICE and --port 1..65535 (or --list)", "DEVICE"});
  }
  o.device = device_ref_;
  o.port = static_cast<std::uint16_t>(port_);
  o.on_listening = [this](const std::string& where) {
    std::cout << fmt::format("vigie connect: listening on {} for device {} port {}\n", where,
                             device_ref_, port_)
              << std::flush;
  };
  auto st = remote::run_engineer(o);
  if (!st) return fail_with(st.error());
  return 0;
}

}  // namespace vigie::apps
