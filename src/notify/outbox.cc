#include "vigie/notify/outbox.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "vigie/audit/audit.h"
#include "vigie/core/ids.h"
#include "vigie/core/log.h"
#include "vigie/core/text.h"

namespace vigie::notify {
namespace {

using core::ErrorCode;
using store::Value;

constexpr std::string_view kColumns =
    "id, kind, severity, object, subject, body, channel, recipient, message_id, state, "
    "created_at, created_by, attempts, next_attempt_at, delivered_at, last_error";
constexpr size_t kMaxBody = size_t{64} * 1024;

Notice notice_of(const store::Row& r) {
  Notice n;
  n.id = r.integer(0);
  n.kind = r.text(1);
  n.severity = parse_severity(r.text(2)).value_or(Severity::kWarning);
  n.object = r.text(3);
  n.subject = r.text(4);
  n.body = r.text(5);
  n.channel = r.text(6) == "syslog" ? ChannelKind::kSyslog : ChannelKind::kEmail;
  n.recipient = r.text(7);
  n.message_id = r.text(8);
  n.state = parse_state(r.text(9)).value_or(State::kPending);
  n.created_at = r.text(10);
  n.created_by = r.text(11);
  n.attempts = r.integer(12);
  n.next_attempt_at = r.text(13);
  n.delivered_at = r.text(14);
  n.last_error = r.text(15);
  return n;
}

bool has_control(std::string_view text, bool allow_line_breaks) {
  return std::any_of(text.begin(), text.end(), [&](char c) {
    auto u = static_cast<unsigned char>(c);
    if (allow_line_breaks && (c == '\n' || c == '\r' || c == '\t')) return false;
    return u < 0x20 || u == 0x7f;
  });
}

// Unique, and sortable by time: "20261126T010000123Z.<16 hex>.vigie" (+ "@domain" when sent).
std::string new_message_id(core::TimePoint at) {
  std::string compact;
  for (char c : stamp(at)) {
    if (c != '-' && c != ':' && c != '.') compact += c;
  }
  return fmt::format("{}.{}.vigie", compact, core::random_hex(8));
}

Status audit_notice(store::Store& store, const Actor& actor, std::string_view action,
                    std::int64_t id, const nlohmann::json& details, core::TimePoint at) {
  auto appended =
      audit::append(store,
                    {actor.name, std::string(action), fmt::format("notice:{}", id), actor.origin,
                     details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
                    stamp(at));
  if (!appended) return tl::unexpected(appended.error());
  return {};
}

// Inserts one notice and its audit entry. The audit log is locked before the outbox, in every
// transaction that writes both, so that two of them never wait for each other.
Result<std::int64_t> insert_notice(store::Store& store, const Message& m, ChannelKind channel,
                                   const std::string& recipient, State state,
                                   const std::string& error, const Actor& actor,
                                   core::TimePoint at) {
  VIGIE_TRY(store.lock_table("audit_log"));
  VIGIE_TRY(store.lock_table("notify_outbox"));
  auto id = store.next_id("notify_outbox");
  if (!id) return id;
  const std::string now = stamp(at);
  const Value row[] = {*id,
                       m.kind,
                       std::string(to_string(m.severity)),
                       m.object,
                       m.subject,
                       m.body,
                       std::string(to_string(channel)),
                       recipient,
                       new_message_id(at),
                       std::string(to_string(state)),
                       now,
                       actor.name,
                       now,
                       error.empty() ? Value(nullptr) : Value(error)};
  VIGIE_TRY(store.execute(
      "INSERT INTO notify_outbox (id, kind, severity, object, subject, body, channel, recipient, "
      "message_id, state, created_at, created_by, next_attempt_at, last_error) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      row));
  nlohmann::json details = {{"channel", to_string(channel)}, {"kind", m.kind}};
  if (!recipient.empty()) details["recipient"] = recipient;
  if (!error.empty()) details["reason"] = error;
  VIGIE_TRY(audit_notice(store, actor,
                         state == State::kRefused ? "notify.refused" : "notify.queued", *id,
                         details, at));
  return *id;
}

// Claims the due notices of the given channels: attempts + 1 and a lease, in one transaction.
Result<std::vector<Notice>> claim(store::Store& store, const Channels& channels,
                                  core::TimePoint now, const RetryPolicy& policy) {
  std::string which;
  if (channels.email != nullptr) which = "channel = 'email'";
  if (channels.syslog != nullptr)
    which += std::string(which.empty() ? "" : " OR ") + "channel = 'syslog'";
  if (which.empty()) return std::vector<Notice>{};
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("notify_outbox"));
  const Value params[] = {stamp(now), static_cast<std::int64_t>(policy.batch)};
  auto rows = store.query(
      fmt::format("SELECT {} FROM notify_outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                  "AND ({}) ORDER BY next_attempt_at, id LIMIT ?",
                  kColumns, which),
      params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Notice> out;
  const std::string lease = stamp(now + policy.lease);
  for (const auto& r : *rows) {
    Notice n = notice_of(r);
    ++n.attempts;
    n.next_attempt_at = lease;
    const Value update[] = {n.attempts, lease, n.id};
    VIGIE_TRY(store.execute(
        "UPDATE notify_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?", update));
    out.push_back(std::move(n));
  }
  VIGIE_TRY(tx->commit());
  return out;
}

// Writes the outcome of one attempt with its audit entry; returns the notice's new state.
Result<State> record(store::Store& store, const Notice& n, const Attempt& attempt,
                     core::TimePoint now, const RetryPolicy& policy) {
  State state = State::kPending;
  std::string next = n.next_attempt_at;
  std::string action;
  switch (attempt.outcome) {
    case Attempt::Outcome::kDelivered:
      state = State::kDelivered;
      action = "notify.delivered";
      break;
    case Attempt::Outcome::kRefused:
      state = State::kRefused;
      action = "notify.refused";
      break;
    case Attempt::Outcome::kPermanent:
      state = State::kFailed;
      action = "notify.failed";
      break;
    case Attempt::Outcome::kRetry:
      if (n.attempts >= policy.max_attempts) {
        state = State::kFailed;
        action = "notify.failed";
      } else {
        next = stamp(now + backoff(policy, n.attempts));
        action = "notify.retry";
      }
      break;
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("audit_log"));
  const bool delivered = state == State::kDelivered;
  const Value params[] = {std::string(to_string(state)), next,
                          delivered ? Value(stamp(now)) : Value(nullptr),
                          delivered ? Value(nullptr) : Value(attempt.detail), n.id};
  VIGIE_TRY(
      store.execute("UPDATE notify_outbox SET state = ?, next_attempt_at = ?, delivered_at = ?, "
                    "last_error = ? WHERE id = ?",
                    params));
  nlohmann::json details = {{"channel", to_string(n.channel)},
                            {"kind", n.kind},
                            {"attempt", n.attempts},
                            {"result", attempt.detail}};
  if (!n.recipient.empty()) details["recipient"] = n.recipient;
  if (state == State::kPending) details["next_attempt_at"] = next;
  VIGIE_TRY(audit_notice(store, policy.actor, action, n.id, details, now));
  VIGIE_TRY(tx->commit());
  core::log_event(delivered ? core::LogLevel::kInfo : core::LogLevel::kWarn, action,
                  {{"notice", std::to_string(n.id)},
                   {"channel", std::string(to_string(n.channel))},
                   {"recipient", n.recipient},
                   {"attempt", std::to_string(n.attempts)},
                   {"result", attempt.detail}});
  return state;
}

}  // namespace

std::string stamp(core::TimePoint t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(t - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

Status check_message(const Message& m) {
  const auto bad = [](std::string_view field, std::string why) {
    return core::fail(ErrorCode::kInvalidInput, std::move(why), std::string(field));
  };
  const bool kind_ok =
      !m.kind.empty() && m.kind.size() <= 32 &&
      std::all_of(m.kind.begin(), m.kind.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      });
  if (!kind_ok) return bad("kind", "1 to 32 characters among a-z 0-9 . _ -");
  if (m.object.size() > 200 || std::any_of(m.object.begin(), m.object.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e;
      })) {
    return bad("object", "at most 200 printable ASCII characters");
  }
  if (m.subject.empty() || m.subject.size() > 200 || has_control(m.subject, false) ||
      core::find_invalid_utf8(m.subject)) {
    return bad("subject", "one line of UTF-8, 1 to 200 bytes");
  }
  if (m.body.size() > kMaxBody || has_control(m.body, true) || core::find_invalid_utf8(m.body)) {
    return bad("body", "UTF-8 text of at most 64 KiB");
  }
  return {};
}

Result<Queued> enqueue_email(store::Store& store, const Whitelist& whitelist,
                             const Message& message, std::span<const std::string> recipients,
                             const Actor& actor, core::TimePoint at) {
  VIGIE_TRY(check_message(message));
  for (const auto& r : recipients) VIGIE_TRY(check_address(r));
  Queued queued;
  for (const auto& r : recipients) {
    const bool allowed = whitelist.allows(r);
    auto id = insert_notice(store, message, ChannelKind::kEmail, r,
                            allowed ? State::kPending : State::kRefused,
                            allowed ? "" : "recipient not on notify.email_allowed", actor, at);
    if (!id) return tl::unexpected(id.error());
    if (allowed) {
      queued.ids.push_back(*id);
    } else {
      queued.refused.push_back(r);
      core::log_event(core::LogLevel::kWarn, "notify.refused",
                      {{"notice", std::to_string(*id)}, {"recipient", r}});
    }
  }
  return queued;
}

Result<std::int64_t> enqueue_syslog(store::Store& store, const Message& message, const Actor& actor,
                                    core::TimePoint at) {
  VIGIE_TRY(check_message(message));
  return insert_notice(store, message, ChannelKind::kSyslog, "", State::kPending, "", actor, at);
}

std::chrono::seconds backoff(const RetryPolicy& policy, std::int64_t attempts) {
  std::chrono::seconds wait = policy.base;
  for (std::int64_t i = 1; i < attempts && wait < policy.max; ++i) wait *= 2;
  return std::min(wait, policy.max);
}

Result<DeliveryReport> deliver_pending(store::Store& store, const Channels& channels,
                                       core::TimePoint now, const RetryPolicy& policy) {
  DeliveryReport report;
  for (;;) {
    auto claimed = claim(store, channels, now, policy);
    if (!claimed) return tl::unexpected(claimed.error());
    if (claimed->empty()) return report;
    for (const Notice& n : *claimed) {
      Channel* channel = n.channel == ChannelKind::kEmail ? channels.email : channels.syslog;
      const Attempt attempt = channel->deliver(n);
      report.attempted.push_back(n.id);
      auto state = record(store, n, attempt, now, policy);
      if (!state) return tl::unexpected(state.error());
      switch (*state) {
        case State::kDelivered:
          ++report.delivered;
          break;
        case State::kPending:
          ++report.retried;
          break;
        case State::kFailed:
          ++report.failed;
          break;
        case State::kRefused:
          ++report.refused;
          break;
      }
    }
  }
}

Result<std::vector<Notice>> list_notices(store::Store& store, const ListFilter& filter) {
  const Value params[] = {filter.limit};
  auto rows =
      store.query(fmt::format("SELECT {} FROM notify_outbox {} ORDER BY id DESC LIMIT ?", kColumns,
                              filter.include_delivered ? "" : "WHERE state <> 'delivered'"),
                  params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Notice> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(notice_of(r));
  return out;
}

Result<Notice> get_notice(store::Store& store, std::int64_t id) {
  const Value params[] = {id};
  auto rows =
      store.query(fmt::format("SELECT {} FROM notify_outbox WHERE id = ?", kColumns), params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) {
    return core::fail(ErrorCode::kNotFound, "no such notice", fmt::format("notice:{}", id));
  }
  return notice_of(rows->front());
}

}  // namespace vigie::notify
