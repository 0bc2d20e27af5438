#include "vigie/resilience/sync.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "vigie/audit/audit.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;
using store::Value;

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxVerifyProblems = 1000;

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  }
  return hex;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Value text_or_null(const std::optional<std::string>& v) { return v ? Value(*v) : Value(nullptr); }

std::optional<std::string> nullable_text(const store::Row& row, size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.text(i);
}

// The device column behind an editable field name (a fixed list: never text from the wire).
std::optional<std::string_view> device_column(std::string_view field) {
  for (auto f : editable_device_fields()) {
    if (f == field) return f;
  }
  return std::nullopt;
}

// Why the devices table would refuse `column = value` on a device of this status and new owner
// (its CHECKs), or "". Checked before the UPDATE: on PostgreSQL a failed statement aborts the
// whole batch.
std::string refusal_of(std::string_view column, const std::string& value, std::string status,
                       std::string owner) {
  if (column == "status") {
    status = value;
  } else if (column == "new_owner") {
    owner = value;
  } else {
    return {};
  }
  if (status == "sold" && owner.empty()) return "a sold device needs a new_owner";
  return {};
}

Result<std::string> device_refusal(store::Store& s, std::int64_t device, std::string_view column,
                                   const std::string& value) {
  if (column != "status" && column != "new_owner") return std::string();
  std::vector<Value> key = {device};
  auto rows = s.query("SELECT status, new_owner FROM devices WHERE id = ?", key);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::string();
  return refusal_of(column, value, rows->front().text(0), rows->front().text(1));
}

Status set_device_column(store::Store& s, std::int64_t device, std::string_view column,
                         const std::string& value, const std::string& now) {
  std::vector<Value> p = {value.empty() && column != "status" ? Value(nullptr) : Value(value), now,
                          device};
  return s.execute(fmt::format("UPDATE devices SET {} = ?, updated_at = ? WHERE id = ?", column),
                   p);
}

Status record_problem(store::Store& s, const SyncProblem& p) {
  VIGIE_TRY(s.lock_table("sync_problems"));
  auto id = s.next_id("sync_problems");
  if (!id) return tl::unexpected(id.error());
  std::vector<Value> row = {*id, p.site, p.seq, p.kind, p.detail, p.detected_at};
  return s.execute(
      "INSERT INTO sync_problems (id, site, seq, kind, detail, detected_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      row);
}

struct Merge {
  std::string outcome;  // applied, unchanged, conflict, recorded, rejected
  std::string detail;
};

class Merger {
 public:
  Merger(store::Store& s, std::string site, std::string now)
      : s_(s), site_(std::move(site)), now_(std::move(now)) {}

  // Reads the devices the batch edits, 500 per query, and keeps them current as edits apply:
  // one query per entry was one round trip per entry on PostgreSQL.
  Status prefetch_devices(std::span<const JournalEntry> entries) {
    std::vector<std::int64_t> ids;
    for (const auto& e : entries) {
      auto kind = parse_entry_kind(e.kind);
      if (!kind || (*kind != EntryKind::kDeviceStatus && *kind != EntryKind::kDeviceEdit)) continue;
      if (auto id = object_id(e.object, "device")) ids.push_back(*id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::string_view> columns{"status", "new_owner"};
    for (auto f : editable_device_fields()) {
      if (std::find(columns.begin(), columns.end(), f) == columns.end()) columns.push_back(f);
    }
    constexpr size_t kPerQuery = 500;
    for (size_t from = 0; from < ids.size(); from += kPerQuery) {
      const size_t n = std::min(kPerQuery, ids.size() - from);
      std::vector<Value> key(ids.begin() + static_cast<std::ptrdiff_t>(from),
                             ids.begin() + static_cast<std::ptrdiff_t>(from + n));
      std::string marks(2 * n - 1, ',');
      for (size_t i = 0; i < n; ++i) marks[2 * i] = '?';
      // PostgreSQL: locked until the batch commits, so that no central edit slips in between
      // this read and the batch's write (SQLite's write lock already excludes one).
      const char* lock = s_.backend() == store::Backend::kPostgres ? " FOR UPDATE" : "";
      auto rows = s_.query(fmt::format("SELECT id, updated_at, {} FROM devices WHERE id IN ({}){}",
                                       fmt::join(columns, ", "), marks, lock),
                           key);
      if (!rows) return tl::unexpected(rows.error());
      for (const auto& row : *rows) {
        DeviceState& d = devices_[row.integer(0)];
        d.updated_at = row.text(1);
        for (size_t c = 0; c < columns.size(); ++c)
          d.fields[std::string(columns[c])] = row.text(c + 2);
      }
    }
    return {};
  }

  Result<Merge> merge(const JournalEntry& e) {
    if (auto why = check_entry(e)) return Merge{"rejected", *why};
    json payload = json::parse(e.payload);
    switch (*parse_entry_kind(e.kind)) {
      case EntryKind::kDeviceStatus:
        return merge_field(e, "status", payload["status"].get<std::string>(),
                           payload["base"].get<std::string>());
      case EntryKind::kDeviceEdit:
        return merge_field(e, payload["field"].get<std::string>(),
                           payload["value"].get<std::string>(), payload["base"].get<std::string>());
      case EntryKind::kMitigation:
        return merge_mitigation(e, payload["note"].get<std::string>());
      case EntryKind::kBackupCheck:
        return Merge{"recorded",
                     fmt::format("backup check: {}", payload["result"].get<std::string>())};
      case EntryKind::kNote:
        return Merge{"recorded", "note"};
    }
    return Merge{"rejected", "unknown kind"};
  }

  // Writes the batch's device edits: one UPDATE per column and 500 devices, except status and
  // new_owner, which a CHECK ties together (a sold device has a new owner) and are written
  // together, both from the device's state after the batch. Everything the merge reads
  // meanwhile comes from devices_, kept current.
  Status write_devices() {
    std::set<std::int64_t> tied;
    for (const char* c : {"status", "new_owner"}) {
      if (auto it = pending_.find(c); it != pending_.end()) {
        for (const auto& [id, value] : it->second) tied.insert(id);
        pending_.erase(it);
      }
    }
    std::vector<std::pair<std::int64_t, std::vector<std::string>>> rows;
    rows.reserve(tied.size());
    for (std::int64_t id : tied) {
      DeviceState& d = devices_[id];
      rows.push_back({id, {d.fields["status"], d.fields["new_owner"]}});
    }
    VIGIE_TRY(write_columns({"status", "new_owner"}, rows));
    for (const auto& [column, values] : pending_) {
      rows.clear();
      for (const auto& [id, value] : values) rows.push_back({id, {value}});
      VIGIE_TRY(write_columns({column}, rows));
    }
    pending_.clear();
    return {};
  }

 private:
  // UPDATE devices SET columns = values, updated_at = now for each (id, values), 500 rows a
  // statement. An empty value is NULL, except for status.
  Status write_columns(const std::vector<std::string>& columns,
                       const std::vector<std::pair<std::int64_t, std::vector<std::string>>>& rows) {
    constexpr size_t kPerStatement = 500;
    std::string row_marks = "(CAST(? AS BIGINT)";
    for (size_t c = 0; c < columns.size(); ++c) row_marks += ", CAST(? AS TEXT)";
    row_marks += ")";
    std::vector<std::string> names{"id"};
    std::vector<std::string> sets;
    for (size_t c = 0; c < columns.size(); ++c) {
      names.push_back(fmt::format("v{}", c));
      sets.push_back(fmt::format("{} = v.v{}", columns[c], c));
    }
    for (size_t from = 0; from < rows.size(); from += kPerStatement) {
      const size_t n = std::min(kPerStatement, rows.size() - from);
      std::vector<Value> params;
      params.reserve(n * (columns.size() + 1) + 1);
      std::string values;
      for (size_t r = from; r < from + n; ++r) {
        values += r == from ? row_marks : ", " + row_marks;
        params.emplace_back(rows[r].first);
        for (size_t c = 0; c < columns.size(); ++c) {
          const std::string& v = rows[r].second[c];
          params.push_back(v.empty() && columns[c] != "status" ? Value(nullptr) : Value(v));
        }
      }
      params.emplace_back(now_);
      VIGIE_TRY(s_.execute(
          fmt::format("WITH v({}) AS (VALUES {}) UPDATE devices SET {}, updated_at = ? FROM v "
                      "WHERE devices.id = v.id",
                      fmt::join(names, ", "), values, fmt::join(sets, ", ")),
          params));
    }
    return {};
  }

  // Three values: what the offline PC saw (base), what it wants (offline), what the central
  // record says now. The offline value applies when the central one has not moved from the base
  // (or the record's version is the one the edit was based on); otherwise both are kept.
  Result<Merge> merge_field(const JournalEntry& e, const std::string& field,
                            const std::string& raw_value, const std::string& base) {
    auto column = device_column(field);
    auto value = normalize_device_field(field, raw_value);
    if (!column || !value) return Merge{"rejected", fmt::format("field '{}' refused", field)};
    std::int64_t device = *object_id(e.object, "device");
    auto known = devices_.find(device);
    if (known == devices_.end()) {
      return Merge{"rejected", fmt::format("device {} no longer exists", device)};
    }
    DeviceState& d = known->second;
    const std::string central = d.fields[std::string(*column)];
    const std::string version = d.updated_at;
    if (central == *value)
      return Merge{"unchanged", fmt::format("{} already '{}'", field, central)};
    if (central == base || version == e.base_version) {
      auto refusal = refusal_of(*column, *value, d.fields["status"], d.fields["new_owner"]);
      if (!refusal.empty()) return Merge{"rejected", refusal};
      pending_[std::string(*column)][device] = *value;
      d.fields[std::string(*column)] = *value;
      d.updated_at = now_;
      return Merge{"applied", fmt::format("{}: '{}' -> '{}'", field, central, *value)};
    }
    VIGIE_TRY(s_.lock_table("sync_conflicts"));
    auto id = s_.next_id("sync_conflicts");
    if (!id) return tl::unexpected(id.error());
    std::vector<Value> row = {*id,     site_,          e.seq,   e.object, field, base, *value,
                              central, e.base_version, version, e.actor,  e.at,  now_};
    VIGIE_TRY(s_.execute(
        "INSERT INTO sync_conflicts (id, site, seq, object, field, base_value, offline_value, "
        "central_value, base_version, central_version, offline_actor, offline_at, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row));
    return Merge{"conflict",
                 fmt::format("conflict {}: {} is '{}' centrally, '{}' offline (was '{}')", *id,
                             field, central, *value, base)};
  }

  // A mitigation applied offline closes an open finding as mitigated; on a finding already
  // closed it is kept in the finding's history. Either way the history says who and when.
  Result<Merge> merge_mitigation(const JournalEntry& e, const std::string& note) {
    std::int64_t finding = *object_id(e.object, "finding");
    std::vector<Value> key = {finding};
    auto rows = s_.query("SELECT status, verdict FROM findings WHERE id = ?", key);
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) {
      return Merge{"rejected", fmt::format("finding {} no longer exists", finding)};
    }
    std::string status = rows->front().text(0);
    const std::string verdict = rows->front().text(1);
    const std::string history_note = fmt::format("offline ({} #{}): {}", site_, e.seq, note);
    Merge m{"recorded", fmt::format("finding already {}", status)};
    if (status == "open" || status == "in_progress") {
      std::vector<Value> p = {history_note, e.actor, now_, now_, finding};
      VIGIE_TRY(
          s_.execute("UPDATE findings SET status = 'mitigated', status_note = ?, status_by = ?, "
                     "updated_at = ?, closed_at = ? WHERE id = ?",
                     p));
      m = {"applied", fmt::format("finding {}: {} -> mitigated", finding, status)};
      status = "mitigated";
    }
    VIGIE_TRY(s_.lock_table("finding_history"));
    auto id = s_.next_id("finding_history");
    if (!id) return tl::unexpected(id.error());
    std::vector<Value> h = {*id, finding, e.at, e.actor, verdict, status, history_note};
    VIGIE_TRY(
        s_.execute("INSERT INTO finding_history (id, finding_id, at, actor, verdict, status, note) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   h));
    return m;
  }

  struct DeviceState {
    std::map<std::string, std::string> fields;  // NULL reads as ""
    std::string updated_at;                     // the record's version
  };

  store::Store& s_;
  std::string site_;
  std::string now_;
  std::unordered_map<std::int64_t, DeviceState> devices_;
  std::map<std::string, std::map<std::int64_t, std::string>> pending_;  // column -> device -> value
};

// The audit details of a merged entry. The payload was checked to be a JSON object (else the
// entry is rejected and its payload goes in as a string), so it is embedded as it is rather
// than parsed again: this runs once per entry of a 100,000-entry sync.
std::string audit_details(const JournalEntry& e, const Merge& m) {
  std::string out = dump(json{{"site", e.site},
                              {"seq", e.seq},
                              {"offline_at", e.at},
                              {"kind", e.kind},
                              {"outcome", m.outcome},
                              {"detail", m.detail}});
  out.pop_back();  // the closing brace
  out += ",\"payload\":";
  out += m.outcome == "rejected" ? dump(json(e.payload)) : e.payload;
  out += '}';
  return out;
}

void count(BatchResult& r, const std::string& outcome) {
  if (outcome == "applied") ++r.applied;
  if (outcome == "unchanged") ++r.unchanged;
  if (outcome == "conflict") ++r.conflicts;
  if (outcome == "recorded") ++r.recorded;
  if (outcome == "rejected") ++r.rejected;
}

// The entries already stored around a batch (its seqs, the one before, the one after): one
// query per batch rather than one per entry.
struct StoredLink {
  std::string hash;
  std::string prev_hash;
};
using StoredLinks = std::unordered_map<std::int64_t, StoredLink>;

Result<StoredLinks> stored_links(store::Store& s, std::string_view site,
                                 std::span<const JournalEntry> entries) {
  StoredLinks links;
  if (entries.empty()) return links;
  auto [lo, hi] = std::minmax_element(
      entries.begin(), entries.end(),
      [](const JournalEntry& a, const JournalEntry& b) { return a.seq < b.seq; });
  std::vector<Value> key = {std::string(site), lo->seq - 1, hi->seq + 1};
  VIGIE_TRY(s.for_each(
      "SELECT seq, hash, prev_hash FROM sync_entries WHERE site = ? AND seq BETWEEN ? AND ?", key,
      [&links](const store::Row& row) {
        links[row.integer(0)] = {row.text(1), row.text(2)};
        return true;
      }));
  return links;
}

const StoredLink* find_link(const StoredLinks& links, std::int64_t seq) {
  auto it = links.find(seq);
  return it == links.end() ? nullptr : &it->second;
}

// The batch in one transaction. On a refusal, sets `refusal` and returns an error: the caller
// rolls back and records the problem apart.
Result<BatchResult> ingest_in_tx(store::Store& s, std::string_view site,
                                 std::span<const JournalEntry> entries, std::string_view origin,
                                 const std::string& now, std::optional<SyncProblem>& refusal) {
  BatchResult r;
  r.received = static_cast<std::int64_t>(entries.size());
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(s.lock_table("sync_entries"));
  std::vector<Value> site_key = {std::string(site)};
  auto state = s.query("SELECT head_seq, head_hash FROM sync_sites WHERE site = ?", site_key);
  if (!state) return tl::unexpected(state.error());
  if (state->empty()) return fail(ErrorCode::kNotFound, fmt::format("no sync site '{}'", site));
  std::int64_t head = state->front().integer(0);
  std::string head_hash = state->front().text(1);

  auto links = stored_links(s, site, entries);
  if (!links) return tl::unexpected(links.error());
  Merger merger(s, std::string(site), now);
  VIGIE_TRY(merger.prefetch_devices(entries));
  static constexpr std::string_view kEntryColumns[] = {
      "site",         "seq",       "at",   "actor",       "kind",    "object",        "payload",
      "base_version", "prev_hash", "hash", "received_at", "outcome", "outcome_detail"};
  auto rows = s.inserter("sync_entries", kEntryColumns);
  if (!rows) return tl::unexpected(rows.error());
  auto audit_log = audit::Appender::start(s);
  if (!audit_log) return tl::unexpected(audit_log.error());
  auto refuse = [&](const JournalEntry& e, const char* kind, std::string detail) {
    refusal = SyncProblem{std::string(site), e.seq, kind, std::move(detail), now};
    return fail(ErrorCode::kConflict, fmt::format("entry {} of site {} refused ({}): {}", e.seq,
                                                  site, kind, refusal->detail));
  };
  std::int64_t prev_seq = 0;
  std::string prev_hash;
  for (const JournalEntry& e : entries) {
    if (e.site != site || e.seq <= prev_seq) {
      return fail(ErrorCode::kInvalidInput,
                  "entries must belong to the site and come in increasing seq order",
                  fmt::format("seq {}", e.seq));
    }
    if (entry_hash(e) != e.hash) {
      return refuse(e, "bad-hash", "the entry's content does not match its hash");
    }
    if (const StoredLink* existing = find_link(*links, e.seq)) {
      if (existing->hash != e.hash) {
        return refuse(e, "forgery",
                      fmt::format("another entry with this seq is stored (hash {} vs {})",
                                  existing->hash, e.hash));
      }
      ++r.duplicates;
      prev_seq = e.seq;
      prev_hash = e.hash;
      continue;
    }
    std::optional<std::string> expected_prev;
    if (e.seq == 1) {
      expected_prev = "";
    } else if (prev_seq == e.seq - 1) {
      expected_prev = prev_hash;
    } else if (const StoredLink* before = find_link(*links, e.seq - 1)) {
      expected_prev = before->hash;
    }
    if (expected_prev && *expected_prev != e.prev_hash) {
      return refuse(e, "broken-chain", "the link to the previous entry does not hold");
    }
    if (!expected_prev) {
      std::vector<Value> p = {std::string(site), e.seq};
      auto below = s.query_int(
          "SELECT COALESCE(MAX(seq), 0) FROM sync_entries WHERE site = ? AND seq < ?", p);
      if (!below) return tl::unexpected(below.error());
      // The batch's own entries may not have reached the table yet (bulk insert).
      const std::int64_t last_known = std::max(*below, prev_seq);
      SyncProblem gap{
          std::string(site), e.seq, "gap",
          fmt::format("entries {} to {} are missing before this one", last_known + 1, e.seq - 1),
          now};
      VIGIE_TRY(record_problem(s, gap));
      r.problems.push_back(std::move(gap));
    }
    auto merged = merger.merge(e);
    if (!merged) return tl::unexpected(merged.error());
    count(r, merged->outcome);
    if (merged->outcome == "rejected") {
      SyncProblem p{std::string(site), e.seq, "rejected", merged->detail, now};
      VIGIE_TRY(record_problem(s, p));
      r.problems.push_back(std::move(p));
    }
    const Value row[] = {
        std::string(site), e.seq,       e.at,   e.actor, e.kind,          e.object,      e.payload,
        e.base_version,    e.prev_hash, e.hash, now,     merged->outcome, merged->detail};
    VIGIE_TRY((*rows)->add(row));
    auto audited = audit_log->append({e.actor, "offline." + e.kind, e.object,
                                      fmt::format("offline:{}", site), audit_details(e, *merged)},
                                     now);
    if (!audited) return tl::unexpected(audited.error());
    ++r.stored;
    prev_seq = e.seq;
    prev_hash = e.hash;
  }
  // The entry after the batch, uploaded earlier (a hole being filled), must link to it.
  if (!entries.empty() && r.stored > 0) {
    const JournalEntry& last = entries.back();
    const StoredLink* next = find_link(*links, last.seq + 1);
    if (next != nullptr && next->prev_hash != last.hash) {
      return refuse(last, "broken-chain", "the next stored entry does not link to this one");
    }
  }
  VIGIE_TRY(merger.write_devices());
  VIGIE_TRY((*rows)->finish());
  // The verified head moves over every entry now stored without a hole.
  std::vector<Value> after = {std::string(site), head};
  VIGIE_TRY(s.for_each("SELECT seq, hash FROM sync_entries WHERE site = ? AND seq > ? ORDER BY seq",
                       after, [&](const store::Row& row) {
                         if (row.integer(0) != head + 1) return false;
                         head = row.integer(0);
                         head_hash = row.text(1);
                         return true;
                       }));
  r.head_seq = head;
  std::vector<Value> update = {head, head_hash, now, std::string(site)};
  VIGIE_TRY(s.execute(
      "UPDATE sync_sites SET head_seq = ?, head_hash = ?, last_sync_at = ? WHERE site = ?",
      update));
  json summary = {{"received", r.received},     {"stored", r.stored},
                  {"duplicates", r.duplicates}, {"applied", r.applied},
                  {"conflicts", r.conflicts},   {"rejected", r.rejected},
                  {"head_seq", r.head_seq}};
  auto audited =
      audit_log->append({fmt::format("sync:{}", site), "sync.upload", fmt::format("site:{}", site),
                         std::string(origin), dump(summary)},
                        now);
  if (!audited) return tl::unexpected(audited.error());
  VIGIE_TRY(audit_log->finish());
  VIGIE_TRY(tx->commit());
  return r;
}

}  // namespace

Result<std::string> create_sync_token(store::Store& s, std::string_view site,
                                      std::string_view inventory_site, std::string_view actor,
                                      std::string_view origin, const core::Clock& clock) {
  if (site.empty() || site.size() > 64 ||
      site.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string_view::npos) {
    return fail(ErrorCode::kUsage, "a sync site name is 1 to 64 letters, digits, '-', '_' or '.'",
                std::string(site));
  }
  std::array<unsigned char, kTokenBytes> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return fail(ErrorCode::kInternal, "the random generator failed");
  }
  std::string token;
  for (unsigned char c : raw) fmt::format_to(std::back_inserter(token), "{:02x}", c);
  const std::string now = core::format_utc(clock.now());
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(s.lock_table("sync_sites"));
  std::vector<Value> key = {std::string(site)};
  auto exists = s.query_int("SELECT COUNT(*) FROM sync_sites WHERE site = ?", key);
  if (!exists) return tl::unexpected(exists.error());
  Value inv = inventory_site.empty() ? Value(nullptr) : Value(std::string(inventory_site));
  if (*exists > 0) {
    std::vector<Value> p = {sha256_hex(token), inv, std::string(site)};
    VIGIE_TRY(
        s.execute("UPDATE sync_sites SET token_sha256 = ?, inventory_site = ? WHERE site = ?", p));
  } else {
    std::vector<Value> p = {std::string(site), sha256_hex(token), inv, now, std::string(actor)};
    VIGIE_TRY(s.execute(
        "INSERT INTO sync_sites (site, token_sha256, inventory_site, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?)",
        p));
  }
  json details = {{"inventory_site", inventory_site}, {"replaced", *exists > 0}};
  auto audited = audit::append(s,
                               {std::string(actor), "sync.token.create",
                                fmt::format("site:{}", site), std::string(origin), dump(details)},
                               now);
  if (!audited) return tl::unexpected(audited.error());
  VIGIE_TRY(tx->commit());
  return token;
}

Result<bool> check_sync_token(store::Store& s, std::string_view site, std::string_view token) {
  std::vector<Value> key = {std::string(site)};
  auto rows = s.query("SELECT token_sha256 FROM sync_sites WHERE site = ?", key);
  if (!rows) return tl::unexpected(rows.error());
  // An unknown site costs the same comparison as a known one.
  const std::string stored = rows->empty() ? std::string(64, '0') : rows->front().text(0);
  const std::string given = sha256_hex(token);
  if (stored.size() != given.size()) return false;
  const bool same = CRYPTO_memcmp(stored.data(), given.data(), given.size()) == 0;
  return same && !rows->empty() && !token.empty();
}

Result<SiteState> site_state(store::Store& s, std::string_view site) {
  std::vector<Value> key = {std::string(site)};
  auto rows =
      s.query("SELECT head_seq, head_hash, last_sync_at FROM sync_sites WHERE site = ?", key);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no sync site '{}'", site));
  SiteState st{std::string(site), rows->front().integer(0), rows->front().text(1), 0,
               rows->front().text(2)};
  auto stored = s.query_int("SELECT COUNT(*) FROM sync_entries WHERE site = ?", key);
  if (!stored) return tl::unexpected(stored.error());
  st.stored = *stored;
  return st;
}

Result<std::vector<JournalEntry>> parse_batch(std::string_view body, std::string_view site) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail(ErrorCode::kInvalidInput, "the body is not JSON", "/");
  if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array()) {
    return fail(ErrorCode::kInvalidInput, "expected an object with an \"entries\" array", "/");
  }
  const json& list = doc["entries"];
  if (list.size() > kMaxBatch) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("{} entries in one batch (at most {})", list.size(), kMaxBatch),
                "/entries");
  }
  std::vector<JournalEntry> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    const std::string where = fmt::format("/entries/{}", i);
    if (!item.is_object()) return fail(ErrorCode::kInvalidInput, "expected an object", where);
    JournalEntry e;
    auto text = [&](const char* key, std::string& into) -> Status {
      auto it = item.find(key);
      if (it == item.end() || !it->is_string()) {
        return fail(ErrorCode::kInvalidInput, "expected a string", where + "/" + key);
      }
      into = it->get<std::string>();
      return {};
    };
    VIGIE_TRY(text("site", e.site));
    auto seq = item.find("seq");
    if (seq == item.end() || !seq->is_number_integer() || seq->get<std::int64_t>() < 1) {
      return fail(ErrorCode::kInvalidInput, "expected an integer of 1 or more", where + "/seq");
    }
    e.seq = seq->get<std::int64_t>();
    VIGIE_TRY(text("at", e.at));
    VIGIE_TRY(text("actor", e.actor));
    VIGIE_TRY(text("kind", e.kind));
    VIGIE_TRY(text("object", e.object));
    VIGIE_TRY(text("payload", e.payload));
    VIGIE_TRY(text("base_version", e.base_version));
    VIGIE_TRY(text("prev_hash", e.prev_hash));
    VIGIE_TRY(text("hash", e.hash));
    if (e.site != site) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("entry of site '{}' uploaded for site '{}'", e.site, site),
                  where + "/site");
    }
    if (!out.empty() && e.seq <= out.back().seq) {
      return fail(ErrorCode::kInvalidInput, "seq must increase", where + "/seq");
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string batch_json(std::span<const JournalEntry> entries) {
  json list = json::array();
  for (const auto& e : entries) {
    list.push_back({{"site", e.site},
                    {"seq", e.seq},
                    {"at", e.at},
                    {"actor", e.actor},
                    {"kind", e.kind},
                    {"object", e.object},
                    {"payload", e.payload},
                    {"base_version", e.base_version},
                    {"prev_hash", e.prev_hash},
                    {"hash", e.hash}});
  }
  return dump(json{{"entries", list}});
}

Result<BatchResult> ingest(store::Store& s, std::string_view site,
                           std::span<const JournalEntry> entries, std::string_view origin,
                           const core::Clock& clock) {
  const std::string now = core::format_utc(clock.now());
  std::optional<SyncProblem> refusal;
  auto result = ingest_in_tx(s, site, entries, origin, now, refusal);
  if (result || !refusal) return result;
  // The batch rolled back; the refusal itself is kept and audited.
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(record_problem(s, *refusal));
  json details = {
      {"site", site}, {"seq", refusal->seq}, {"kind", refusal->kind}, {"detail", refusal->detail}};
  auto audited = audit::append(s,
                               {fmt::format("sync:{}", site), "sync.refused",
                                fmt::format("site:{}", site), std::string(origin), dump(details)},
                               now);
  if (!audited) return tl::unexpected(audited.error());
  VIGIE_TRY(tx->commit());
  return result;
}

Result<std::vector<SyncProblem>> verify_sites(store::Store& s, std::string_view site) {
  std::vector<SyncProblem> problems;
  std::string current;
  std::int64_t expected = 1;
  std::optional<std::string> prev;  // nullopt after a hole: the next link cannot be checked
  std::vector<Value> p = {std::string(site), std::string(site)};
  VIGIE_TRY(s.for_each(
      "SELECT site, seq, at, actor, kind, object, payload, base_version, prev_hash, hash "
      "FROM sync_entries WHERE (? = '' OR site = ?) ORDER BY site, seq",
      p, [&](const store::Row& r) {
        JournalEntry e{r.text(0), r.integer(1), r.text(2), r.text(3), r.text(4),
                       r.text(5), r.text(6),    r.text(7), r.text(8), r.text(9)};
        if (e.site != current) {
          current = e.site;
          expected = 1;
          prev = std::string();
        }
        auto add = [&](const char* kind, std::string detail) {
          problems.push_back({e.site, e.seq, kind, std::move(detail), ""});
        };
        if (e.seq != expected) {
          add("gap", fmt::format("entries {} to {} are missing", expected, e.seq - 1));
          prev.reset();
        }
        if (prev && *prev != e.prev_hash) {
          add("broken-chain", "the link to the previous entry does not hold");
        }
        if (entry_hash(e) != e.hash) add("bad-hash", "the entry's content does not match its hash");
        prev = e.hash;
        expected = e.seq + 1;
        return problems.size() < kMaxVerifyProblems;
      }));
  return problems;
}

Result<std::vector<SyncProblem>> recorded_problems(store::Store& s) {
  std::vector<SyncProblem> out;
  VIGIE_TRY(s.for_each("SELECT site, seq, kind, detail, detected_at FROM sync_problems ORDER BY id",
                       {}, [&](const store::Row& r) {
                         out.push_back({r.text(0), r.integer(1), r.text(2), r.text(3), r.text(4)});
                         return true;
                       }));
  return out;
}

Result<std::vector<Conflict>> list_conflicts(store::Store& s, bool open_only) {
  std::vector<Conflict> out;
  std::vector<Value> p = {std::int64_t{open_only ? 1 : 0}};
  VIGIE_TRY(s.for_each(
      "SELECT id, site, seq, object, field, base_value, offline_value, central_value, "
      "base_version, central_version, offline_actor, offline_at, raised_at, status, resolution, "
      "resolved_value, resolved_by, resolved_at FROM sync_conflicts "
      "WHERE (? = 0 OR status = 'open') ORDER BY id",
      p, [&](const store::Row& r) {
        out.push_back({r.integer(0), r.text(1), r.integer(2), r.text(3), r.text(4),
                       nullable_text(r, 5), nullable_text(r, 6), nullable_text(r, 7), r.text(8),
                       r.text(9), r.text(10), r.text(11), r.text(12), r.text(13), r.text(14),
                       nullable_text(r, 15), r.text(16), r.text(17)});
        return true;
      }));
  return out;
}

Status resolve_conflict(store::Store& s, std::int64_t id, std::string_view keep,
                        std::string_view actor, std::string_view origin, const core::Clock& clock) {
  if (actor.empty()) return fail(ErrorCode::kInvalidInput, "who resolves the conflict is required");
  const std::string now = core::format_utc(clock.now());
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(s.lock_table("sync_conflicts"));
  std::vector<Value> key = {id};
  auto rows = s.query(
      "SELECT object, field, offline_value, central_value, status, site, seq "
      "FROM sync_conflicts WHERE id = ?",
      key);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no conflict {}", id));
  const store::Row& c = rows->front();
  if (c.text(4) != "open") {
    return fail(ErrorCode::kConflict, fmt::format("conflict {} is already resolved", id));
  }
  const std::string field = c.text(1);
  std::string resolution = keep == "central" ? "central" : keep == "offline" ? "offline" : "value";
  std::optional<std::string> value;
  if (resolution == "offline") value = c.text(2);
  if (resolution == "value") {
    auto v = normalize_device_field(field, keep);
    if (!v) return tl::unexpected(v.error());
    value = *v;
  }
  if (value) {
    auto device = object_id(c.text(0), "device");
    auto column = device_column(field);
    if (!device || !column) {
      return fail(ErrorCode::kInvalidInput, fmt::format("conflict {} names no device field", id));
    }
    std::vector<Value> dk = {*device};
    auto exists = s.query_int("SELECT COUNT(*) FROM devices WHERE id = ?", dk);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists == 0) {
      return fail(ErrorCode::kNotFound, fmt::format("device {} no longer exists", *device));
    }
    auto refusal = device_refusal(s, *device, *column, *value);
    if (!refusal) return tl::unexpected(refusal.error());
    if (!refusal->empty()) return fail(ErrorCode::kInvalidInput, *refusal);
    VIGIE_TRY(set_device_column(s, *device, *column, *value, now));
  }
  std::vector<Value> p = {resolution, text_or_null(value), std::string(actor), now, id};
  VIGIE_TRY(s.execute(
      "UPDATE sync_conflicts SET status = 'resolved', resolution = ?, resolved_value = ?, "
      "resolved_by = ?, resolved_at = ? WHERE id = ?",
      p));
  json details = {{"site", c.text(5)},          {"seq", c.integer(6)},
                  {"object", c.text(0)},        {"field", field},
                  {"offline_value", c.text(2)}, {"central_value", c.text(3)},
                  {"resolution", resolution},   {"value", value ? json(*value) : json()}};
  auto audited = audit::append(s,
                               {std::string(actor), "sync.conflict.resolve",
                                fmt::format("conflict:{}", id), std::string(origin), dump(details)},
                               now);
  if (!audited) return tl::unexpected(audited.error());
  return tx->commit();
}

Result<std::string> snapshot_json(store::Store& s, std::string_view site,
                                  const core::Clock& clock) {
  std::vector<Value> key = {std::string(site)};
  auto rows = s.query("SELECT inventory_site FROM sync_sites WHERE site = ?", key);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, fmt::format("no sync site '{}'", site));
  const std::string inventory_site = rows->front().text(0);
  std::string columns;
  for (auto f : editable_device_fields()) columns += fmt::format(", d.{}", f);
  json devices = json::array();
  std::vector<Value> filter = {inventory_site, inventory_site};
  VIGIE_TRY(s.for_each(
      fmt::format("SELECT d.id, d.updated_at, d.vendor, d.product, d.serial_number, s.name{} "
                  "FROM devices d LEFT JOIN sites s ON s.id = d.site_id "
                  "WHERE (? = '' OR LOWER(s.name) = LOWER(?)) ORDER BY d.id",
                  columns),
      filter, [&](const store::Row& r) {
        json fields = json::object();
        size_t i = 6;
        for (auto f : editable_device_fields()) fields[std::string(f)] = r.text(i++);
        std::string label = fmt::format("{} {}", r.text(2), r.text(3));
        if (!r.text(4).empty()) label += " s/n " + r.text(4);
        devices.push_back({{"id", r.integer(0)},
                           {"version", r.text(1)},
                           {"label", label},
                           {"site", r.text(5)},
                           {"fields", fields}});
        return true;
      }));
  json findings = json::array();
  VIGIE_TRY(
      s.for_each("SELECT f.id, f.device_id, a.tracking_id, a.title, f.status FROM findings f "
                 "JOIN advisories a ON a.id = f.advisory_id JOIN devices d ON d.id = f.device_id "
                 "LEFT JOIN sites s ON s.id = d.site_id "
                 "WHERE (f.status = 'open' OR f.status = 'in_progress') "
                 "AND (? = '' OR LOWER(s.name) = LOWER(?)) ORDER BY f.id",
                 filter, [&](const store::Row& r) {
                   findings.push_back({{"id", r.integer(0)},
                                       {"device_id", r.integer(1)},
                                       {"advisory", r.text(2)},
                                       {"title", r.text(3)},
                                       {"status", r.text(4)}});
                   return true;
                 }));
  return dump({{"site", site},
               {"taken_at", core::format_utc(clock.now())},
               {"devices", devices},
               {"findings", findings}});
}

Result<std::pair<std::vector<SnapshotDevice>, std::vector<SnapshotFinding>>> parse_snapshot(
    std::string_view body, std::string* taken_at) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("devices") ||
      !doc["devices"].is_array() || !doc.contains("findings") || !doc["findings"].is_array()) {
    return fail(ErrorCode::kInvalidInput, "the snapshot is not the expected JSON document", "/");
  }
  std::pair<std::vector<SnapshotDevice>, std::vector<SnapshotFinding>> out;
  try {
    for (const auto& d : doc["devices"]) {
      out.first.push_back({d.at("id").get<std::int64_t>(), d.at("version").get<std::string>(),
                           d.at("label").get<std::string>(), d.at("site").get<std::string>(),
                           d.at("fields").dump()});
    }
    for (const auto& f : doc["findings"]) {
      out.second.push_back({f.at("id").get<std::int64_t>(), f.at("device_id").get<std::int64_t>(),
                            f.at("advisory").get<std::string>(), f.at("title").get<std::string>(),
                            f.at("status").get<std::string>()});
    }
    if (taken_at != nullptr) *taken_at = doc.value("taken_at", "");
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidInput, fmt::format("the snapshot is malformed: {}", e.what()));
  }
  return out;
}

}  // namespace vigie::resilience
