// The durable outbox. A notice is written in the transaction of what caused it (an alert
// raised, a session requested), so that it exists exactly when its cause does; then
// deliver_pending() sends what is due, with retries and exponential back-off. A notice is
// never lost by a crash (it is in the store before anyone tries to send it) and never sent
// again once marked delivered. The one window left is a crash after the relay took the message
// and before the row says so: the notice is then sent again after its lease, with the same
// Message-ID, so that mail systems can drop the copy. Every attempt is audited (channel,
// recipient, outcome; never the body).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/email.h"
#include "vigie/notify/notice.h"
#include "vigie/store/store.h"

namespace vigie::notify {

// Who queues or delivers, for the audit log.
struct Actor {
  std::string name = "system";
  std::string origin = "vigied";
};

// What is to be said; where it goes is given to enqueue_*().
struct Message {
  std::string kind;  // [a-z0-9._-], 1 to 32 characters (it is the syslog MSGID)
  Severity severity = Severity::kWarning;
  std::string object;   // printable ASCII, at most 200 characters
  std::string subject;  // one line of UTF-8, at most 200 bytes
  std::string body;     // UTF-8, at most 64 KiB
};

// Checks a message before it is queued (kInvalidInput naming the field).
Status check_message(const Message& message);

struct Queued {
  std::vector<std::int64_t> ids;     // notices to deliver
  std::vector<std::string> refused;  // recipients not on the whitelist (stored as refused)
};

// Queues `message` for each recipient, inside the caller's transaction. A recipient that is
// not a valid address is an error (nothing queued); one the whitelist does not allow is stored
// as refused and audited, never sent.
Result<Queued> enqueue_email(store::Store& store, const Whitelist& whitelist,
                             const Message& message, std::span<const std::string> recipients,
                             const Actor& actor, core::TimePoint at);
// Queues `message` for syslog, inside the caller's transaction.
Result<std::int64_t> enqueue_syslog(store::Store& store, const Message& message, const Actor& actor,
                                    core::TimePoint at);

// The channels deliver_pending() may use; a null channel leaves its notices waiting.
struct Channels {
  Channel* email = nullptr;
  Channel* syslog = nullptr;
};

struct RetryPolicy {
  std::int64_t max_attempts = 10;
  std::chrono::seconds base{60};
  std::chrono::seconds max{3600};
  // How long a claimed notice stays out of other deliverers' reach; must exceed the longest
  // attempt (an SMTP session that times out at every step).
  std::chrono::seconds lease{900};
  size_t batch = 100;  // notices claimed at once
  Actor actor;
};

// The wait after attempt number `attempts` (1, 2...): base * 2^(attempts-1), at most max.
std::chrono::seconds backoff(const RetryPolicy& policy, std::int64_t attempts);

struct DeliveryReport {
  std::int64_t delivered = 0;
  std::int64_t retried = 0;  // failed this time, will be tried again
  std::int64_t failed = 0;   // failed for good (permanent, or out of attempts)
  std::int64_t refused = 0;
  std::vector<std::int64_t> attempted;  // ids, in the order they were tried
};

// Delivers every pending notice due at `now` whose channel is given, in batches, until none is
// due. Each notice is claimed (attempts + 1, leased) in one transaction, sent, and its outcome
// written with its audit entry in another.
Result<DeliveryReport> deliver_pending(store::Store& store, const Channels& channels,
                                       core::TimePoint now, const RetryPolicy& policy = {});

struct ListFilter {
  bool include_delivered = false;
  std::int64_t limit = 200;
};
// Newest first.
Result<std::vector<Notice>> list_notices(store::Store& store, const ListFilter& filter);
Result<Notice> get_notice(store::Store& store, std::int64_t id);

// Fixed-width UTC text (milliseconds always written) so that stored times sort as text.
std::string stamp(core::TimePoint t);

}  // namespace vigie::notify
