#include "session_commands.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "access_commands.h"
#include "advisory_commands.h"
#include "cli_output.h"
#include "remote_settings.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/remote/sessions.h"

namespace vigie::apps {
namespace {

using core::ErrorCode;
using nlohmann::json;

remote::Actor cli_actor() { return {current_user(), "cli", core::format_utc(core::utc_now())}; }

// A refusal of the broker as the CLI's error (exit 1), its transport failures as they are.
int refused(const remote::BrokerReply& reply) {
  return fail_with(
      {ErrorCode::kInvalidInput,
       fmt::format("the broker refused ({}): {}", reply.status, remote::refusal_of(reply)),
       "broker"});
}

std::string counters(std::int64_t to, std::int64_t from) {
  return fmt::format("{} B to / {} B from the device", to, from);
}

void print_session(const json& s) {
  const auto text = [&](const char* key) {
    return s.contains(key) && s[key].is_string() ? s[key].get<std::string>() : std::string("-");
  };
  std::cout << fmt::format("session {}: {} on device {} ({}), ports {}, operations {}\n",
                           s.value("id", 0), s.value("state", ""), s.value("device_id", 0),
                           s.value("device", ""), s["ports"].dump(), s.value("operations", ""));
  const std::string state = s.value("state", "");
  if (state == "requested") {
    std::cout << fmt::format("  awaiting approval until {}\n", text("request_expires_at"));
  } else if (state == "approved") {
    std::cout << fmt::format(
        "  approved by {}: open it with the password the approver reads to you, before {}\n"
        "  vigie sessions open {} --password NNN-NNN-NNN ...\n",
        text("decided_by"), text("password_expires_at"), s.value("id", 0));
  } else if (state == "active") {
    std::cout << fmt::format("  running since {}, ends at the latest {}; {}\n", text("started_at"),
                             text("ends_at"),
                             counters(s.value("bytes_to_device", std::int64_t{0}),
                                      s.value("bytes_from_device", std::int64_t{0})));
  } else {
    std::cout << fmt::format("  {} at {}: {}\n", state, text("ended_at"), text("end_reason"));
  }
}

}  // namespace

void SessionCommands::add_broker_flags(CLI::App* command, bool credential) {
  command->add_option("--broker", flags_.broker, "Broker URL, wss://host[:port]")->required();
  command->add_option("--ca", flags_.ca_file, "The hospital's CA certificate (PEM)")->required();
  if (credential) {
    command
        ->add_option("--credential-file", flags_.credential_file,
                     "The login token file (vigie login --save)")
        ->required();
  }
  command->add_option("--proxy", flags_.proxy, "HTTP proxy, http://[user:password@]host:port");
}

core::Result<remote::EngineerOptions> SessionCommands::engineer_options(bool credential) const {
  remote::EngineerOptions o;
  o.broker = flags_.broker;
  o.ca_file = flags_.ca_file;
  o.proxy = flags_.proxy;
  o.identity = flags_.identity;
  if (credential) {
    auto token = remote::read_credential(flags_.credential_file);
    if (!token) return tl::unexpected(token.error());
    o.credential = std::move(*token);
  }
  return o;
}

SessionCommands::SessionCommands(CLI::App& app) {
  login_ = app.add_subcommand("login", "Engineer: log in to the broker with two factors");
  add_broker_flags(login_, false);
  login_->add_option("--engineer", engineer_, "Your engineer name")->required();
  login_->add_option("--password-file", password_file_, "File holding your password (else asked)");
  login_->add_option("--otp", otp_, "The code of your authenticator app");
  login_->add_option("--identity", flags_.identity,
                     "Your key and certificate (PEM) when a certificate is your second factor");
  login_->add_option("--save", save_, "Where to keep the login token (mode 0600)")->required();

  auto* sessions = app.add_subcommand("sessions", "Remote-service sessions (docs/remote.md)");
  sessions->require_subcommand(1);
  list_ = sessions->add_subcommand("list", "Sessions waiting or running (--all: also ended)");
  list_->add_flag("--all", all_, "Also ended, refused and expired sessions");
  list_->add_flag("--json", json_, "One JSON array on stdout");
  show_ = sessions->add_subcommand("show", "One session");
  show_->add_option("ID", id_, "Session id")->required();
  show_->add_flag("--json", json_, "One JSON document on stdout");
  approve_ = sessions->add_subcommand(
      "approve", "Approve a request (within remote.approval_seconds): prints its password");
  approve_->add_option("ID", id_, "Session id")->required();
  refuse_ = sessions->add_subcommand("refuse", "Refuse a request");
  refuse_->add_option("ID", id_, "Session id")->required();
  refuse_->add_option("--note", note_, "Why (recorded)");
  end_ = sessions->add_subcommand("end", "End a session now: its streams close within a second");
  end_->add_option("ID", id_, "Session id")->required();
  end_->add_option("--reason", note_, "Why (recorded and e-mailed)");
  end_->add_option("--broker", flags_.broker, "Engineer: end your session through the broker");
  end_->add_option("--ca", flags_.ca_file, "Engineer: the hospital's CA certificate");
  end_->add_option("--credential-file", flags_.credential_file, "Engineer: your login token");
  request_ = sessions->add_subcommand("request", "Engineer: ask for a session on a device");
  request_->add_option("DEVICE", device_, "Device id")->required();
  request_->add_option("--port", ports_, "Device port(s) to reach (repeat)");
  request_->add_option("--operations", operations_, "screen,service,download,upload,update")
      ->required();
  request_->add_option("--reason", reason_, "Why (shown to the approver)")->required();
  request_->add_option("--ticket", ticket_, "Your ticket reference");
  request_->add_flag("--wait", wait_, "Wait for the approver's answer");
  request_->add_flag("--json", json_, "The session as JSON on stdout");
  add_broker_flags(request_, true);
  open_ = sessions->add_subcommand("open", "Engineer: open an approved session with its password");
  open_->add_option("ID", id_, "Session id")->required();
  open_->add_option("--password", password_, "The one-time password the approver read to you")
      ->required();
  add_broker_flags(open_, true);
  status_ = sessions->add_subcommand("status", "Engineer: your sessions, or one");
  status_->add_option("ID", id_, "Session id");
  status_->add_flag("--json", json_, "JSON on stdout");
  add_broker_flags(status_, true);

  auto* transfer = app.add_subcommand("transfer", "Engineer: files to and from a device");
  transfer->require_subcommand(1);
  transfer_list_ = transfer->add_subcommand("list", "Files the hospital made available");
  transfer_list_->add_option("SESSION", id_, "Session id")->required();
  add_broker_flags(transfer_list_, true);
  transfer_get_ =
      transfer->add_subcommand("get", "Download a file (through the hospital's PHI filter)");
  transfer_get_->add_option("SESSION", id_, "Session id")->required();
  transfer_get_->add_option("NAME", name_, "File name")->required();
  transfer_get_->add_option("--out", out_, "Where to write it (default: the name sent)");
  add_broker_flags(transfer_get_, true);
  transfer_put_ = transfer->add_subcommand("put", "Upload a file to the device's inbox");
  transfer_put_->add_option("SESSION", id_, "Session id")->required();
  transfer_put_->add_option("FILE", file_, "The file")->required();
  transfer_put_->add_option("--name", name_, "Name on arrival (default: the file's)");
  add_broker_flags(transfer_put_, true);
}

std::optional<int> SessionCommands::run_without_home() const {
  if (login_->parsed()) return login();
  if (request_->parsed()) return request();
  if (open_->parsed()) return open();
  if (status_->parsed()) return status();
  if (end_->parsed() && !flags_.broker.empty()) return end_remote();
  if (transfer_list_->parsed() || transfer_get_->parsed() || transfer_put_->parsed()) {
    return transfer();
  }
  return std::nullopt;
}

std::optional<int> SessionCommands::run(AppContext& ctx) const {
  if (list_->parsed()) return list(ctx);
  if (show_->parsed()) return show(ctx);
  if (approve_->parsed()) return approve(ctx);
  auto policy = session_policy(ctx.config);
  if (!policy) return fail_with(policy.error());
  if (refuse_->parsed()) {
    if (auto st = remote::refuse_session(*ctx.store, id_, cli_actor(), note_, core::utc_now());
        !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("session {} refused\n", id_);
    return 0;
  }
  if (end_->parsed()) {
    if (auto st =
            remote::end_session(*ctx.store, id_, cli_actor(), note_, *policy, core::utc_now());
        !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format(
        "session {} ended: its grants are revoked, its streams close within "
        "a second\n",
        id_);
    return 0;
  }
  return std::nullopt;
}

int SessionCommands::login() const {
  auto o = engineer_options(false);
  if (!o) return fail_with(o.error());
  auto pw = read_password(password_file_, "password: ");
  if (!pw) return fail_with(pw.error());
  auto reply =
      remote::call_broker(*o, "POST", "/v1/engineer/login",
                          json{{"engineer", engineer_}, {"password", *pw}, {"otp", otp_}}.dump());
  if (!reply) return fail_with(reply.error());
  if (reply->status != 200) return refused(*reply);
  auto body = json::parse(reply->body, nullptr, false);
  if (!body.is_object() || !body.contains("token")) {
    return fail_with({ErrorCode::kUnavailable, "the broker's answer is not a login", "broker"});
  }
  if (auto st = core::write_file_durably(save_, body["token"].get<std::string>() + "\n", 0600);
      !st) {
    return fail_with(st.error());
  }
  std::cout << fmt::format("logged in as {} ({}) until {}; token kept in {}\n",
                           body.value("engineer", ""), body.value("vendor", ""),
                           body.value("expires_at", ""), save_);
  return 0;
}

int SessionCommands::request() const {
  auto o = engineer_options(true);
  if (!o) return fail_with(o.error());
  json body{{"device", device_},
            {"ports", ports_},
            {"operations", operations_},
            {"reason", reason_},
            {"ticket", ticket_}};
  auto reply = remote::call_broker(*o, "POST", "/v1/engineer/sessions", body.dump());
  if (!reply) return fail_with(reply.error());
  if (reply->status != 201) return refused(*reply);
  auto session = json::parse(reply->body, nullptr, false);
  if (!session.is_object()) {
    return fail_with({ErrorCode::kUnavailable, "the broker's answer is not a session", "broker"});
  }
  const auto id = session.value("id", std::int64_t{0});
  if (wait_ && session.value("state", "") == "requested") {
    auto deadline = core::parse_utc(session.value("request_expires_at", ""));
    while (session.value("state", "") == "requested" &&
           (!deadline || core::utc_now() < *deadline + std::chrono::seconds(3))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      auto poll = remote::call_broker(*o, "GET", fmt::format("/v1/engineer/sessions/{}", id), "");
      if (!poll) return fail_with(poll.error());
      if (poll->status != 200) return refused(*poll);
      session = json::parse(poll->body, nullptr, false);
      if (!session.is_object()) break;
    }
  }
  if (json_) {
    std::cout << dump(session) << "\n";
  } else {
    print_session(session);
  }
  const std::string state = session.value("state", "");
  return state == "refused" || state == "expired" || state == "ended" ? 1 : 0;
}

int SessionCommands::open() const {
  auto o = engineer_options(true);
  if (!o) return fail_with(o.error());
  auto reply = remote::call_broker(*o, "POST", fmt::format("/v1/engineer/sessions/{}/open", id_),
                                   json{{"password", password_}}.dump());
  if (!reply) return fail_with(reply.error());
  if (reply->status != 200) return refused(*reply);
  auto session = json::parse(reply->body, nullptr, false);
  if (session.is_object()) print_session(session);
  return 0;
}

int SessionCommands::status() const {
  auto o = engineer_options(true);
  if (!o) return fail_with(o.error());
  const std::string path = id_ == 0 ? std::string("/v1/engineer/sessions")
                                    : fmt::format("/v1/engineer/sessions/{}", id_);
  auto reply = remote::call_broker(*o, "GET", path, "");
  if (!reply) return fail_with(reply.error());
  if (reply->status != 200) return refused(*reply);
  auto body = json::parse(reply->body, nullptr, false);
  if (json_) {
    std::cout << dump(body) << "\n";
    return 0;
  }
  if (body.is_array()) {
    for (const auto& s : body) print_session(s);
  } else if (body.is_object()) {
    print_session(body);
  }
  return 0;
}

int SessionCommands::end_remote() const {
  auto o = engineer_options(true);
  if (!o) return fail_with(o.error());
  auto reply =
      remote::call_broker(*o, "POST", fmt::format("/v1/engineer/sessions/{}/end", id_), "{}");
  if (!reply) return fail_with(reply.error());
  if (reply->status != 200) return refused(*reply);
  std::cout << fmt::format("session {} ended\n", id_);
  return 0;
}

int SessionCommands::transfer() const {
  auto o = engineer_options(true);
  if (!o) return fail_with(o.error());
  const std::string base = fmt::format("/v1/engineer/sessions/{}/files", id_);
  if (transfer_list_->parsed()) {
    auto reply = remote::call_broker(*o, "GET", base, "");
    if (!reply) return fail_with(reply.error());
    if (reply->status != 200) return refused(*reply);
    auto files = json::parse(reply->body, nullptr, false);
    for (const auto& f : files) {
      std::cout << fmt::format("{:>12}  {}\n", f.value("size", std::int64_t{0}),
                               f.value("name", ""));
    }
    return 0;
  }
  if (transfer_get_->parsed()) {
    auto reply = remote::call_broker(*o, "GET", base + "/" + core::percent_encode(name_), "");
    if (!reply) return fail_with(reply.error());
    if (reply->status != 200) return refused(*reply);
    std::string out = out_;
    if (out.empty()) {
      out = reply->file_name.empty() ? name_ : reply->file_name;
      if (out.find('/') != std::string::npos || out.starts_with('.')) out = name_;
    }
    if (auto st = core::write_file_durably(out, reply->body, 0600); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("{} ({} bytes, sha256 {}) written to {}\n",
                             reply->file_name.empty() ? name_ : reply->file_name,
                             reply->body.size(), reply->file_sha256, out);
    return 0;
  }
  auto bytes = core::read_file(file_);
  if (!bytes) return fail_with(bytes.error());
  const std::string name = name_.empty() ? std::filesystem::path(file_).filename().string() : name_;
  auto reply = remote::call_broker(*o, "PUT", base + "/" + core::percent_encode(name), *bytes);
  if (!reply) return fail_with(reply.error());
  if (reply->status != 201) return refused(*reply);
  std::cout << fmt::format("{} ({} bytes) delivered to the device's inbox\n", name, bytes->size());
  return 0;
}

int SessionCommands::list(AppContext& ctx) const {
  remote::SessionFilter filter;
  filter.open_only = !all_;
  auto sessions = remote::list_sessions(*ctx.store, filter);
  if (!sessions) return fail_with(sessions.error());
  if (json_) {
    json out = json::array();
    for (const auto& s : *sessions) out.push_back(remote::to_json(s));
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>4}  {:<10}  {:<20}  {:<16}  {:>6}  {:<12}  {}\n", "ID", "STATE",
                           "ENGINEER", "VENDOR", "DEVICE", "PORTS", "SINCE / TRAFFIC");
  for (const auto& s : *sessions) {
    std::string ports;
    for (int p : s.ports) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    std::string detail;
    switch (s.state) {
      case remote::SessionState::kRequested:
        detail = "approve before " + s.request_expires_at;
        break;
      case remote::SessionState::kApproved:
        detail = "password until " + s.password_expires_at;
        break;
      case remote::SessionState::kActive:
        detail = fmt::format("since {}, {}{}", s.started_at,
                             counters(s.bytes_to_device, s.bytes_from_device),
                             s.service_mode() ? "  SERVICE MODE: no exams" : "");
        break;
      default:
        detail = s.ended_at + " " + s.end_reason;
    }
    std::cout << fmt::format(
        "{:>4}  {:<10}  {:<20}  {:<16}  {:>6}  {:<12}  {}\n", s.id,
        s.state == remote::SessionState::kActive ? "● RUNNING" : remote::to_string(s.state),
        s.engineer, s.vendor, s.device_id, ports, detail);
  }
  return 0;
}

int SessionCommands::show(AppContext& ctx) const {
  auto s = remote::get_session(*ctx.store, id_);
  if (!s) return fail_with(s.error());
  if (json_) {
    std::cout << dump(remote::to_json(*s)) << "\n";
    return 0;
  }
  print_session(remote::to_json(*s));
  std::cout << fmt::format("  engineer {} ({}), reason: {}{}\n", s->engineer, s->vendor, s->reason,
                           s->ticket.empty() ? "" : ", ticket " + s->ticket);
  return 0;
}

int SessionCommands::approve(AppContext& ctx) const {
  auto policy = session_policy(ctx.config);
  if (!policy) return fail_with(policy.error());
  auto approval = remote::approve_session(*ctx.store, id_, cli_actor(), *policy, core::utc_now());
  if (!approval) return fail_with(approval.error());
  const auto& s = approval->session;
  std::cout << fmt::format(
      "session {} approved: {} ({}) on device {} ({}), ports {}, operations {}\n\n"
      "  Read this one-time session password to the engineer by phone:\n\n      {}\n\n"
      "  It opens the session once, until {}.\n",
      s.id, s.engineer, s.vendor, s.device_id, s.device, json(s.ports).dump(),
      remote::format_operations(s.operations), approval->password, s.password_expires_at);
  return 0;
}

}  // namespace vigie::apps
