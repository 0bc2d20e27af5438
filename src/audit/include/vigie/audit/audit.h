// The audit log: who did what, to what, when and from where, for every access and change.
// Entries are appended in the same transaction as the change they record and chained by
// SHA-256 (each hash covers the previous one), so that an edited, deleted or reordered entry
// is detected by verify(). Values that are secrets or patient data never go into `details`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/store/store.h"

namespace vigie::audit {

using core::Result;
using core::Status;

struct Entry {
  std::string actor;    // user, engineer or "system"
  std::string action;   // dotted verb, e.g. "netpolicy.role.bind"
  std::string object;   // what it applies to, e.g. "site:1/role:pacs"
  std::string origin;   // where the request came from: "cli", an address...
  std::string details;  // a JSON object (counts, old/new values that are not secrets)
};

// Appends `entry` at time `at` (ISO 8601 UTC). Call inside the transaction of the change:
// the entry commits or rolls back with it. Returns the entry's id.
Result<std::int64_t> append(store::Store& store, const Entry& entry, std::string_view at);

// Appends many entries in one transaction at the speed of the store's bulk insert (a batch of
// an offline journal: one entry per journal entry): the chain's head is read once and carried
// in memory. Locks the audit log for the transaction; while an Appender lives nothing else
// appends, and its entries are visible only after finish(), which must precede the commit.
class Appender {
 public:
  static Result<Appender> start(store::Store& store);
  Result<std::int64_t> append(const Entry& entry, std::string_view at);
  Status finish();

 private:
  Appender(std::unique_ptr<store::Inserter> rows, std::int64_t last_id, std::string last_hash)
      : rows_(std::move(rows)), last_id_(last_id), last_hash_(std::move(last_hash)) {}
  std::unique_ptr<store::Inserter> rows_;
  std::int64_t last_id_;
  std::string last_hash_;
};

// Group commit: many threads append, one writer thread commits what has queued up in one
// transaction (one fsync for the batch), and each append() returns once its entry is durable.
// The writer uses `store` alone (a connection of its own, that outlives the writer); other
// connections may append meanwhile: the audit log's lock serialises them.
class GroupWriter {
 public:
  explicit GroupWriter(store::Store& store);
  ~GroupWriter();  // commits what is queued, then stops
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  // Blocks until the entry is committed; returns its id, or the batch's error.
  Result<std::int64_t> append(Entry entry, std::string at);
  [[nodiscard]] std::int64_t batches() const;

 private:
  struct Pending;
  void run();

  store::Store& store_;
  mutable std::mutex mutex_;
  std::condition_variable work_;  // the writer: something queued, or stop
  std::condition_variable done_;  // the appenders: a batch committed
  std::vector<Pending*> queue_;
  bool stopping_ = false;
  std::int64_t batches_ = 0;
  std::thread writer_;
};

struct Verification {
  std::int64_t entries = 0;
  std::string head;  // hash of the last entry ("" when the log is empty)
  bool ok = true;
  std::int64_t first_bad_id = 0;  // the first entry whose hash or link does not hold
  std::string problem;
};

// Recomputes the chain from the first entry.
Result<Verification> verify(store::Store& store);

// Entries as stored, for the hospital's exports.
struct StoredEntry {
  std::int64_t id = 0;
  std::string at;
  Entry entry;
  std::string hash;
};

// What an export holds: an engineer's entries (as actor or named in details), a device's
// (its object, or named in details), between two dates or times (inclusive; "" = open).
struct ExportFilter {
  std::string engineer;
  std::int64_t device_id = 0;
  std::string from;
  std::string to;
};
Result<std::vector<StoredEntry>> select_entries(store::Store& store, const ExportFilter& filter);
// CSV (RFC 4180, a header line) and a JSON array of objects.
std::string to_csv(const std::vector<StoredEntry>& entries);
std::string to_json(const std::vector<StoredEntry>& entries);

// The hash of an entry given its predecessor's hash (hex SHA-256 over length-prefixed
// fields, so that no two different entries hash the same input).
std::string entry_hash(std::string_view prev_hash, std::int64_t id, std::string_view at,
                       const Entry& entry);

}  // namespace vigie::audit
