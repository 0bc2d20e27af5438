#include "vigie/notify/settings.h"

#include <fmt/format.h>

#include "vigie/core/log.h"

namespace vigie::notify {
namespace {

using core::ErrorCode;

std::filesystem::path in_home(const std::filesystem::path& home, const std::string& path) {
  if (path.empty()) return {};
  std::filesystem::path p(path);
  return p.is_relative() ? home / p : p;
}

}  // namespace

Result<Settings> Settings::from(const core::Config& c, const std::filesystem::path& home) {
  Settings s;
  auto whitelist = Whitelist::parse(c.notify_email_allowed);
  if (!whitelist) return tl::unexpected(whitelist.error());
  s.whitelist = std::move(*whitelist);
  for (const auto& to : c.notify_email_to) {
    if (auto st = check_address(to); !st) {
      return core::fail(ErrorCode::kInvalidInput, st.error().message, "notify.email_to: " + to);
    }
    s.email_to.push_back(to);
  }
  if (!c.notify_smtp_host.empty()) {
    SmtpOptions o;
    o.host = c.notify_smtp_host;
    o.port = static_cast<std::uint16_t>(c.notify_smtp_port);
    o.starttls = c.notify_smtp_starttls == "off"            ? StartTls::kOff
                 : c.notify_smtp_starttls == "when-offered" ? StartTls::kWhenOffered
                                                            : StartTls::kRequired;
    o.ca_file = in_home(home, c.notify_smtp_ca_file);
    o.user = c.notify_smtp_user;
    o.password_file = in_home(home, c.notify_smtp_password_file);
    o.from = c.notify_smtp_from;
    o.timeout = std::chrono::seconds(c.notify_smtp_timeout_seconds);
    if (o.from.empty()) {
      return core::fail(ErrorCode::kInvalidInput, "e-mail is on (smtp_host) without a sender",
                        "notify.smtp_from");
    }
    if (auto st = check_address(o.from); !st) {
      return core::fail(ErrorCode::kInvalidInput, st.error().message, "notify.smtp_from");
    }
    if (!o.user.empty() && o.password_file.empty()) {
      return core::fail(ErrorCode::kInvalidInput, "smtp_user is set without smtp_password_file",
                        "notify.smtp_password_file");
    }
    if (!o.user.empty() && o.starttls != StartTls::kRequired) {
      // A downgrade would make Vigie keep the password to itself, but the mail would not go.
      core::log_event(core::LogLevel::kWarn, "notify.config",
                      {{"problem",
                        "smtp_user without smtp_starttls = required: "
                        "AUTH happens only when the relay offers STARTTLS"}});
    }
    s.smtp = std::move(o);
  }
  if (!c.notify_syslog.empty()) {
    auto target = parse_syslog_target(c.notify_syslog);
    if (!target) {
      return core::fail(ErrorCode::kInvalidInput, target.error().message, "notify.syslog");
    }
    auto facility = parse_facility(c.notify_syslog_facility);
    if (!facility) {
      return core::fail(ErrorCode::kInvalidInput, facility.error().message,
                        "notify.syslog_facility");
    }
    SyslogOptions o;
    o.target = *target;
    o.facility = *facility;
    s.syslog = std::move(o);
  }
  if (c.notify_retry_max_seconds < c.notify_retry_base_seconds) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("retry_max_seconds ({}) is below retry_base_seconds ({})",
                                  c.notify_retry_max_seconds, c.notify_retry_base_seconds),
                      "notify.retry_max_seconds");
  }
  s.retry.max_attempts = c.notify_retry_max_attempts;
  s.retry.base = std::chrono::seconds(c.notify_retry_base_seconds);
  s.retry.max = std::chrono::seconds(c.notify_retry_max_seconds);
  // Longer than the slowest SMTP session: connect + ~10 commands, each up to the timeout.
  s.retry.lease =
      std::max(std::chrono::seconds(900), std::chrono::seconds(12 * c.notify_smtp_timeout_seconds));
  return s;
}

ConfiguredChannels::ConfiguredChannels(const Settings& settings, const core::Clock& clock) {
  if (settings.smtp) {
    email_ = std::make_unique<EmailChannel>(*settings.smtp, settings.whitelist, clock);
  }
  if (settings.syslog) syslog_ = std::make_unique<SyslogChannel>(*settings.syslog, clock);
}

Result<Queued> enqueue_alert(store::Store& store, const Settings& settings, const Message& message,
                             const Actor& actor, core::TimePoint at) {
  Queued queued;
  if (settings.smtp && !settings.email_to.empty()) {
    auto mail = enqueue_email(store, settings.whitelist, message, settings.email_to, actor, at);
    if (!mail) return tl::unexpected(mail.error());
    queued = std::move(*mail);
  } else {
    VIGIE_TRY(check_message(message));
  }
  if (settings.syslog) {
    auto id = enqueue_syslog(store, message, actor, at);
    if (!id) return tl::unexpected(id.error());
    queued.ids.push_back(*id);
  }
  return queued;
}

}  // namespace vigie::notify
