// Remote-service sessions (docs/remote.md, seed 003 §2a and §2b): an engineer asks for a
// device, its ports and operations, with a reason; an approver answers within 30 s, and is
// shown a one-time session password he reads to the engineer by phone; the engineer enters it
// and the session's grants open the tunnel. The session ends when anyone with the right says so,
// when it is idle, or at its maximum duration; its grants go with it. Devices at a limited level
// let the limited operations start without approval. Every step is audited in its transaction,
// and the device owner and approvers are told by e-mail (whitelisted addresses only).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/email.h"
#include "vigie/remote/access.h"
#include "vigie/store/store.h"

namespace vigie::remote {

enum class SessionState { kRequested, kApproved, kActive, kEnded, kRefused, kExpired };
std::string_view to_string(SessionState state);

struct SessionPolicy {
  std::chrono::seconds approval_window{30};     // a request not approved by then expires
  std::chrono::seconds password_lifetime{300};  // the approved session must be opened by then
  int password_attempts = 3;                    // wrong passwords before the session is refused
  std::chrono::seconds max_duration{4 * 3600};
  std::chrono::seconds idle{15 * 60};  // without a byte either way, the session ends
  // E-mail: who is told (approvers on duty; the device owner is added), through the whitelist.
  notify::Whitelist whitelist;
  std::vector<std::string> approvers;
};

struct SessionRequest {
  std::int64_t engineer_id = 0;
  std::int64_t device_id = 0;
  std::string reason;
  std::string ticket;
  std::vector<int> ports;
  Operations operations = 0;
  std::string origin;
};

struct Session {
  std::int64_t id = 0;
  std::int64_t engineer_id = 0;
  std::string engineer;
  std::string vendor;
  std::int64_t device_id = 0;
  std::string device;  // "vendor product serial"
  std::string reason;
  std::string ticket;
  std::vector<int> ports;
  Operations operations = 0;
  AccessLevel level = AccessLevel::kNone;
  SessionState state = SessionState::kRequested;
  std::string requested_at;
  std::string request_expires_at;
  std::string decided_by;
  std::string decided_at;
  std::string password_expires_at;
  std::string started_at;
  std::string ends_at;
  std::string last_activity_at;
  std::string ended_at;
  std::string ended_by;
  std::string end_reason;
  std::int64_t bytes_to_device = 0;
  std::int64_t bytes_from_device = 0;
  // A full-level session running: the device is in service mode, not available for exams.
  [[nodiscard]] bool service_mode() const {
    return state == SessionState::kActive && level == AccessLevel::kFull;
  }
};

// Checks the request against the engineer's authorisations and the device's policy (ports,
// operations, level) and records it. Refusals are audited and say why (kInvalidInput).
Result<Session> request_session(store::Store& store, const SessionRequest& request,
                                const SessionPolicy& policy, core::TimePoint now);

struct Approval {
  Session session;
  std::string password;  // "123-456-789": shown to the approver once, only its hash is kept
};
// Within the approval window only: a late approval expires the request (kConflict).
Result<Approval> approve_session(store::Store& store, std::int64_t id, const Actor& approver,
                                 const SessionPolicy& policy, core::TimePoint now);
Status refuse_session(store::Store& store, std::int64_t id, const Actor& approver,
                      std::string_view note, core::TimePoint now);

// The engineer enters the session password: the session starts and its grants open. A wrong,
// reused or late password is refused (audited); too many wrong ones refuse the session.
Result<Session> open_session(store::Store& store, std::int64_t id, std::int64_t engineer_id,
                             std::string_view password, const std::string& origin,
                             const SessionPolicy& policy, core::TimePoint now);

// Ends a requested, approved or running session; its grants are revoked at once and the
// broker closes its streams (it polls the change counter).
Status end_session(store::Store& store, std::int64_t id, const Actor& actor,
                   std::string_view reason, const SessionPolicy& policy, core::TimePoint now);

// Expires requests and passwords past their time, ends sessions idle or past their maximum
// duration. Returns how many sessions changed.
Result<int> sweep_sessions(store::Store& store, const SessionPolicy& policy, core::TimePoint now);

// Traffic seen by the broker since its last report: counters and the idle clock.
struct SessionActivity {
  std::int64_t session_id = 0;
  std::int64_t bytes_to_device = 0;
  std::int64_t bytes_from_device = 0;
};
Status record_activity(store::Store& store, std::span<const SessionActivity> activity,
                       core::TimePoint now);

Result<Session> get_session(store::Store& store, std::int64_t id);
struct SessionFilter {
  bool open_only = false;  // requested, approved, active
  std::int64_t engineer_id = 0;
  std::int64_t limit = 200;
};
// Newest first.
Result<std::vector<Session>> list_sessions(store::Store& store, const SessionFilter& filter);

// The session as the API and `--json` show it (never the password or its hash).
nlohmann::json to_json(const Session& s);

// The change counter grants, sessions and policies bump (the broker polls it).
Result<std::int64_t> change_epoch(store::Store& store);

}  // namespace vigie::remote
