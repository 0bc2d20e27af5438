// Reconciliation on the central side: the entries an offline PC uploads are stored keyed by
// (site, seq), their chain checked across uploads, and their facts merged into the store.
// Uploading twice is harmless; the same (site, seq) with another hash is a forgery and is
// refused. An edit whose field moved on centrally overwrites nothing: both values are kept in a
// conflict for a person to resolve. Every merge is audited with the offline actor and the site.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/resilience/journal.h"
#include "vigie/store/store.h"

namespace vigie::resilience {

// A problem found in a site's journal: the list the lead's alerting turns into alerts.
struct SyncProblem {
  std::string site;
  std::int64_t seq = 0;
  std::string kind;  // gap, broken-chain, forgery, bad-hash, rejected
  std::string detail;
  std::string detected_at;  // "" for a problem found by verify_sites() and not yet recorded
};

struct BatchResult {
  std::int64_t received = 0;
  std::int64_t stored = 0;      // new entries
  std::int64_t duplicates = 0;  // already stored with the same hash (a retried upload)
  std::int64_t applied = 0;     // changed the central record
  std::int64_t unchanged = 0;   // the central record already said so
  std::int64_t conflicts = 0;
  std::int64_t recorded = 0;  // facts kept as such (backup checks, notes, history)
  std::int64_t rejected = 0;  // stored, but their object no longer exists centrally
  std::int64_t head_seq = 0;  // every entry up to this one is stored and chained
  std::vector<SyncProblem> problems;
};

struct SiteState {
  std::string site;
  std::int64_t head_seq = 0;
  std::string head_hash;
  std::int64_t stored = 0;
  std::string last_sync_at;
};

// Creates (or replaces) the sync token of `site` and returns it: shown once, stored as its
// SHA-256. `inventory_site` limits the device snapshot to one site of the inventory ("" for
// every device). Audited.
Result<std::string> create_sync_token(store::Store& store, std::string_view site,
                                      std::string_view inventory_site, std::string_view actor,
                                      std::string_view origin, const core::Clock& clock);

// Whether `token` is the token of `site` (compared in constant time); unknown sites are false.
Result<bool> check_sync_token(store::Store& store, std::string_view site, std::string_view token);

Result<SiteState> site_state(store::Store& store, std::string_view site);

// Parses an upload body {"entries": [...]}: at most kMaxBatch entries, every error positioned
// by JSON pointer.
constexpr size_t kMaxBatch = 5000;
Result<std::vector<JournalEntry>> parse_batch(std::string_view body, std::string_view site);
// The body the client sends.
std::string batch_json(std::span<const JournalEntry> entries);

// Stores and merges a batch of `site`'s entries (in seq order) in one transaction. A forged,
// tampered or unlinked entry refuses the whole batch (kConflict), the problem being recorded
// and audited on its own; a gap is accepted and reported.
Result<BatchResult> ingest(store::Store& store, std::string_view site,
                           std::span<const JournalEntry> entries, std::string_view origin,
                           const core::Clock& clock);

// Walks every stored chain (or one site's) from seq 1: holes, broken links and content that
// does not match its hash.
Result<std::vector<SyncProblem>> verify_sites(store::Store& store, std::string_view site = {});
// The problems recorded at upload time, newest last.
Result<std::vector<SyncProblem>> recorded_problems(store::Store& store);

struct Conflict {
  std::int64_t id = 0;
  std::string site;
  std::int64_t seq = 0;
  std::string object;
  std::string field;
  std::optional<std::string> base_value;
  std::optional<std::string> offline_value;
  std::optional<std::string> central_value;
  std::string base_version;
  std::string central_version;
  std::string offline_actor;
  std::string offline_at;
  std::string raised_at;
  std::string status;  // open, resolved
  std::string resolution;
  std::optional<std::string> resolved_value;
  std::string resolved_by;
  std::string resolved_at;
};

Result<std::vector<Conflict>> list_conflicts(store::Store& store, bool open_only);

// `keep` is "central", "offline", or any other text: the value to set. The conflict keeps both
// original values; the decision is audited.
Status resolve_conflict(store::Store& store, std::int64_t id, std::string_view keep,
                        std::string_view actor, std::string_view origin, const core::Clock& clock);

// The devices (and their open findings) an offline PC of `site` needs, as JSON:
// {"taken_at", "devices": [{id, version, label, site, fields}], "findings": [...]}.
Result<std::string> snapshot_json(store::Store& store, std::string_view site,
                                  const core::Clock& clock);
// Reads that document back (offline side).
Result<std::pair<std::vector<SnapshotDevice>, std::vector<SnapshotFinding>>> parse_snapshot(
    std::string_view body, std::string* taken_at);

}  // namespace vigie::resilience
