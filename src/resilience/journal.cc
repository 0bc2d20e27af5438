#include "vigie/resilience/journal.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "vigie/inventory/model.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

constexpr int kBusyTimeoutMs = 30000;

// One file: the entries (insert-only), the settings and the snapshot. The triggers make the
// journal append-only for every writer, including a person with the sqlite3 shell who does not
// drop them first; verify() catches the rest.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  site TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 1),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  object TEXT NOT NULL,
  payload TEXT NOT NULL,
  base_version TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  PRIMARY KEY (site, seq)
);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the offline journal is insert-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the offline journal is insert-only'); END;
CREATE TABLE IF NOT EXISTS snapshot_devices (
  id INTEGER PRIMARY KEY,
  version TEXT NOT NULL,
  label TEXT NOT NULL,
  site TEXT NOT NULL,
  fields TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_findings (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL,
  advisory TEXT NOT NULL,
  title TEXT NOT NULL,
  status TEXT NOT NULL
);
)sql";

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;
struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;

constexpr std::array<std::string_view, 5> kKinds = {"device-status", "device-edit", "mitigation",
                                                    "backup-check", "note"};

// The offline PC edits what a person sees on the device; identity fields (vendor, product,
// serial) and placement (site, zone) stay with the central inventory.
constexpr std::array<std::string_view, 11> kEditable = {"software_version",
                                                        "hardware_revision",
                                                        "os",
                                                        "location",
                                                        "owner",
                                                        "criticality",
                                                        "status",
                                                        "new_owner",
                                                        "maintenance_contract",
                                                        "part_number",
                                                        "udi"};

// "LENGTH:" then the bytes. Written without fmt: a sync hashes every entry on both sides.
void add_field(EVP_MD_CTX* ctx, std::string_view field) {
  std::array<char, 24> length{};
  auto [end, ec] = std::to_chars(length.data(), length.data() + length.size() - 1, field.size());
  *end++ = ':';
  EVP_DigestUpdate(ctx, length.data(), static_cast<size_t>(end - length.data()));
  EVP_DigestUpdate(ctx, field.data(), field.size());
}

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string text_column(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

std::optional<std::string> require_string(const json& payload, const char* key, bool non_empty) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_string()) {
    return fmt::format("payload needs a string \"{}\"", key);
  }
  if (non_empty && it->get<std::string>().empty()) {
    return fmt::format("payload \"{}\" is empty", key);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(EntryKind kind) { return kKinds.at(static_cast<size_t>(kind)); }

std::optional<EntryKind> parse_entry_kind(std::string_view text) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i] == text) return static_cast<EntryKind>(i);
  }
  return std::nullopt;
}

std::string entry_hash(const JournalEntry& e) {
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  add_field(ctx.get(), e.prev_hash);
  add_field(ctx.get(), e.site);
  std::array<char, 24> seq{};
  auto [seq_end, seq_ec] = std::to_chars(seq.data(), seq.data() + seq.size(), e.seq);
  add_field(ctx.get(), std::string_view(seq.data(), static_cast<size_t>(seq_end - seq.data())));
  add_field(ctx.get(), e.at);
  add_field(ctx.get(), e.actor);
  add_field(ctx.get(), e.kind);
  add_field(ctx.get(), e.object);
  add_field(ctx.get(), e.payload);
  add_field(ctx.get(), e.base_version);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex(static_cast<size_t>(length) * 2, '0');
  for (size_t i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::optional<std::int64_t> object_id(std::string_view object, std::string_view prefix) {
  if (!object.starts_with(prefix) || object.size() <= prefix.size() ||
      object[prefix.size()] != ':') {
    return std::nullopt;
  }
  std::string_view digits = object.substr(prefix.size() + 1);
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || p != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

std::span<const std::string_view> editable_device_fields() { return kEditable; }

Result<std::string> normalize_device_field(std::string_view field, std::string_view value) {
  if (std::find(kEditable.begin(), kEditable.end(), field) == kEditable.end()) {
    return fail(ErrorCode::kInvalidInput, fmt::format("'{}' cannot be edited offline (one of: {})",
                                                      field, fmt::join(kEditable, ", ")));
  }
  std::string v(value);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
  if (field == "criticality" && !v.empty()) {
    auto c = inventory::parse_criticality(v);
    if (!c) return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a criticality", v));
    return std::string(inventory::to_string(*c));
  }
  if (field == "status") {
    if (v.empty()) return fail(ErrorCode::kInvalidInput, "status cannot be empty");
    auto s = inventory::parse_status(v);
    if (!s) return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a device status", v));
    return std::string(inventory::to_string(*s));
  }
  if (field == "criticality") {
    return fail(ErrorCode::kInvalidInput, "criticality cannot be empty");
  }
  return v;
}

std::optional<std::string> check_entry(const JournalEntry& e) {
  if (e.site.empty()) return "the site is empty";
  if (e.actor.empty()) return "the actor is empty";
  if (e.seq < 1) return "seq must be 1 or more";
  if (!core::parse_utc(e.at)) return fmt::format("time '{}' is not ISO 8601", e.at);
  auto kind = parse_entry_kind(e.kind);
  if (!kind) return fmt::format("unknown kind '{}'", e.kind);
  json payload = json::parse(e.payload, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return "the payload is not a JSON object";
  switch (*kind) {
    case EntryKind::kDeviceStatus: {
      if (!object_id(e.object, "device")) return "the object must be device:ID";
      if (auto why = require_string(payload, "status", true)) return why;
      if (auto why = require_string(payload, "base", false)) return why;
      if (!inventory::parse_status(payload["status"].get<std::string>())) {
        return fmt::format("'{}' is not a device status", payload["status"].get<std::string>());
      }
      break;
    }
    case EntryKind::kDeviceEdit: {
      if (!object_id(e.object, "device")) return "the object must be device:ID";
      if (auto why = require_string(payload, "field", true)) return why;
      if (auto why = require_string(payload, "value", false)) return why;
      if (auto why = require_string(payload, "base", false)) return why;
      auto v = normalize_device_field(payload["field"].get<std::string>(),
                                      payload["value"].get<std::string>());
      if (!v) return v.error().message;
      break;
    }
    case EntryKind::kMitigation:
      if (!object_id(e.object, "finding")) return "the object must be finding:ID";
      if (auto why = require_string(payload, "note", true)) return why;
      break;
    case EntryKind::kBackupCheck: {
      if (!e.object.starts_with("system:") && !object_id(e.object, "device")) {
        return "the object must be system:NAME or device:ID";
      }
      if (e.object == "system:") return "the system name is empty";
      if (auto why = require_string(payload, "result", true)) return why;
      auto r = payload["result"].get<std::string>();
      if (r != "ok" && r != "failed") return "result must be ok or failed";
      break;
    }
    case EntryKind::kNote:
      if (e.object.empty()) return "the object is empty";
      if (auto why = require_string(payload, "text", true)) return why;
      break;
  }
  return std::nullopt;
}

struct Journal::Impl {
  DbPtr db;
  std::filesystem::path file;
  std::string site;

  core::Error error(std::string_view what) const {
    return {ErrorCode::kStore, fmt::format("{}: {}", what, sqlite3_errmsg(db.get())),
            file.string()};
  }

  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string m = message == nullptr ? "failed" : message;
      sqlite3_free(message);
      return fail(ErrorCode::kStore, m, file.string());
    }
    return {};
  }

  Result<StmtPtr> prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &s, nullptr) !=
        SQLITE_OK) {
      return tl::unexpected(error("cannot prepare a statement"));
    }
    return StmtPtr(s);
  }

  static void bind(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

  Status step_done(sqlite3_stmt* s, std::string_view what) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return tl::unexpected(error(what));
    return {};
  }

  // Rolls back unless committed.
  class Tx {
   public:
    explicit Tx(Impl* impl) : impl_(impl) {}
    Tx(Tx&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
    Tx& operator=(Tx&&) = delete;
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    ~Tx() {
      if (impl_ == nullptr) return;
      Impl* impl = impl_;
      if (sqlite3_get_autocommit(impl->db.get()) == 0) {
        sqlite3_exec(impl->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
    Status commit() {
      Impl* impl = std::exchange(impl_, nullptr);
      return impl->exec("COMMIT");
    }

   private:
    Impl* impl_;
  };
  Result<Tx> begin() {
    VIGIE_TRY(exec("BEGIN IMMEDIATE"));
    return Tx(this);
  }

  static JournalEntry entry_of(sqlite3_stmt* s) {
    JournalEntry e;
    e.site = text_column(s, 0);
    e.seq = sqlite3_column_int64(s, 1);
    e.at = text_column(s, 2);
    e.actor = text_column(s, 3);
    e.kind = text_column(s, 4);
    e.object = text_column(s, 5);
    e.payload = text_column(s, 6);
    e.base_version = text_column(s, 7);
    e.prev_hash = text_column(s, 8);
    e.hash = text_column(s, 9);
    return e;
  }

  Result<JournalEntry> append_in_tx(const EntryInput& input, const std::string& at);

  // An edit or status change recorded offline becomes the snapshot's value, so that the next
  // edit of the same field is based on it.
  Status follow_in_snapshot(const JournalEntry& e) {
    auto kind = parse_entry_kind(e.kind);
    if (kind != EntryKind::kDeviceEdit && kind != EntryKind::kDeviceStatus) return {};
    auto id = object_id(e.object, "device");
    json payload = json::parse(e.payload);
    std::string field = kind == EntryKind::kDeviceStatus ? std::string("status")
                                                         : payload["field"].get<std::string>();
    std::string value = payload[kind == EntryKind::kDeviceStatus ? "status" : "value"];
    if (auto v = normalize_device_field(field, value)) value = *v;
    auto read = prepare("SELECT fields FROM snapshot_devices WHERE id = ?");
    if (!read) return tl::unexpected(read.error());
    sqlite3_bind_int64(read->get(), 1, *id);
    if (sqlite3_step(read->get()) != SQLITE_ROW) return {};
    json fields = json::parse(text_column(read->get(), 0), nullptr, false);
    if (!fields.is_object()) fields = json::object();
    fields[field] = value;
    auto write = prepare("UPDATE snapshot_devices SET fields = ? WHERE id = ?");
    if (!write) return tl::unexpected(write.error());
    bind(write->get(), 1, fields.dump());
    sqlite3_bind_int64(write->get(), 2, *id);
    return step_done(write->get(), "cannot update the snapshot");
  }
};

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::Journal(Journal&& other) noexcept = default;
Journal& Journal::operator=(Journal&& other) noexcept = default;
Journal::~Journal() = default;

const std::string& Journal::site() const { return impl_->site; }
const std::filesystem::path& Journal::file() const { return impl_->file; }

namespace {

Result<DbPtr> open_db(const std::filesystem::path& file, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return fail(rc == SQLITE_CANTOPEN ? ErrorCode::kIo : ErrorCode::kStore,
                fmt::format("cannot open the offline journal: {}",
                            raw == nullptr ? "out of memory" : sqlite3_errmsg(raw)),
                file.string());
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // WAL with synchronous=FULL: a commit is on disk before append() returns (kill -9, power
  // cut), and `offline list` never blocks a recording.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (sqlite3_exec(db.get(), pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return fail(ErrorCode::kStore,
                  fmt::format("cannot set up the offline journal: {}", sqlite3_errmsg(db.get())),
                  file.string());
    }
  }
  return db;
}

}  // namespace

Result<Journal> Journal::create(const std::filesystem::path& file, std::string_view site) {
  if (site.empty()) return fail(ErrorCode::kUsage, "the site name is empty");
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    return fail(ErrorCode::kConflict, "an offline journal already exists here", file.string());
  }
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the directory: " + ec.message(), file);
  auto db = open_db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return tl::unexpected(db.error());
  ::chmod(file.c_str(), 0600);  // it holds the site's sync token
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->file = file;
  impl->site = std::string(site);
  VIGIE_TRY(impl->exec(kSchema));
  Journal journal(std::move(impl));
  VIGIE_TRY(journal.set_setting("site", site));
  return journal;
}

Result<Journal> Journal::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return fail(ErrorCode::kNotFound,
                "no offline journal here (run `vigie offline init --site S --server URL`)",
                file.string());
  }
  auto db = open_db(file, SQLITE_OPEN_READWRITE);
  if (!db) return tl::unexpected(db.error());
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->file = file;
  VIGIE_TRY(impl->exec(kSchema));
  Journal journal(std::move(impl));
  auto site = journal.setting("site");
  if (!site) return tl::unexpected(site.error());
  if (site->empty()) return fail(ErrorCode::kInvalidInput, "the journal names no site", file);
  journal.impl_->site = *site;
  return journal;
}

Result<std::string> Journal::setting(std::string_view key) {
  auto s = impl_->prepare("SELECT value FROM settings WHERE key = ?");
  if (!s) return tl::unexpected(s.error());
  Impl::bind(s->get(), 1, key);
  int rc = sqlite3_step(s->get());
  if (rc == SQLITE_ROW) return text_column(s->get(), 0);
  if (rc == SQLITE_DONE) return std::string();
  return tl::unexpected(impl_->error("cannot read a setting"));
}

Status Journal::set_setting(std::string_view key, std::string_view value) {
  auto s = impl_->prepare(
      "INSERT INTO settings (key, value) VALUES (?, ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!s) return tl::unexpected(s.error());
  Impl::bind(s->get(), 1, key);
  Impl::bind(s->get(), 2, value);
  return impl_->step_done(s->get(), "cannot write a setting");
}

Result<JournalEntry> Journal::append(const EntryInput& input, core::TimePoint at) {
  auto tx = impl_->begin();
  if (!tx) return tl::unexpected(tx.error());
  auto e = impl_->append_in_tx(input, core::format_utc(at));
  if (!e) return tl::unexpected(e.error());
  VIGIE_TRY(tx->commit());
  return e;
}

Result<std::int64_t> Journal::append_all(std::span<const EntryInput> inputs, core::TimePoint at) {
  auto tx = impl_->begin();
  if (!tx) return tl::unexpected(tx.error());
  const std::string when = core::format_utc(at);
  std::int64_t last = 0;
  for (const auto& input : inputs) {
    auto e = impl_->append_in_tx(input, when);
    if (!e) return tl::unexpected(e.error());
    last = e->seq;
  }
  VIGIE_TRY(tx->commit());
  return last;
}

Result<JournalEntry> Journal::Impl::append_in_tx(const EntryInput& input, const std::string& at) {
  auto last = prepare("SELECT seq, hash FROM entries WHERE site = ? ORDER BY seq DESC LIMIT 1");
  if (!last) return tl::unexpected(last.error());
  bind(last->get(), 1, site);
  JournalEntry e;
  e.site = site;
  e.seq = 1;
  int rc = sqlite3_step(last->get());
  if (rc == SQLITE_ROW) {
    e.seq = sqlite3_column_int64(last->get(), 0) + 1;
    e.prev_hash = text_column(last->get(), 1);
  } else if (rc != SQLITE_DONE) {
    return tl::unexpected(error("cannot read the journal"));
  }
  last->reset();
  e.at = at;
  e.actor = input.actor;
  e.kind = std::string(to_string(input.kind));
  e.object = input.object;
  e.payload = input.payload;
  e.base_version = input.base_version;
  if (auto why = check_entry(e)) return fail(ErrorCode::kInvalidInput, *why, e.object);
  e.hash = entry_hash(e);
  auto insert = prepare(
      "INSERT INTO entries (site, seq, at, actor, kind, object, payload, base_version, "
      "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return tl::unexpected(insert.error());
  sqlite3_stmt* s = insert->get();
  bind(s, 1, e.site);
  sqlite3_bind_int64(s, 2, e.seq);
  bind(s, 3, e.at);
  bind(s, 4, e.actor);
  bind(s, 5, e.kind);
  bind(s, 6, e.object);
  bind(s, 7, e.payload);
  bind(s, 8, e.base_version);
  bind(s, 9, e.prev_hash);
  bind(s, 10, e.hash);
  VIGIE_TRY(step_done(s, "cannot append to the journal"));
  VIGIE_TRY(follow_in_snapshot(e));
  return e;
}

Result<std::int64_t> Journal::last_seq() {
  auto s = impl_->prepare("SELECT COALESCE(MAX(seq), 0) FROM entries WHERE site = ?");
  if (!s) return tl::unexpected(s.error());
  Impl::bind(s->get(), 1, impl_->site);
  if (sqlite3_step(s->get()) != SQLITE_ROW) {
    return tl::unexpected(impl_->error("cannot read the journal"));
  }
  return sqlite3_column_int64(s->get(), 0);
}

Status Journal::for_each(std::int64_t after_seq,
                         const std::function<bool(const JournalEntry&)>& on_entry) {
  auto s = impl_->prepare(
      "SELECT site, seq, at, actor, kind, object, payload, base_version, prev_hash, hash "
      "FROM entries WHERE site = ? AND seq > ? ORDER BY seq");
  if (!s) return tl::unexpected(s.error());
  Impl::bind(s->get(), 1, impl_->site);
  sqlite3_bind_int64(s->get(), 2, after_seq);
  while (true) {
    int rc = sqlite3_step(s->get());
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return tl::unexpected(impl_->error("cannot read the journal"));
    if (!on_entry(Impl::entry_of(s->get()))) return {};
  }
}

Result<JournalCheck> Journal::verify() {
  JournalCheck check;
  std::string prev;
  std::int64_t expected = 1;
  // Entries of another site in this file are a problem too: a journal belongs to one site.
  auto foreign = impl_->prepare("SELECT MIN(seq) FROM entries WHERE site <> ?");
  if (!foreign) return tl::unexpected(foreign.error());
  Impl::bind(foreign->get(), 1, impl_->site);
  if (sqlite3_step(foreign->get()) == SQLITE_ROW &&
      sqlite3_column_type(foreign->get(), 0) != SQLITE_NULL) {
    check.ok = false;
    check.first_bad_seq = sqlite3_column_int64(foreign->get(), 0);
    check.problem = "the journal holds entries of another site";
    return check;
  }
  auto status = for_each(0, [&](const JournalEntry& e) {
    auto fail_at = [&](std::string problem) {
      check.ok = false;
      check.first_bad_seq = e.seq;
      check.problem = std::move(problem);
      return false;
    };
    if (e.seq != expected) {
      return fail_at(fmt::format("entry {} is missing (next is {})", expected, e.seq));
    }
    if (e.prev_hash != prev) return fail_at("the link to the previous entry is broken");
    if (entry_hash(e) != e.hash) return fail_at("the entry's content does not match its hash");
    prev = e.hash;
    ++expected;
    ++check.entries;
    return true;
  });
  if (!status) return tl::unexpected(status.error());
  check.head = prev;
  return check;
}

Status Journal::replace_snapshot(std::span<const SnapshotDevice> devices,
                                 std::span<const SnapshotFinding> findings,
                                 std::string_view taken_at) {
  auto tx = impl_->begin();
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(impl_->exec("DELETE FROM snapshot_devices; DELETE FROM snapshot_findings;"));
  auto d = impl_->prepare(
      "INSERT INTO snapshot_devices (id, version, label, site, fields) VALUES (?, ?, ?, ?, ?)");
  if (!d) return tl::unexpected(d.error());
  for (const auto& device : devices) {
    sqlite3_bind_int64(d->get(), 1, device.id);
    Impl::bind(d->get(), 2, device.version);
    Impl::bind(d->get(), 3, device.label);
    Impl::bind(d->get(), 4, device.site);
    Impl::bind(d->get(), 5, device.fields);
    VIGIE_TRY(impl_->step_done(d->get(), "cannot write the snapshot"));
    sqlite3_reset(d->get());
  }
  auto f = impl_->prepare(
      "INSERT INTO snapshot_findings (id, device_id, advisory, title, status) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!f) return tl::unexpected(f.error());
  for (const auto& finding : findings) {
    sqlite3_bind_int64(f->get(), 1, finding.id);
    sqlite3_bind_int64(f->get(), 2, finding.device_id);
    Impl::bind(f->get(), 3, finding.advisory);
    Impl::bind(f->get(), 4, finding.title);
    Impl::bind(f->get(), 5, finding.status);
    VIGIE_TRY(impl_->step_done(f->get(), "cannot write the snapshot"));
    sqlite3_reset(f->get());
  }
  VIGIE_TRY(set_setting("snapshot_taken_at", taken_at));
  return tx->commit();
}

Result<std::optional<SnapshotDevice>> Journal::device(std::int64_t id) {
  auto s =
      impl_->prepare("SELECT id, version, label, site, fields FROM snapshot_devices WHERE id = ?");
  if (!s) return tl::unexpected(s.error());
  sqlite3_bind_int64(s->get(), 1, id);
  int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::optional<SnapshotDevice>();
  if (rc != SQLITE_ROW) return tl::unexpected(impl_->error("cannot read the snapshot"));
  return SnapshotDevice{sqlite3_column_int64(s->get(), 0), text_column(s->get(), 1),
                        text_column(s->get(), 2), text_column(s->get(), 3),
                        text_column(s->get(), 4)};
}

Result<std::optional<SnapshotFinding>> Journal::finding(std::int64_t id) {
  auto s = impl_->prepare(
      "SELECT id, device_id, advisory, title, status FROM snapshot_findings WHERE id = ?");
  if (!s) return tl::unexpected(s.error());
  sqlite3_bind_int64(s->get(), 1, id);
  int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::optional<SnapshotFinding>();
  if (rc != SQLITE_ROW) return tl::unexpected(impl_->error("cannot read the snapshot"));
  return SnapshotFinding{sqlite3_column_int64(s->get(), 0), sqlite3_column_int64(s->get(), 1),
                         text_column(s->get(), 2), text_column(s->get(), 3),
                         text_column(s->get(), 4)};
}

Result<std::vector<SnapshotDevice>> Journal::devices() {
  auto s =
      impl_->prepare("SELECT id, version, label, site, fields FROM snapshot_devices ORDER BY id");
  if (!s) return tl::unexpected(s.error());
  std::vector<SnapshotDevice> out;
  while (true) {
    int rc = sqlite3_step(s->get());
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return tl::unexpected(impl_->error("cannot read the snapshot"));
    out.push_back({sqlite3_column_int64(s->get(), 0), text_column(s->get(), 1),
                   text_column(s->get(), 2), text_column(s->get(), 3), text_column(s->get(), 4)});
  }
}

}  // namespace vigie::resilience
