#include "vigie/remote/sessions.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "registry_internal.h"
#include "vigie/core/ids.h"
#include "vigie/notify/outbox.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own helpers
using core::ErrorCode;
using core::fail;
using store::Row;
using store::Value;

constexpr std::string_view kStates[] = {"requested", "approved", "active",
                                        "ended",     "refused",  "expired"};

SessionState parse_state(std::string_view text) {
  for (size_t i = 0; i < std::size(kStates); ++i) {
    if (kStates[i] == text) return static_cast<SessionState>(i);
  }
  return SessionState::kEnded;
}

std::string format_port_list(const std::vector<int>& ports) {
  std::string out;
  for (int p : ports) out += fmt::format("{}{}", out.empty() ? "" : ",", p);
  return out;
}

std::vector<int> parse_port_list(std::string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    int port = 0;
    std::from_chars(item.data(), item.data() + item.size(), port);
    if (port > 0) out.push_back(port);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

constexpr std::string_view kSessionSelect =
    "SELECT s.id, s.engineer_id, e.name, e.organisation, s.device_id, d.vendor || ' ' || "
    "d.product || ' ' || COALESCE(d.serial_number, ''), s.reason, COALESCE(s.ticket, ''), "
    "s.ports, s.operations, s.level, s.state, s.requested_at, s.request_expires_at, "
    "COALESCE(s.decided_by, ''), COALESCE(s.decided_at, ''), COALESCE(s.password_expires_at, ''), "
    "COALESCE(s.started_at, ''), COALESCE(s.ends_at, ''), COALESCE(s.last_activity_at, ''), "
    "COALESCE(s.ended_at, ''), COALESCE(s.ended_by, ''), COALESCE(s.end_reason, ''), "
    "s.bytes_to_device, s.bytes_from_device FROM remote_sessions s JOIN remote_engineers e ON "
    "e.id = s.engineer_id JOIN devices d ON d.id = s.device_id";

Session session_of(const Row& r) {
  Session s;
  s.id = r.integer(0);
  s.engineer_id = r.integer(1);
  s.engineer = r.text(2);
  s.vendor = r.text(3);
  s.device_id = r.integer(4);
  s.device = r.text(5);
  s.reason = r.text(6);
  s.ticket = r.text(7);
  s.ports = parse_port_list(r.text(8));
  s.operations = parse_operations(r.text(9)).value_or(0);
  s.level = parse_access_level(r.text(10)).value_or(AccessLevel::kNone);
  s.state = parse_state(r.text(11));
  s.requested_at = r.text(12);
  s.request_expires_at = r.text(13);
  s.decided_by = r.text(14);
  s.decided_at = r.text(15);
  s.password_expires_at = r.text(16);
  s.started_at = r.text(17);
  s.ends_at = r.text(18);
  s.last_activity_at = r.text(19);
  s.ended_at = r.text(20);
  s.ended_by = r.text(21);
  s.end_reason = r.text(22);
  s.bytes_to_device = r.integer(23);
  s.bytes_from_device = r.integer(24);
  return s;
}

Result<Session> load(store::Store& store, std::int64_t id) {
  auto row = one_row(store, fmt::format("{} WHERE s.id = ?", kSessionSelect), {id});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, fmt::format("no session {}", id), "ID");
  return session_of(**row);
}

std::string object_of(const Session& s) { return fmt::format("session:{}", s.id); }

nlohmann::json summary(const Session& s) {
  return {{"engineer", s.engineer},
          {"vendor", s.vendor},
          {"device", s.device_id},
          {"ports", format_port_list(s.ports)},
          {"operations", format_operations(s.operations)},
          {"level", to_string(s.level)},
          {"ticket", s.ticket}};
}

// Tells the approvers and the device owner, inside the transaction of what happened.
Status tell(store::Store& store, const SessionPolicy& policy, const Session& s,
            std::string_view kind, std::string subject, std::string body, core::TimePoint now) {
  std::vector<std::string> to = policy.approvers;
  auto access = device_access(store, s.device_id);
  if (!access) return tl::unexpected(access.error());
  if (!access->owner_email.empty() &&
      std::find(to.begin(), to.end(), access->owner_email) == to.end()) {
    to.push_back(access->owner_email);
  }
  if (to.empty()) return {};
  notify::Message message{std::string(kind), notify::Severity::kWarning, object_of(s),
                          std::move(subject), std::move(body)};
  auto queued =
      notify::enqueue_email(store, policy.whitelist, message, to, {"vigie", "remote-gateway"}, now);
  if (!queued) return tl::unexpected(queued.error());
  return {};
}

std::string describe(const Session& s) {
  return fmt::format(
      "Engineer: {} ({})\nDevice: {} (id {})\nReason: {}\nTicket: {}\nPorts: {}\n"
      "Operations: {}\nAccess level: {}\n",
      s.engineer, s.vendor, s.device, s.device_id, s.reason, s.ticket.empty() ? "-" : s.ticket,
      format_port_list(s.ports), format_operations(s.operations), to_string(s.level));
}

std::string duration_text(std::string_view from, std::string_view to) {
  auto a = core::parse_utc(from);
  auto b = core::parse_utc(to);
  if (!a || !b) return "-";
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*b - *a).count();
  return fmt::format("{}h{:02}m{:02}s", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

// Starts a session (approved by a person or by the device's level): its grants, one per port,
// until its maximum duration.
Status start(store::Store& store, Session& s, const SessionPolicy& policy, core::TimePoint now,
             const Actor& actor) {
  s.state = SessionState::kActive;
  s.started_at = seconds_text(now);
  s.ends_at = seconds_text(now + policy.max_duration);
  s.last_activity_at = s.started_at;
  VIGIE_TRY(
      store.execute("UPDATE remote_sessions SET state = 'active', started_at = ?, ends_at = ?, "
                    "last_activity_at = ?, password_sha256 = NULL WHERE id = ?",
                    std::vector<Value>{s.started_at, s.ends_at, s.last_activity_at, s.id}));
  for (int port : s.ports) {
    auto grant = insert_with_id(store, "remote_grants",
                                "INSERT INTO remote_grants (id, engineer_id, device_id, port, "
                                "created_by, created_at, expires_at, session_id) VALUES "
                                "(?,?,?,?,?,?,?,?)",
                                {s.engineer_id, s.device_id, std::int64_t{port}, actor.name,
                                 s.started_at, s.ends_at, s.id});
    if (!grant) return tl::unexpected(grant.error());
  }
  auto details = summary(s);
  details["ends_at"] = s.ends_at;
  details["service_mode"] = s.service_mode();
  VIGIE_TRY(audit_in(store, actor, "remote.session.start", object_of(s), details));
  if (s.service_mode()) {
    VIGIE_TRY(audit_in(store, actor, "remote.device.service_mode",
                       fmt::format("device:{}", s.device_id), {{"session", s.id}, {"on", true}}));
  }
  VIGIE_TRY(bump_epoch(store));
  return tell(store, policy, s, "session.start",
              fmt::format("Remote session {} starting on {}", s.id, s.device),
              fmt::format("A remote-service session is starting now.\n\n{}Started: {}\nEnds at "
                          "the latest: {}\n{}\nEnd it at any time: vigie sessions end {}\n",
                          describe(s), s.started_at, s.ends_at,
                          s.service_mode() ? "SERVICE MODE: the device is not available for "
                                             "patient exams while the session runs.\n"
                                           : "",
                          s.id),
              now);
}

Status finish_session(store::Store& store, Session& s, const Actor& actor, SessionState state,
                      std::string_view reason, const SessionPolicy& policy, core::TimePoint now) {
  const bool was_active = s.state == SessionState::kActive;
  s.state = state;
  s.ended_at = seconds_text(now);
  s.ended_by = actor.name;
  s.end_reason = std::string(reason);
  VIGIE_TRY(store.execute(
      "UPDATE remote_sessions SET state = ?, ended_at = ?, ended_by = ?, end_reason = ?, "
      "password_sha256 = NULL WHERE id = ?",
      std::vector<Value>{std::string(to_string(state)), s.ended_at, s.ended_by, s.end_reason,
                         s.id}));
  VIGIE_TRY(store.execute(
      "UPDATE remote_grants SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
      std::vector<Value>{s.ended_at, s.id}));
  const std::string_view action = state == SessionState::kExpired   ? "remote.session.expire"
                                  : state == SessionState::kRefused ? "remote.session.refuse"
                                                                    : "remote.session.end";
  auto details = summary(s);
  details["reason"] = reason;
  if (was_active) {
    details["duration"] = duration_text(s.started_at, s.ended_at);
    details["bytes_to_device"] = s.bytes_to_device;
    details["bytes_from_device"] = s.bytes_from_device;
  }
  VIGIE_TRY(audit_in(store, actor, action, object_of(s), details));
  if (was_active && s.level == AccessLevel::kFull) {
    VIGIE_TRY(audit_in(store, actor, "remote.device.service_mode",
                       fmt::format("device:{}", s.device_id), {{"session", s.id}, {"on", false}}));
  }
  VIGIE_TRY(bump_epoch(store));
  if (!was_active) return {};
  return tell(store, policy, s, "session.end",
              fmt::format("Remote session {} ended on {}", s.id, s.device),
              fmt::format("The remote-service session has ended.\n\n{}Started: {}\nEnded: {} "
                          "by {}\nDuration: {}\nWhy: {}\nBytes to the device: {}\nBytes from "
                          "the device: {}\n",
                          describe(s), s.started_at, s.ended_at, s.ended_by,
                          duration_text(s.started_at, s.ended_at), reason, s.bytes_to_device,
                          s.bytes_from_device),
              now);
}

std::string new_session_password() {
  std::array<unsigned char, 16> random{};
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  std::string digits;
  for (size_t i = 0; digits.size() < 11; ++i) {
    if (digits.size() == 3 || digits.size() == 7) digits += '-';
    digits += static_cast<char>('0' + random[i % random.size()] % 10);
  }
  OPENSSL_cleanse(random.data(), random.size());
  return digits;
}

// The device must be one the connector can dial: in service (or standalone), in a zone, with
// an address.
Status check_reachable(store::Store& store, std::int64_t device_id) {
  auto row = one_row(store,
                     "SELECT d.zone_id IS NOT NULL, (d.status = 'in-service' OR d.status = "
                     "'standalone'), EXISTS (SELECT 1 FROM interfaces i WHERE i.device_id = d.id "
                     "AND COALESCE(i.ip, i.hostname) IS NOT NULL) FROM devices d WHERE d.id = ?",
                     {device_id});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, fmt::format("no device {}", device_id), "--device");
  if ((*row)->integer(0) == 0 || (*row)->integer(1) == 0 || (*row)->integer(2) == 0) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("device {} cannot be reached: it needs a zone, an address and the "
                            "status in-service or standalone",
                            device_id),
                "--device");
  }
  return {};
}

}  // namespace

std::string_view to_string(SessionState state) { return kStates[static_cast<size_t>(state)]; }

Result<Session> request_session(store::Store& store, const SessionRequest& request,
                                const SessionPolicy& policy, core::TimePoint now) {
  const std::string now_text = seconds_text(now);
  if (request.reason.empty() || request.reason.size() > 500 || request.ticket.size() > 100) {
    return fail(ErrorCode::kInvalidInput, "a request needs a reason (at most 500 characters)",
                "--reason");
  }
  if (request.ports.empty() && (request.operations & (kScreen | kService)) != 0) {
    return fail(ErrorCode::kInvalidInput, "screen and service operations need ports", "--port");
  }
  if (request.operations == 0) {
    return fail(ErrorCode::kInvalidInput, "a request names at least one operation", "--operations");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto engineer = one_row(store,
                          "SELECT name, organisation FROM remote_engineers WHERE id = ? AND "
                          "disabled_at IS NULL",
                          {request.engineer_id});
  if (!engineer) return tl::unexpected(engineer.error());
  if (!*engineer) return fail(ErrorCode::kNotFound, "unknown or disabled engineer");
  const Actor who{(*engineer)->text(0), request.origin, now_text};
  VIGIE_TRY(check_reachable(store, request.device_id));
  auto access = device_access(store, request.device_id);
  if (!access) return tl::unexpected(access.error());
  auto authorised = authorised_operations(store, request.engineer_id, request.device_id);
  if (!authorised) return tl::unexpected(authorised.error());

  // Every port must be one the device's policy opens, for an operation requested.
  std::string refusal;
  Operations needed = request.operations;
  for (int port : request.ports) {
    auto it = std::find_if(access->ports.begin(), access->ports.end(),
                           [&](const ServicePort& p) { return p.port == port; });
    if (it == access->ports.end()) {
      refusal = fmt::format("port {} is not open for remote service on device {}", port,
                            request.device_id);
      break;
    }
    if ((request.operations & it->operation) == 0) {
      refusal = fmt::format("port {} serves '{}', which the request does not name", port,
                            format_operations(it->operation));
      break;
    }
  }
  if (refusal.empty() && (needed & ~*authorised) != 0) {
    refusal = fmt::format("the engineer is not authorised for '{}' on device {}",
                          format_operations(needed & ~*authorised), request.device_id);
  }
  if (refusal.empty() && (needed & ~access->operations) != 0) {
    refusal = fmt::format("device {}'s policy does not allow '{}'", request.device_id,
                          format_operations(needed & ~access->operations));
  }
  if (!refusal.empty()) {
    VIGIE_TRY(audit_in(store, who, "remote.session.request_refused",
                       fmt::format("device:{}", request.device_id),
                       {{"reason", refusal},
                        {"ports", format_port_list(request.ports)},
                        {"operations", format_operations(request.operations)}}));
    VIGIE_TRY(tx->commit());
    return fail(ErrorCode::kInvalidInput, refusal);
  }

  // Limited levels: the limited operations start at once (in the window for kLimited);
  // software updates and anything else wait for a person.
  bool preapproved = false;
  if ((needed & ~access->limited_operations) == 0 && (needed & kUpdate) == 0) {
    if (access->level == AccessLevel::kPermanentLimited) preapproved = true;
    if (access->level == AccessLevel::kLimited && access->window_from <= now_text &&
        now_text < access->window_to) {
      preapproved = true;
    }
  }
  Session s;
  s.engineer_id = request.engineer_id;
  s.engineer = (*engineer)->text(0);
  s.vendor = (*engineer)->text(1);
  s.device_id = request.device_id;
  s.reason = request.reason;
  s.ticket = request.ticket;
  s.ports = request.ports;
  s.operations = request.operations;
  s.level = access->level;
  s.requested_at = now_text;
  s.request_expires_at = seconds_text(now + policy.approval_window);
  const Value ticket = request.ticket.empty() ? Value() : Value(request.ticket);
  auto id = insert_with_id(store, "remote_sessions",
                           "INSERT INTO remote_sessions (id, engineer_id, device_id, reason, "
                           "ticket, ports, operations, level, state, origin, requested_at, "
                           "request_expires_at) VALUES (?,?,?,?,?,?,?,?,'requested',?,?,?)",
                           {s.engineer_id, s.device_id, s.reason, ticket, format_port_list(s.ports),
                            format_operations(s.operations), std::string(to_string(s.level)),
                            request.origin, s.requested_at, s.request_expires_at});
  if (!id) return tl::unexpected(id.error());
  s.id = *id;
  auto device = one_row(store,
                        "SELECT vendor || ' ' || product || ' ' || COALESCE(serial_number, '') "
                        "FROM devices WHERE id = ?",
                        {s.device_id});
  if (!device) return tl::unexpected(device.error());
  s.device = *device ? (*device)->text(0) : "";
  auto details = summary(s);
  details["reason"] = s.reason;
  details["preapproved"] = preapproved;
  VIGIE_TRY(audit_in(store, who, "remote.session.request", object_of(s), details));
  if (preapproved) {
    s.decided_by = fmt::format("policy:{}", to_string(s.level));
    s.decided_at = now_text;
    VIGIE_TRY(
        store.execute("UPDATE remote_sessions SET decided_by = ?, decided_at = ? WHERE id = ?",
                      std::vector<Value>{s.decided_by, s.decided_at, s.id}));
    VIGIE_TRY(start(store, s, policy, now, Actor{s.decided_by, "vigied", now_text}));
  } else {
    VIGIE_TRY(tell(store, policy, s, "session.request",
                   fmt::format("Remote session {} requested on {}: approve within {} s", s.id,
                               s.device, policy.approval_window.count()),
                   fmt::format("A vendor engineer asks for a remote-service session.\n\n{}"
                               "Requested: {}\nApprove before: {}\n\nApprove: vigie sessions "
                               "approve {}\nRefuse: vigie sessions refuse {}\n",
                               describe(s), s.requested_at, s.request_expires_at, s.id, s.id),
                   now));
  }
  VIGIE_TRY(tx->commit());
  return s;
}

Result<Approval> approve_session(store::Store& store, std::int64_t id, const Actor& approver,
                                 const SessionPolicy& policy, core::TimePoint now) {
  const std::string now_text = seconds_text(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("remote_sessions"));
  auto s = load(store, id);
  if (!s) return tl::unexpected(s.error());
  if (s->state != SessionState::kRequested) {
    return fail(ErrorCode::kConflict,
                fmt::format("session {} is {}, not awaiting approval", id, to_string(s->state)),
                "ID");
  }
  if (now_text > s->request_expires_at) {
    VIGIE_TRY(finish_session(store, *s, approver, SessionState::kExpired, "not approved in time",
                             policy, now));
    VIGIE_TRY(tx->commit());
    return fail(ErrorCode::kConflict,
                fmt::format("session {}'s request expired at {}: the engineer must ask again", id,
                            s->request_expires_at),
                "ID");
  }
  Approval out;
  out.password = new_session_password();
  s->state = SessionState::kApproved;
  s->decided_by = approver.name;
  s->decided_at = now_text;
  s->password_expires_at = seconds_text(now + policy.password_lifetime);
  VIGIE_TRY(store.execute(
      "UPDATE remote_sessions SET state = 'approved', decided_by = ?, decided_at = ?, "
      "password_sha256 = ?, password_expires_at = ? WHERE id = ?",
      std::vector<Value>{s->decided_by, s->decided_at, core::sha256_hex(out.password),
                         s->password_expires_at, id}));
  auto details = summary(*s);
  details["password_expires_at"] = s->password_expires_at;
  VIGIE_TRY(audit_in(store, approver, "remote.session.approve", object_of(*s), details));
  VIGIE_TRY(tx->commit());
  out.session = std::move(*s);
  return out;
}

Status refuse_session(store::Store& store, std::int64_t id, const Actor& approver,
                      std::string_view note, core::TimePoint now) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("remote_sessions"));
  auto s = load(store, id);
  if (!s) return tl::unexpected(s.error());
  if (s->state != SessionState::kRequested && s->state != SessionState::kApproved) {
    return fail(ErrorCode::kConflict,
                fmt::format("session {} is {}: nothing to refuse", id, to_string(s->state)), "ID");
  }
  VIGIE_TRY(store.execute("UPDATE remote_sessions SET note = ? WHERE id = ?",
                          std::vector<Value>{std::string(note), id}));
  VIGIE_TRY(finish_session(store, *s, approver, SessionState::kRefused,
                           note.empty() ? "refused" : note, SessionPolicy{}, now));
  return tx->commit();
}

Result<Session> open_session(store::Store& store, std::int64_t id, std::int64_t engineer_id,
                             std::string_view password, const std::string& origin,
                             const SessionPolicy& policy, core::TimePoint now) {
  const std::string now_text = seconds_text(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("remote_sessions"));
  auto s = load(store, id);
  if (!s) return tl::unexpected(s.error());
  if (s->engineer_id != engineer_id) {
    return fail(ErrorCode::kNotFound, fmt::format("no session {} of yours", id), "ID");
  }
  const Actor who{s->engineer, origin, now_text};
  const auto refuse = [&](std::string_view reason, std::string message) -> Result<Session> {
    auto details = summary(*s);
    details["reason"] = reason;
    VIGIE_TRY(audit_in(store, who, "remote.session.password_refused", object_of(*s), details));
    VIGIE_TRY(tx->commit());
    return fail(ErrorCode::kInvalidInput, std::move(message), "password");
  };
  if (s->state != SessionState::kApproved) {
    return refuse("not awaiting a password",
                  fmt::format("session {} is {}: a session password opens an approved session "
                              "once",
                              id, to_string(s->state)));
  }
  if (now_text > s->password_expires_at) {
    VIGIE_TRY(finish_session(store, *s, who, SessionState::kExpired,
                             "session password not used in time", policy, now));
    return refuse("late", fmt::format("the session password expired at {}: ask again",
                                      s->password_expires_at));
  }
  auto stored = one_row(store,
                        "SELECT COALESCE(password_sha256, ''), password_failures FROM "
                        "remote_sessions WHERE id = ?",
                        {id});
  if (!stored) return tl::unexpected(stored.error());
  const std::string expected = (*stored)->text(0);
  const std::string given = core::sha256_hex(password);
  if (expected.size() != given.size() ||
      CRYPTO_memcmp(expected.data(), given.data(), given.size()) != 0) {
    const std::int64_t failures = (*stored)->integer(1) + 1;
    VIGIE_TRY(store.execute("UPDATE remote_sessions SET password_failures = ? WHERE id = ?",
                            std::vector<Value>{failures, id}));
    if (failures >= policy.password_attempts) {
      VIGIE_TRY(finish_session(store, *s, who, SessionState::kRefused,
                               "too many wrong session passwords", policy, now));
    }
    return refuse("wrong password", "wrong session password");
  }
  VIGIE_TRY(start(store, *s, policy, now, who));
  VIGIE_TRY(tx->commit());
  return std::move(*s);
}

Status end_session(store::Store& store, std::int64_t id, const Actor& actor,
                   std::string_view reason, const SessionPolicy& policy, core::TimePoint now) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("remote_sessions"));
  auto s = load(store, id);
  if (!s) return tl::unexpected(s.error());
  if (s->state != SessionState::kRequested && s->state != SessionState::kApproved &&
      s->state != SessionState::kActive) {
    return fail(ErrorCode::kConflict,
                fmt::format("session {} is {} already", id, to_string(s->state)), "ID");
  }
  VIGIE_TRY(finish_session(store, *s, actor, SessionState::kEnded,
                           reason.empty() ? "ended by " + actor.name : reason, policy, now));
  return tx->commit();
}

Result<int> sweep_sessions(store::Store& store, const SessionPolicy& policy, core::TimePoint now) {
  const std::string now_text = seconds_text(now);
  const std::string idle_since = seconds_text(now - policy.idle);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("remote_sessions"));
  auto rows = store.query(
      fmt::format("{} WHERE (s.state = 'requested' AND s.request_expires_at < ?) OR (s.state = "
                  "'approved' AND s.password_expires_at < ?) OR (s.state = 'active' AND "
                  "(s.ends_at < ? OR s.last_activity_at < ?)) ORDER BY s.id",
                  kSessionSelect),
      std::vector<Value>{now_text, now_text, now_text, idle_since});
  if (!rows) return tl::unexpected(rows.error());
  const Actor system{"system", "vigied", now_text};
  int changed = 0;
  for (const Row& r : *rows) {
    Session s = session_of(r);
    if (s.state == SessionState::kRequested) {
      VIGIE_TRY(finish_session(store, s, system, SessionState::kExpired, "not approved in time",
                               policy, now));
    } else if (s.state == SessionState::kApproved) {
      VIGIE_TRY(finish_session(store, s, system, SessionState::kExpired,
                               "session password not used in time", policy, now));
    } else if (s.ends_at < now_text) {
      VIGIE_TRY(finish_session(store, s, system, SessionState::kEnded, "maximum duration reached",
                               policy, now));
    } else {
      VIGIE_TRY(finish_session(store, s, system, SessionState::kEnded,
                               fmt::format("idle for {} s", policy.idle.count()), policy, now));
    }
    ++changed;
  }
  VIGIE_TRY(tx->commit());
  return changed;
}

Status record_activity(store::Store& store, std::span<const SessionActivity> activity,
                       core::TimePoint now) {
  if (activity.empty()) return {};
  const std::string now_text = seconds_text(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  for (const SessionActivity& a : activity) {
    VIGIE_TRY(store.execute(
        "UPDATE remote_sessions SET bytes_to_device = bytes_to_device + ?, bytes_from_device = "
        "bytes_from_device + ?, last_activity_at = ? WHERE id = ? AND state = 'active'",
        std::vector<Value>{a.bytes_to_device, a.bytes_from_device, now_text, a.session_id}));
  }
  return tx->commit();
}

Result<Session> get_session(store::Store& store, std::int64_t id) { return load(store, id); }

Result<std::vector<Session>> list_sessions(store::Store& store, const SessionFilter& filter) {
  std::string sql(kSessionSelect);
  std::vector<Value> params;
  sql += " WHERE 1 = 1";
  if (filter.open_only) {
    sql += " AND (s.state = 'requested' OR s.state = 'approved' OR s.state = 'active')";
  }
  if (filter.engineer_id != 0) {
    sql += " AND s.engineer_id = ?";
    params.emplace_back(filter.engineer_id);
  }
  sql += " ORDER BY s.id DESC LIMIT ?";
  params.emplace_back(filter.limit);
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Session> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(session_of(r));
  return out;
}

nlohmann::json to_json(const Session& s) {
  const auto text_or_null = [](const std::string& t) {
    return t.empty() ? nlohmann::json() : nlohmann::json(t);
  };
  return {{"id", s.id},
          {"engineer", s.engineer},
          {"vendor", s.vendor},
          {"device_id", s.device_id},
          {"device", s.device},
          {"reason", s.reason},
          {"ticket", text_or_null(s.ticket)},
          {"ports", s.ports},
          {"operations", format_operations(s.operations)},
          {"level", to_string(s.level)},
          {"state", to_string(s.state)},
          {"service_mode", s.service_mode()},
          {"requested_at", s.requested_at},
          {"request_expires_at", s.request_expires_at},
          {"decided_by", text_or_null(s.decided_by)},
          {"decided_at", text_or_null(s.decided_at)},
          {"password_expires_at", text_or_null(s.password_expires_at)},
          {"started_at", text_or_null(s.started_at)},
          {"ends_at", text_or_null(s.ends_at)},
          {"last_activity_at", text_or_null(s.last_activity_at)},
          {"ended_at", text_or_null(s.ended_at)},
          {"ended_by", text_or_null(s.ended_by)},
          {"end_reason", text_or_null(s.end_reason)},
          {"bytes_to_device", s.bytes_to_device},
          {"bytes_from_device", s.bytes_from_device}};
}

Result<std::int64_t> change_epoch(store::Store& store) {
  return store.query_int("SELECT value FROM remote_epoch WHERE id = 1");
}

}  // namespace vigie::remote
