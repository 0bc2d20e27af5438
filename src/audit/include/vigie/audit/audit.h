// The audit log: who did what, to what, when and from where, for every access and change.
// Entries are appended in the same transaction as the change they record and chained by
// SHA-256 (each hash covers the previous one), so that an edited, deleted or reordered entry
// is detected by verify(). Values that are secrets or patient data never go into `details`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

struct Verification {
  std::int64_t entries = 0;
  std::string head;  // hash of the last entry ("" when the log is empty)
  bool ok = true;
  std::int64_t first_bad_id = 0;  // the first entry whose hash or link does not hold
  std::string problem;
};

// Recomputes the chain from the first entry.
Result<Verification> verify(store::Store& store);

// The hash of an entry given its predecessor's hash (hex SHA-256 over length-prefixed
// fields, so that no two different entries hash the same input).
std::string entry_hash(std::string_view prev_hash, std::int64_t id, std::string_view at,
                       const Entry& entry);

}  // namespace vigie::audit
