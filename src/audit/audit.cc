#include "vigie/audit/audit.h"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "vigie/core/ids.h"
#include "vigie/core/openssl_ptr.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"

#include <fmt/format.h>

namespace vigie::audit {
namespace {

void add_field(EVP_MD_CTX* ctx, std::string_view field) {
  std::array<char, 24> length{};
  auto [end, ec] = std::to_chars(length.data(), length.data() + length.size() - 1, field.size());
  *end++ = ':';
  EVP_DigestUpdate(ctx, length.data(), static_cast<size_t>(end - length.data()));
  EVP_DigestUpdate(ctx, field.data(), field.size());
}

}  // namespace

std::string entry_hash(std::string_view prev_hash, std::int64_t id, std::string_view at,
                       const Entry& entry) {
  // One context per thread, reset for each entry: verification hashes millions of them.
  thread_local const core::OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> kContext(EVP_MD_CTX_new());
  EVP_MD_CTX* ctx = kContext.get();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  add_field(ctx, prev_hash);
  std::array<char, 24> id_text{};
  auto [id_end, ec] = std::to_chars(id_text.data(), id_text.data() + id_text.size(), id);
  add_field(ctx, std::string_view(id_text.data(), static_cast<size_t>(id_end - id_text.data())));
  add_field(ctx, at);
  add_field(ctx, entry.actor);
  add_field(ctx, entry.action);
  add_field(ctx, entry.object);
  add_field(ctx, entry.origin);
  add_field(ctx, entry.details);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx, digest.data(), &length);
  return core::to_hex(digest.data(), length);
}

namespace {

// The last entry of the log, under the table's lock: {0, ""} when it is empty.
Result<std::pair<std::int64_t, std::string>> locked_head(store::Store& store) {
  VIGIE_TRY(store.lock_table("audit_log"));
  auto last = store.query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1");
  if (!last) return tl::unexpected(last.error());
  if (last->empty()) return std::pair<std::int64_t, std::string>{0, ""};
  return std::pair<std::int64_t, std::string>{last->front().integer(0), last->front().text(1)};
}

}  // namespace

Result<std::int64_t> append(store::Store& store, const Entry& entry, std::string_view at) {
  auto head = locked_head(store);
  if (!head) return tl::unexpected(head.error());
  const std::int64_t id = head->first + 1;
  const std::string hash = entry_hash(head->second, id, at, entry);
  const store::Value params[] = {id,           std::string(at), entry.actor,   entry.action,
                                 entry.object, entry.origin,    entry.details, head->second,
                                 hash};
  VIGIE_TRY(store.execute(
      "INSERT INTO audit_log (id, at, actor, action, object, origin, details, prev_hash, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  return id;
}

Result<Appender> Appender::start(store::Store& store) {
  auto head = locked_head(store);
  if (!head) return tl::unexpected(head.error());
  static constexpr std::string_view kColumns[] = {
      "id", "at", "actor", "action", "object", "origin", "details", "prev_hash", "hash"};
  auto rows = store.inserter("audit_log", kColumns);
  if (!rows) return tl::unexpected(rows.error());
  return Appender(std::move(*rows), head->first, std::move(head->second));
}

Result<std::int64_t> Appender::append(const Entry& entry, std::string_view at) {
  const std::int64_t id = last_id_ + 1;
  std::string hash = entry_hash(last_hash_, id, at, entry);
  const store::Value row[] = {id,           std::string(at), entry.actor,   entry.action,
                              entry.object, entry.origin,    entry.details, last_hash_,
                              hash};
  VIGIE_TRY(rows_->add(row));
  last_id_ = id;
  last_hash_ = std::move(hash);
  return id;
}

Status Appender::finish() { return rows_->finish(); }

struct GroupWriter::Pending {
  Entry entry;
  std::string at;
  std::optional<Result<std::int64_t>> result;
};

GroupWriter::GroupWriter(store::Store& store) : store_(store), writer_([this] { run(); }) {}

GroupWriter::~GroupWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_one();
  writer_.join();
}

Result<std::int64_t> GroupWriter::append(Entry entry, std::string at) {
  Pending pending{std::move(entry), std::move(at), std::nullopt};
  std::unique_lock lock(mutex_);
  queue_.push_back(&pending);
  if (queue_.size() == 1) work_.notify_one();  // the writer sleeps only on an empty queue
  done_.wait(lock, [&] { return pending.result.has_value(); });
  return std::move(*pending.result);
}

std::int64_t GroupWriter::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

void GroupWriter::run() {
  while (true) {
    std::vector<Pending*> batch;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    // One transaction for everything that queued while the previous batch was committed.
    std::vector<Result<std::int64_t>> ids;
    ids.reserve(batch.size());
    Status status = [&]() -> Status {
      auto tx = store::Transaction::begin(store_);
      if (!tx) return tl::unexpected(tx.error());
      auto appender = Appender::start(store_);
      if (!appender) return tl::unexpected(appender.error());
      for (Pending* p : batch) {
        auto id = appender->append(p->entry, p->at);
        if (!id) return tl::unexpected(id.error());
        ids.emplace_back(*id);
      }
      VIGIE_TRY(appender->finish());
      return tx->commit();
    }();
    {
      std::lock_guard lock(mutex_);
      ++batches_;
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->result = status ? ids[i] : Result<std::int64_t>(tl::unexpected(status.error()));
      }
    }
    done_.notify_all();
  }
}

namespace {

struct StoredRow {
  std::int64_t id = 0;
  std::string at;
  Entry entry;
  std::string prev_hash;
  std::string hash;
};

// The index of the first row of `rows` whose content does not give its hash.
std::optional<size_t> first_mismatch(const std::vector<StoredRow>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const StoredRow& r = rows[i];
    if (entry_hash(r.prev_hash, r.id, r.at, r.entry) != r.hash) return i;
  }
  return std::nullopt;
}

}  // namespace

Result<Verification> verify(store::Store& store) {
  // The store is read on this thread, which checks the ids and links as rows arrive; the
  // hashes, independent of each other once each row carries its predecessor's, are recomputed
  // by chunks on the other cores.
  constexpr size_t kChunk = 8192;
  constexpr size_t kInFlight = 4;  // chunks hashed at once: bounds the memory held
  std::vector<std::future<std::optional<size_t>>> hashing;
  size_t collected = 0;
  std::optional<size_t> hash_bad;  // index (entries before it) of the first mismatch
  std::int64_t hash_bad_id = 0;
  std::vector<std::int64_t> chunk_first_ids;
  const auto collect = [&](size_t upto) {
    for (; collected < upto; ++collected) {
      auto bad = hashing[collected].get();
      if (bad && !hash_bad) {
        hash_bad = collected * kChunk + *bad;
        hash_bad_id = chunk_first_ids[collected] + static_cast<std::int64_t>(*bad);
      }
    }
  };
  std::vector<StoredRow> chunk;
  chunk.reserve(kChunk);
  const auto hand_over = [&] {
    if (hashing.size() >= collected + kInFlight) collect(hashing.size() - kInFlight + 1);
    chunk_first_ids.push_back(chunk.front().id);
    hashing.push_back(
        std::async(std::launch::async, [rows = std::move(chunk)] { return first_mismatch(rows); }));
    chunk = {};
    chunk.reserve(kChunk);
  };

  Verification v;
  std::string prev;
  std::int64_t expected_id = 0;
  std::int64_t read = 0;
  std::optional<std::int64_t> link_bad;
  auto status = store.for_each(
      "SELECT id, at, actor, action, object, origin, details, prev_hash, hash FROM audit_log "
      "ORDER BY id",
      {}, [&](const store::Row& row) {
        StoredRow r{row.integer(0),
                    row.text(1),
                    {row.text(2), row.text(3), row.text(4), row.text(5), row.text(6)},
                    row.text(7),
                    row.text(8)};
        if (expected_id != 0 && r.id != expected_id) {
          link_bad = r.id;
          v.problem = fmt::format("entry {} is missing (next is {})", expected_id, r.id);
          return false;
        }
        if (r.prev_hash != prev) {
          link_bad = r.id;
          v.problem = "the link to the previous entry is broken";
          return false;
        }
        prev = r.hash;
        expected_id = r.id + 1;
        ++read;
        chunk.push_back(std::move(r));
        if (chunk.size() == kChunk) hand_over();
        return true;
      });
  if (!chunk.empty()) hand_over();
  collect(hashing.size());
  if (!status) return tl::unexpected(status.error());
  if (hash_bad && (!link_bad || hash_bad_id < *link_bad)) {
    v.ok = false;
    v.first_bad_id = hash_bad_id;
    v.problem = "the entry's content does not match its hash";
    v.entries = static_cast<std::int64_t>(*hash_bad);
  } else if (link_bad) {
    v.ok = false;
    v.first_bad_id = *link_bad;
    v.entries = read;
  } else {
    v.entries = read;
    v.head = prev;
  }
  return v;
}

namespace {

// Whether `details` (a JSON object) names `key` with `value` (as a string or a number).
bool names(const nlohmann::json& details, std::string_view key, std::string_view value) {
  if (!details.is_object()) return false;
  auto it = details.find(key);
  if (it == details.end()) return false;
  if (it->is_string()) return it->get<std::string>() == value;
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>()) == value;
  return false;
}

Result<std::string> bound(std::string_view text, bool upper, std::string_view option) {
  if (text.empty()) return std::string();
  if (!core::parse_utc(text)) {
    return core::fail(core::ErrorCode::kUsage,
                      fmt::format("'{}' is not a date (YYYY-MM-DD) or an ISO 8601 time", text),
                      std::string(option));
  }
  // A bare date as the upper bound takes in its whole day ("T9" sorts after any time of it).
  if (upper && text.size() == 10) return std::string(text) + "T9";
  return std::string(text);
}

}  // namespace

Result<std::vector<StoredEntry>> select_entries(store::Store& store, const ExportFilter& filter) {
  auto from = bound(filter.from, false, "--from");
  if (!from) return tl::unexpected(from.error());
  auto to = bound(filter.to, true, "--to");
  if (!to) return tl::unexpected(to.error());
  const std::string device = filter.device_id != 0 ? std::to_string(filter.device_id) : "";
  const std::string device_object = "device:" + device;
  std::vector<StoredEntry> out;
  auto status = store.for_each(
      "SELECT id, at, actor, action, object, origin, details, hash FROM audit_log ORDER BY id", {},
      [&](const store::Row& row) {
        const std::string at = row.text(1);
        if ((!from->empty() && at < *from) || (!to->empty() && at > *to)) return true;
        StoredEntry e{row.integer(0), at,
                      Entry{row.text(2), row.text(3), row.text(4), row.text(5), row.text(6)},
                      row.text(7)};
        if (!filter.engineer.empty() || !device.empty()) {
          auto details = nlohmann::json::parse(e.entry.details, nullptr, false);
          if (!filter.engineer.empty() && e.entry.actor != filter.engineer &&
              !names(details, "engineer", filter.engineer)) {
            return true;
          }
          if (!device.empty() && e.entry.object != device_object &&
              !e.entry.object.starts_with(device_object + "/") &&
              !names(details, "device", device)) {
            return true;
          }
        }
        out.push_back(std::move(e));
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  return out;
}

std::string to_csv(const std::vector<StoredEntry>& entries) {
  std::string out = "id,at,actor,action,object,origin,details,hash\r\n";
  for (const StoredEntry& e : entries) {
    out += fmt::format("{},{},{},{},{},{},{},{}\r\n", e.id, core::csv_field(e.at),
                       core::csv_field(e.entry.actor), core::csv_field(e.entry.action),
                       core::csv_field(e.entry.object), core::csv_field(e.entry.origin),
                       core::csv_field(e.entry.details), e.hash);
  }
  return out;
}

std::string to_json(const std::vector<StoredEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  for (const StoredEntry& e : entries) {
    auto details = nlohmann::json::parse(e.entry.details, nullptr, false);
    list.push_back({{"id", e.id},
                    {"at", e.at},
                    {"actor", e.entry.actor},
                    {"action", e.entry.action},
                    {"object", e.entry.object},
                    {"origin", e.entry.origin},
                    {"details", details.is_discarded() ? nlohmann::json(e.entry.details) : details},
                    {"hash", e.hash}});
  }
  return list.dump(2) + "\n";
}

}  // namespace vigie::audit
