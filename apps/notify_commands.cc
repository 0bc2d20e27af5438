#include "notify_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/home.h"
#include "vigie/notify/settings.h"

namespace vigie::apps {
namespace {

using nlohmann::json;

json notice_json(const notify::Notice& n) {
  auto or_null = [](const std::string& s) { return s.empty() ? json() : json(s); };
  return {
      {"id", n.id},
      {"state", notify::to_string(n.state)},
      {"channel", notify::to_string(n.channel)},
      {"recipient", or_null(n.recipient)},
      {"kind", n.kind},
      {"severity", notify::to_string(n.severity)},
      {"object", n.object},
      {"subject", n.subject},
      {"created_at", n.created_at},
      {"created_by", n.created_by},
      {"attempts", n.attempts},
      {"next_attempt_at", n.state == notify::State::kPending ? json(n.next_attempt_at) : json()},
      {"delivered_at", or_null(n.delivered_at)},
      {"last_error", or_null(n.last_error)}};
}

std::string destination(const notify::Notice& n) {
  return n.channel == notify::ChannelKind::kEmail ? "email " + n.recipient : "syslog";
}

// What happened to a notice, in one line.
std::string outcome_line(const notify::Notice& n) {
  switch (n.state) {
    case notify::State::kDelivered:
      return fmt::format("notice {} ({}): delivered", n.id, destination(n));
    case notify::State::kRefused:
      return fmt::format("notice {} ({}): refused: {}", n.id, destination(n), n.last_error);
    case notify::State::kFailed:
      return fmt::format("notice {} ({}): failed after {} attempt{}: {}", n.id, destination(n),
                         n.attempts, n.attempts == 1 ? "" : "s", n.last_error);
    case notify::State::kPending:
      break;
  }
  return fmt::format("notice {} ({}): not delivered, next attempt at {}{}", n.id, destination(n),
                     n.next_attempt_at, n.last_error.empty() ? "" : ": " + n.last_error);
}

core::Result<notify::Settings> settings_of(const AppContext& ctx) {
  auto s = notify::Settings::from(ctx.config, ctx.home);
  if (!s) {
    auto e = s.error();
    e.where = core::config_path(ctx.home).string() + ": " + e.where;
    return tl::unexpected(e);
  }
  return s;
}

notify::Actor cli_actor() { return {current_user(), "cli"}; }

}  // namespace

NotifyCommands::NotifyCommands(CLI::App& app) {
  auto* notify = app.add_subcommand("notify", "Alerts and notices by e-mail and syslog");
  notify->require_subcommand(1);
  test_ = notify->add_subcommand(
      "test", "Queue a test notice and deliver it now (default: every configured channel)");
  test_->add_option("--email", email_, "Send the test e-mail to ADDR (must be whitelisted)");
  test_->add_flag("--syslog", syslog_, "Send the test message to syslog");
  test_->add_flag("--json", json_, "The outcome as JSON");
  outbox_ = notify->add_subcommand("outbox", "Notices not yet delivered (newest first)");
  outbox_->add_flag("--all", all_, "Delivered notices too");
  outbox_->add_option("--limit", limit_, "At most this many notices (default 200)");
  outbox_->add_flag("--json", json_, "One JSON array on stdout");
  deliver_ = notify->add_subcommand(
      "deliver", "Deliver the notices that are due (exit 1 when an attempt failed)");
  deliver_->add_flag("--json", json_, "The report as JSON");
}

std::optional<int> NotifyCommands::run(AppContext& ctx) const {
  if (test_->parsed()) return test(ctx);
  if (outbox_->parsed()) return outbox(ctx);
  if (deliver_->parsed()) return deliver(ctx);
  return std::nullopt;
}

int NotifyCommands::test(AppContext& ctx) const {
  auto settings = settings_of(ctx);
  if (!settings) return fail_with(settings.error());
  const bool all = email_.empty() && !syslog_;
  std::vector<std::string> recipients;
  if (!email_.empty()) recipients.push_back(email_);
  if (all && settings->smtp) recipients = settings->email_to;
  const bool to_syslog = syslog_ || (all && settings->syslog);
  if (!recipients.empty() && !settings->smtp) {
    return fail_with({core::ErrorCode::kUsage, "e-mail is off: notify.smtp_host is empty",
                      core::config_path(ctx.home).string()});
  }
  if (to_syslog && !settings->syslog) {
    return fail_with({core::ErrorCode::kUsage, "syslog is off: notify.syslog is empty",
                      core::config_path(ctx.home).string()});
  }
  if (recipients.empty() && !to_syslog) {
    return fail_with({core::ErrorCode::kUsage,
                      "nothing to test: no notify.email_to recipient and no notify.syslog "
                      "(or give --email ADDR / --syslog)",
                      core::config_path(ctx.home).string()});
  }
  const core::SystemClock clock;
  const auto now = clock.now();
  notify::Message m;
  m.kind = "notify.test";
  m.severity = notify::Severity::kInfo;
  m.object = "notify";
  m.subject = "Vigie: test notice";
  m.body = fmt::format(
      "This is a test of Vigie's notifications, asked for by {} at {}.\n"
      "If you can read it, alerts (backups, restore tests, exports...) reach you by this way.\n",
      current_user(), notify::stamp(now));
  std::vector<std::int64_t> ids;
  std::vector<std::string> refused;
  {
    auto tx = store::Transaction::begin(*ctx.store);
    if (!tx) return fail_with(tx.error());
    if (!recipients.empty()) {
      auto q =
          notify::enqueue_email(*ctx.store, settings->whitelist, m, recipients, cli_actor(), now);
      if (!q) return fail_with(q.error());
      ids = q->ids;
      refused = q->refused;
    }
    if (to_syslog) {
      auto id = notify::enqueue_syslog(*ctx.store, m, cli_actor(), now);
      if (!id) return fail_with(id.error());
      ids.push_back(*id);
    }
    if (auto st = tx->commit(); !st) return fail_with(st.error());
  }
  for (const auto& r : refused) {
    std::cerr << fmt::format("vigie: {}: refused: not on notify.email_allowed (audited)\n", r);
  }
  notify::ConfiguredChannels channels(*settings, clock);
  auto policy = settings->retry;
  policy.actor = cli_actor();
  auto report = notify::deliver_pending(*ctx.store, channels.view(), now, policy);
  if (!report) return fail_with(report.error());
  bool all_delivered = refused.empty();
  json out = json::array();
  for (auto id : ids) {
    auto n = notify::get_notice(*ctx.store, id);
    if (!n) return fail_with(n.error());
    all_delivered = all_delivered && n->state == notify::State::kDelivered;
    if (json_) {
      out.push_back(notice_json(*n));
    } else {
      std::cout << outcome_line(*n) << "\n";
    }
  }
  if (json_) std::cout << dump({{"notices", out}, {"refused", refused}}) << "\n";
  return all_delivered ? 0 : 1;
}

int NotifyCommands::outbox(AppContext& ctx) const {
  auto notices = notify::list_notices(*ctx.store, {all_, limit_});
  if (!notices) return fail_with(notices.error());
  if (json_) {
    json out = json::array();
    for (const auto& n : *notices) out.push_back(notice_json(n));
    std::cout << dump(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:>6}  {:<9}  {:<32}  {:<18}  {:>3}  {:<24}  {}\n", "ID", "STATE",
                           "DESTINATION", "KIND", "TRY", "NEXT / DELIVERED", "SUBJECT");
  for (const auto& n : *notices) {
    const std::string when = n.state == notify::State::kPending     ? n.next_attempt_at
                             : n.state == notify::State::kDelivered ? n.delivered_at
                                                                    : "-";
    std::cout << fmt::format("{:>6}  {:<9}  {:<32}  {:<18}  {:>3}  {:<24}  {}\n", n.id,
                             notify::to_string(n.state), destination(n), n.kind, n.attempts, when,
                             n.subject);
    if (n.state != notify::State::kDelivered && !n.last_error.empty()) {
      std::cout << fmt::format("{:>6}  last error: {}\n", "", n.last_error);
    }
  }
  std::cerr << fmt::format("{} notice{}\n", notices->size(), notices->size() == 1 ? "" : "s");
  return 0;
}

int NotifyCommands::deliver(AppContext& ctx) const {
  auto settings = settings_of(ctx);
  if (!settings) return fail_with(settings.error());
  const core::SystemClock clock;
  notify::ConfiguredChannels channels(*settings, clock);
  auto policy = settings->retry;
  policy.actor = cli_actor();
  auto report = notify::deliver_pending(*ctx.store, channels.view(), clock.now(), policy);
  if (!report) return fail_with(report.error());
  if (json_) {
    std::cout << dump({{"delivered", report->delivered},
                       {"retried", report->retried},
                       {"failed", report->failed},
                       {"refused", report->refused}})
              << "\n";
  } else {
    std::cout << fmt::format("delivered {}, to retry {}, failed {}, refused {}\n",
                             report->delivered, report->retried, report->failed, report->refused);
  }
  return report->retried == 0 && report->failed == 0 && report->refused == 0 ? 0 : 1;
}

}  // namespace vigie::apps
