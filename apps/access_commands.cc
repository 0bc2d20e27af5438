#include "access_commands.h"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "remote_settings.h"
#include "vigie/core/file.h"
#include "vigie/core/time.h"
#include "vigie/remote/access.h"
#include "vigie/remote/pki.h"
#include "vigie/remote/registry.h"

namespace vigie::apps {
namespace {

using nlohmann::json;

remote::Actor cli_actor() { return {current_user(), "cli", core::format_utc(core::utc_now())}; }

}  // namespace

core::Result<std::string> read_password(const std::string& file, std::string_view prompt) {
  if (!file.empty()) {
    auto text = core::read_file(file);
    if (!text) return tl::unexpected(text.error());
    auto end = text->find_first_of("\r\n");
    return text->substr(0, end);
  }
  if (isatty(STDIN_FILENO) == 0) {
    return core::fail(core::ErrorCode::kUsage, "no terminal to ask the password: --password-file",
                      "--password-file");
  }
  std::cerr << prompt << std::flush;
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

AccessCommands::AccessCommands(CLI::App& app) {
  auto* vendors = app.add_subcommand("vendors", "Vendor organisations whose engineers connect");
  vendors->require_subcommand(1);
  vendors_add_ = vendors->add_subcommand("add", "Add a vendor");
  vendors_add_->add_option("NAME", name_, "Vendor name")->required();
  vendors_list_ = vendors->add_subcommand("list", "Vendors and their engineers' count");
  vendors_list_->add_flag("--json", json_, "One JSON array on stdout");

  auto* engineers = app.add_subcommand("engineers", "Vendors' service engineers and their factors");
  engineers->require_subcommand(1);
  engineers_add_ = engineers->add_subcommand(
      "add",
      "Add an engineer of a vendor with a password (then: engineers totp or certificate); "
      "--org instead prints a static test credential");
  engineers_add_->add_option("NAME", name_, "Engineer's unique name")->required();
  auto* vendor = engineers_add_->add_option("--vendor", vendor_, "His vendor (vigie vendors add)");
  auto* org = engineers_add_->add_option(
      "--org", organisation_,
      "Tests and pilots: a static bearer credential (remote.engineer_bearer_tokens)");
  vendor->excludes(org);
  engineers_add_->add_option("--password-file", password_file_,
                             "File whose first line is the password (else asked)");
  engineers_totp_ = engineers->add_subcommand(
      "totp", "Enroll (or renew) the TOTP second factor: prints the otpauth:// URI and QR code");
  engineers_totp_->add_option("NAME", name_, "Engineer")->required();
  engineers_totp_->add_option("--issuer", issuer_, "Issuer shown in the authenticator app");
  engineers_certificate_ = engineers->add_subcommand(
      "certificate", "A client certificate from Vigie's CA as second factor (smartcard-like)");
  engineers_certificate_->add_option("NAME", name_, "Engineer")->required();
  auto* serial =
      engineers_certificate_->add_option("--serial", serial_, "Certificate serial (hex)");
  auto* cert = engineers_certificate_->add_option("--cert", cert_file_, "The certificate (PEM)");
  auto* csr = engineers_certificate_->add_option(
      "--csr", csr_file_, "Sign his request (PEM) with Vigie's CA; the certificate goes to --out");
  engineers_certificate_->add_option("--out", out_file_, "Where --csr's certificate is written");
  serial->excludes(cert);
  csr->excludes(serial);
  csr->excludes(cert);
  engineers_password_ = engineers->add_subcommand("password", "Set a new password");
  engineers_password_->add_option("NAME", name_, "Engineer")->required();
  engineers_password_->add_option("--password-file", password_file_,
                                  "File whose first line is the password (else asked)");
  engineers_disable_ =
      engineers->add_subcommand("disable", "Disable an engineer: logins end, grants stop");
  engineers_disable_->add_option("NAME", name_, "Engineer")->required();
  engineers_list_ = engineers->add_subcommand("list", "Engineers and their factors");
  engineers_list_->add_flag("--json", json_, "One JSON array on stdout");

  auto* access = app.add_subcommand("access", "Each device's remote-access level (seed 003 2a)");
  access->require_subcommand(1);
  access_set_ = access->add_subcommand("set", "Set a device's level, ports and operations");
  access_set_->add_option("DEVICE", device_, "Device id")->required();
  access_set_->add_option("--level", level_, "none, limited, permanent-limited or full")
      ->required();
  access_set_->add_option("--from", from_, "limited: start of the window (ISO 8601 UTC)");
  access_set_->add_option("--to", to_, "limited: end of the window");
  access_set_->add_option("--ports", ports_,
                          "Ports the gateway may reach, PORT[/screen|/service],... (none: none)");
  access_set_
      ->add_option("--operations", operations_,
                   "What the device allows: screen,service,download,upload,update")
      ->required();
  access_set_->add_option("--limited", limited_,
                          "Operations that do not disturb exams (default screen,download)");
  access_set_->add_option("--owner", owner_, "The device owner's e-mail (told of each request)");
  access_show_ = access->add_subcommand("show", "A device's access policy");
  access_show_->add_option("DEVICE", device_, "Device id")->required();
  access_show_->add_flag("--json", json_, "One JSON document on stdout");

  auto* auths = app.add_subcommand("authorisations",
                                   "What each engineer is authorised for, per device or zone");
  auths->require_subcommand(1);
  authorisations_add_ = auths->add_subcommand("add", "Authorise an engineer");
  authorisations_add_->add_option("--engineer", engineer_, "Engineer")->required();
  auto* dev = authorisations_add_->add_option("--device", device_, "One device (id)");
  auto* zone = authorisations_add_->add_option("--zone", zone_, "Every device of a zone");
  dev->excludes(zone);
  authorisations_add_
      ->add_option("--operations", operations_, "screen,service,download,upload,update")
      ->required();
  authorisations_list_ = auths->add_subcommand("list", "Live authorisations");
  authorisations_list_->add_flag("--json", json_, "One JSON array on stdout");
  authorisations_revoke_ = auths->add_subcommand("revoke", "Revoke an authorisation");
  authorisations_revoke_->add_option("ID", id_, "Authorisation id")->required();
}

std::optional<int> AccessCommands::run(AppContext& ctx) const {
  auto& store = *ctx.store;
  if (vendors_add_->parsed()) {
    auto id = remote::add_vendor(store, name_, cli_actor());
    if (!id) return fail_with(id.error());
    std::cout << fmt::format("vendor '{}' added, id {}\n", name_, *id);
    return 0;
  }
  if (vendors_list_->parsed()) {
    auto list = remote::list_vendors(store);
    if (!list) return fail_with(list.error());
    if (json_) {
      json out = json::array();
      for (const auto& v : *list) {
        out.push_back({{"id", v.id}, {"name", v.name}, {"engineers", v.engineers}});
      }
      std::cout << dump(out) << "\n";
      return 0;
    }
    for (const auto& v : *list) {
      std::cout << fmt::format("{:>4}  {:<30}  {} engineer(s)\n", v.id, v.name, v.engineers);
    }
    return 0;
  }
  if (engineers_add_->parsed()) return engineers_add(ctx);
  if (engineers_totp_->parsed()) {
    auto e = remote::enroll_totp(store, name_, issuer_, cli_actor());
    if (!e) return fail_with(e.error());
    std::cout << fmt::format(
        "TOTP second factor of '{}' (shown once; the previous one no longer works).\n"
        "Scan this code with an authenticator app, or enter the secret by hand:\n\n{}\n"
        "  secret: {}\n  uri:    {}\n",
        name_, e->qr, e->secret_base32, e->uri);
    return 0;
  }
  if (engineers_certificate_->parsed()) {
    std::string serial = serial_;
    if (!csr_file_.empty()) {
      auto request = core::read_file(csr_file_);
      if (!request) return fail_with(request.error());
      auto issued = remote::sign_client_csr(
          ctx.home / ctx.config.remote_ca_dir, *request, "engineer:" + name_,
          static_cast<int>(ctx.config.remote_connector_cert_days));
      if (!issued) return fail_with(issued.error());
      if (out_file_.empty()) {
        std::cout << issued->pem;
      } else if (auto st = core::write_file_durably(out_file_, issued->pem, 0644); !st) {
        return fail_with(st.error());
      }
      serial = issued->info.serial;
    }
    if (!cert_file_.empty()) {
      auto info = remote::cert_info_file(cert_file_);
      if (!info) return fail_with(info.error());
      serial = info->serial;
    }
    if (auto st = remote::set_engineer_certificate(store, name_, serial, cli_actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("'{}' may log in with the certificate of serial {} instead of TOTP\n",
                             name_, serial);
    return 0;
  }
  if (engineers_password_->parsed()) {
    auto pw = read_password(password_file_, "new password: ");
    if (!pw) return fail_with(pw.error());
    if (auto st = remote::set_password(store, name_, *pw, password_cost(ctx.config), cli_actor());
        !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("password of '{}' changed\n", name_);
    return 0;
  }
  if (engineers_disable_->parsed()) {
    if (auto st = remote::disable_engineer(store, name_, cli_actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("engineer '{}' disabled: his logins ended, his grants stop\n", name_);
    return 0;
  }
  if (engineers_list_->parsed()) return engineers_list(ctx);
  if (access_set_->parsed()) return access_set(ctx);
  if (access_show_->parsed()) return access_show(ctx);
  if (authorisations_add_->parsed()) {
    auto ops = remote::parse_operations(operations_);
    if (!ops) return fail_with(ops.error());
    auto id = remote::authorise(store, engineer_, {device_, zone_}, *ops, cli_actor());
    if (!id) return fail_with(id.error());
    std::cout << fmt::format("authorisation {}: {} may ask for {} on {}\n", *id, engineer_,
                             remote::format_operations(*ops),
                             zone_.empty() ? fmt::format("device {}", device_) : "zone " + zone_);
    return 0;
  }
  if (authorisations_list_->parsed()) return authorisations_list(ctx);
  if (authorisations_revoke_->parsed()) {
    if (auto st = remote::revoke_authorisation(store, id_, cli_actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("authorisation {} revoked\n", id_);
    return 0;
  }
  return std::nullopt;
}

int AccessCommands::engineers_add(AppContext& ctx) const {
  if (!organisation_.empty()) {
    auto added = remote::add_engineer(*ctx.store, name_, organisation_, cli_actor());
    if (!added) return fail_with(added.error());
    std::cout << fmt::format(
        "engineer '{}' ({}) added, id {}\nstatic test credential (shown once):\n  {}\n",
        added->first.name, added->first.organisation, added->first.id, added->second);
    if (!ctx.config.remote_engineer_bearer_tokens) {
      std::cerr << "vigie: note: the broker accepts it only with "
                   "remote.engineer_bearer_tokens = true\n";
    }
    return 0;
  }
  if (vendor_.empty()) {
    return fail_with({core::ErrorCode::kUsage, "an engineer needs --vendor", "--vendor"});
  }
  auto pw = read_password(password_file_, "password: ");
  if (!pw) return fail_with(pw.error());
  auto added = remote::add_vendor_engineer(*ctx.store, name_, vendor_, *pw,
                                           password_cost(ctx.config), cli_actor());
  if (!added) return fail_with(added.error());
  std::cout << fmt::format(
      "engineer '{}' of {} added, id {}\nnext: his second factor (vigie engineers totp {} or "
      "vigie engineers certificate {}), then his authorisations\n",
      added->name, added->organisation, added->id, name_, name_);
  return 0;
}

int AccessCommands::engineers_list(AppContext& ctx) const {
  auto list = remote::list_engineers(*ctx.store);
  if (!list) return fail_with(list.error());
  const auto factors = [](const remote::EngineerAccount& e) {
    std::string out;
    if (e.static_credential) return std::string("static test credential");
    out = e.password ? "password" : "no password";
    if (e.totp) out += "+totp";
    if (!e.cert_serial.empty()) out += "+certificate";
    return out;
  };
  if (json_) {
    json out = json::array();
    for (const auto& e : *list) {
      out.push_back({{"id", e.id},
                     {"name", e.name},
                     {"vendor", e.vendor},
                     {"factors", factors(e)},
                     {"locked_until", e.locked_until.empty() ? json() : json(e.locked_until)},
                     {"disabled", e.disabled}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<24}  {:<20}  {:<28}  {}\n", "ID", "NAME", "VENDOR", "FACTORS",
                           "STATE");
  for (const auto& e : *list) {
    std::string state = e.disabled                ? "disabled"
                        : !e.locked_until.empty() ? "locked until " + e.locked_until
                                                  : "active";
    std::cout << fmt::format("{:>4}  {:<24}  {:<20}  {:<28}  {}\n", e.id, e.name, e.vendor,
                             factors(e), state);
  }
  return 0;
}

int AccessCommands::access_set(AppContext& ctx) const {
  remote::DeviceAccess access;
  access.device_id = device_;
  auto level = remote::parse_access_level(level_);
  if (!level) return fail_with(level.error());
  access.level = *level;
  access.window_from = from_;
  access.window_to = to_;
  auto ports = remote::parse_ports(ports_ == "none" ? "" : ports_);
  if (!ports) return fail_with(ports.error());
  access.ports = std::move(*ports);
  auto ops = remote::parse_operations(operations_);
  if (!ops) return fail_with(ops.error());
  access.operations = *ops;
  auto limited = remote::parse_operations(limited_);
  if (!limited) return fail_with(limited.error());
  access.limited_operations = *limited;
  access.owner_email = owner_;
  if (auto st = remote::set_device_access(*ctx.store, access, cli_actor()); !st) {
    return fail_with(st.error());
  }
  std::cout << fmt::format("device {}: level {}, ports {}, operations {}\n", device_,
                           remote::to_string(access.level),
                           access.ports.empty() ? "none" : remote::format_ports(access.ports),
                           remote::format_operations(access.operations));
  return 0;
}

int AccessCommands::access_show(AppContext& ctx) const {
  auto a = remote::device_access(*ctx.store, device_);
  if (!a) return fail_with(a.error());
  json out{{"device_id", a->device_id},
           {"level", remote::to_string(a->level)},
           {"window_from", a->window_from.empty() ? json() : json(a->window_from)},
           {"window_to", a->window_to.empty() ? json() : json(a->window_to)},
           {"ports", remote::format_ports(a->ports)},
           {"operations", remote::format_operations(a->operations)},
           {"limited_operations", remote::format_operations(a->limited_operations)},
           {"owner_email", a->owner_email.empty() ? json() : json(a->owner_email)},
           {"updated_by", a->updated_by.empty() ? json() : json(a->updated_by)},
           {"updated_at", a->updated_at.empty() ? json() : json(a->updated_at)}};
  if (json_) {
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "device {}\n  level:       {}{}\n  ports:       {}\n  operations:  {}\n  limited to:  "
      "{}\n  owner:       {}\n",
      a->device_id, remote::to_string(a->level),
      a->window_from.empty() ? "" : fmt::format(" ({} to {})", a->window_from, a->window_to),
      a->ports.empty() ? "none (no tunnel)" : remote::format_ports(a->ports),
      remote::format_operations(a->operations), remote::format_operations(a->limited_operations),
      a->owner_email.empty() ? "-" : a->owner_email);
  return 0;
}

int AccessCommands::authorisations_list(AppContext& ctx) const {
  auto list = remote::list_authorisations(*ctx.store);
  if (!list) return fail_with(list.error());
  if (json_) {
    json out = json::array();
    for (const auto& a : *list) {
      out.push_back({{"id", a.id},
                     {"engineer", a.engineer},
                     {"vendor", a.vendor},
                     {"target", a.target},
                     {"operations", remote::format_operations(a.operations)},
                     {"created_by", a.created_by},
                     {"created_at", a.created_at}});
    }
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<24}  {:<20}  {:<20}  {}\n", "ID", "ENGINEER", "VENDOR",
                           "TARGET", "OPERATIONS");
  for (const auto& a : *list) {
    std::cout << fmt::format("{:>4}  {:<24}  {:<20}  {:<20}  {}\n", a.id, a.engineer, a.vendor,
                             a.target, remote::format_operations(a.operations));
  }
  return 0;
}

}  // namespace vigie::apps
