// Notices: what Vigie tells people and log collectors (an alert, a session about to start),
// one per destination (an e-mail recipient, or syslog). A Channel delivers one notice and says
// whether the attempt succeeded, should be retried, or must not be retried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigie::notify {

// The severities of Vigie's notices; each maps to the RFC 5424 severity of the same name.
enum class Severity { kCritical, kError, kWarning, kNotice, kInfo };
std::string_view to_string(Severity severity);
std::optional<Severity> parse_severity(std::string_view text);
// RFC 5424 numerical severity: critical 2, error 3, warning 4, notice 5, informational 6.
int syslog_severity(Severity severity);

enum class ChannelKind { kEmail, kSyslog };
std::string_view to_string(ChannelKind channel);

// pending: waiting for (another) attempt; delivered: the relay or collector took it (never
// sent again); failed: permanently refused, or out of attempts; refused: the recipient is not
// on the whitelist (never sent).
enum class State { kPending, kDelivered, kFailed, kRefused };
std::string_view to_string(State state);
std::optional<State> parse_state(std::string_view text);

struct Notice {
  std::int64_t id = 0;
  std::string kind;  // dotted, e.g. "backup.stale", "session.request" (the syslog MSGID)
  Severity severity = Severity::kWarning;
  std::string object;  // what it is about, e.g. "system:12", "session:5"
  std::string subject;
  std::string body;  // plain UTF-8 text; may name devices, never patient data
  ChannelKind channel = ChannelKind::kEmail;
  std::string recipient;   // the e-mail address ("" for syslog)
  std::string message_id;  // fixed when queued: a re-sent e-mail carries the same Message-ID
  State state = State::kPending;
  std::string created_at;
  std::string created_by;
  std::int64_t attempts = 0;
  std::string next_attempt_at;
  std::string delivered_at;
  std::string last_error;
};

// What one delivery attempt came to.
struct Attempt {
  enum class Outcome {
    kDelivered,  // handed over: the relay answered 250 to DATA, the collector took the bytes
    kRetry,      // a transient failure (unreachable, timeout, 4xx, TLS refused): try again later
    kPermanent,  // the relay refused for good (5xx to MAIL, RCPT or DATA): do not try again
    kRefused,    // not allowed by Vigie's own rules (whitelist): never sent
  };
  Outcome outcome = Outcome::kRetry;
  std::string detail;  // the server's reply or the error; never a secret, never the body
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual Attempt deliver(const Notice& notice) = 0;
};

}  // namespace vigie::notify
