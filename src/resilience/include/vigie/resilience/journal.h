// The offline journal: what people do on a standalone PC while vigied cannot be reached
// (seed 004, "Evolution envisagée"). One local SQLite file, insert-only (triggers refuse
// UPDATE and DELETE) and hash-chained per site: entry (site, seq) carries the SHA-256 of its
// predecessor, so that a lost, edited or reordered entry is detected here and on the server.
// Every append is durable (synchronous=FULL) before it returns. The file also keeps a snapshot
// of the devices and findings the site needs, so that entries name real ids while offline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"

namespace vigie::resilience {

using core::Result;
using core::Status;

// What an entry records. The payload (a JSON object) of each kind is documented in
// docs/resilience-offline.md.
enum class EntryKind {
  kDeviceStatus,  // "device:ID" {"status", "base", "reason"?}: disconnected, reconnected...
  kDeviceEdit,    // "device:ID" {"field", "value", "base"}: a field edited offline
  kMitigation,    // "finding:ID" {"note"}: a mitigation applied
  kBackupCheck,   // "system:NAME" or "device:ID" {"result": ok|failed, "note"?}
  kNote,          // any object {"text"}
};
std::string_view to_string(EntryKind kind);
std::optional<EntryKind> parse_entry_kind(std::string_view text);

struct JournalEntry {
  std::string site;
  std::int64_t seq = 0;  // 1, 2, 3... per site, without holes
  std::string at;        // ISO 8601 UTC, the offline PC's clock
  std::string actor;
  std::string kind;
  std::string object;
  std::string payload;       // a JSON object
  std::string base_version;  // the device's version (updated_at) the entry was based on, or ""
  std::string prev_hash;     // "" for seq 1
  std::string hash;
};

// Hex SHA-256 over the length-prefixed fields (prev_hash first), as the audit log does.
std::string entry_hash(const JournalEntry& entry);

// Checks kind, object and payload of an entry (not its chain); a reason on refusal.
std::optional<std::string> check_entry(const JournalEntry& entry);

// The device fields an offline edit may change, as named in the inventory (CSV, `devices set`).
std::span<const std::string_view> editable_device_fields();
// The stored form of `value` for `field` ("" clears it), or kInvalidInput saying why.
Result<std::string> normalize_device_field(std::string_view field, std::string_view value);

// "device:12" -> 12; nullopt when `object` does not name a device/finding of that prefix.
std::optional<std::int64_t> object_id(std::string_view object, std::string_view prefix);

// What the offline PC knows of a device: its central version and the fields that matter.
struct SnapshotDevice {
  std::int64_t id = 0;
  std::string version;  // the central updated_at when the snapshot was taken
  std::string label;    // "vendor product serial" for people
  std::string site;
  std::string fields;  // JSON object: editable field -> stored value ("" when empty)
};

struct SnapshotFinding {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::string advisory;  // tracking id
  std::string title;
  std::string status;
};

struct EntryInput {
  std::string actor;
  EntryKind kind = EntryKind::kNote;
  std::string object;
  std::string payload;
  std::string base_version;
};

struct JournalCheck {
  std::int64_t entries = 0;
  std::string head;  // hash of the last entry
  bool ok = true;
  std::int64_t first_bad_seq = 0;
  std::string problem;
};

class Journal {
 public:
  // Creates the journal file (mode 0600) for `site`; refuses when the file exists.
  static Result<Journal> create(const std::filesystem::path& file, std::string_view site);
  static Result<Journal> open(const std::filesystem::path& file);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  [[nodiscard]] const std::string& site() const;
  [[nodiscard]] const std::filesystem::path& file() const;

  // Settings of the offline PC (server URL, pinned certificate, sync token, upload progress).
  Result<std::string> setting(std::string_view key);
  Status set_setting(std::string_view key, std::string_view value);

  // Checks the entry, chains it after the last one and commits durably.
  Result<JournalEntry> append(const EntryInput& input, core::TimePoint at);
  // Appends several entries in one durable transaction (all or none).
  Result<std::int64_t> append_all(std::span<const EntryInput> inputs, core::TimePoint at);

  Result<std::int64_t> last_seq();
  // Entries with seq > after_seq, in order; the callback returns false to stop.
  Status for_each(std::int64_t after_seq, const std::function<bool(const JournalEntry&)>& on_entry);
  // Recomputes every hash and link, and checks that seq runs 1, 2, 3... without a hole.
  Result<JournalCheck> verify();

  // Replaces the snapshot (devices and findings) in one transaction.
  Status replace_snapshot(std::span<const SnapshotDevice> devices,
                          std::span<const SnapshotFinding> findings, std::string_view taken_at);
  Result<std::optional<SnapshotDevice>> device(std::int64_t id);
  Result<std::optional<SnapshotFinding>> finding(std::int64_t id);
  Result<std::vector<SnapshotDevice>> devices();

 private:
  struct Impl;
  explicit Journal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::resilience
