#include <fmt/format.h>

#include <charconv>

#include "store_internal.h"
#include "vigie/core/time.h"

namespace vigie::store {

std::string Row::text(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* sv = std::get_if<std::string_view>(&v)) return std::string(*sv);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return {};
}

std::int64_t Row::integer(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return internal::open_postgres(url);
  }
  std::string path = sqlite_path(url);
  if (path.empty()) return core::fail(core::ErrorCode::kUsage, "empty SQLite path", url);
  return internal::open_sqlite(path);
}

std::string resolve_url(const std::string& url, const std::filesystem::path& home) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return url;
  std::filesystem::path p(sqlite_path(url));
  if (p.is_relative()) p = home / p;
  return "sqlite:" + p.string();
}

std::string sqlite_path(const std::string& url) {
  std::string path = url.starts_with("sqlite:") ? url.substr(7) : url;
  if (path.starts_with("//")) path = path.substr(2);  // sqlite:///abs/path
  return path;
}

Result<std::int64_t> Store::query_int(std::string_view sql, std::span<const Value> params) {
  auto rows = query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty() || rows->front().size() == 0) return 0;
  return rows->front().integer(0);
}

Result<std::int64_t> Store::next_id(std::string_view table) {
  auto max = query_int(fmt::format("SELECT COALESCE(MAX(id), 0) FROM {}", table));
  if (!max) return max;
  return *max + 1;
}

Status Store::defer_indexes(std::string_view table) {
  auto indexes = secondary_indexes(table);
  if (!indexes) return tl::unexpected(indexes.error());
  for (auto& [name, create] : *indexes) {
    VIGIE_TRY(execute(fmt::format("DROP INDEX {}", name)));
    deferred_indexes_.push_back(std::move(create));
  }
  auto keys = droppable_foreign_keys(table);
  if (!keys) return tl::unexpected(keys.error());
  for (auto& [name, definition] : *keys) {
    VIGIE_TRY(execute(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", table, name)));
    deferred_indexes_.push_back(
        fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}", table, name, definition));
  }
  return {};
}

Status Store::restore_indexes() {
  std::vector<std::string> pending;
  pending.swap(deferred_indexes_);
  if (!pending.empty()) VIGIE_TRY(prepare_index_rebuild());
  for (const auto& create : pending) VIGIE_TRY(execute(create));
  return {};
}

Result<Transaction> Transaction::begin(Store& store) {
  VIGIE_TRY(store.begin());
  return Transaction(store);
}

Result<Transaction> Transaction::begin_bulk_load(Store& store) {
  VIGIE_TRY(store.begin_bulk_load());
  return Transaction(store);
}

Transaction::~Transaction() {
  if (store_ != nullptr) store_->rollback();
}

Status Transaction::commit() {
  Store* s = store_;
  store_ = nullptr;
  if (s == nullptr) return core::fail(core::ErrorCode::kInternal, "transaction already ended");
  auto st = s->commit();
  if (!st) s->rollback();
  return st;
}

namespace internal {

namespace {

// Keeps the text between `{NAME}` and `{/NAME}` (without the markers) when `keep`, else drops it.
void resolve_blocks(std::string& sql, std::string_view name, bool keep) {
  const std::string open = fmt::format("{{{}}}", name);
  const std::string close = fmt::format("{{/{}}}", name);
  for (size_t pos = sql.find(open); pos != std::string::npos; pos = sql.find(open, pos)) {
    size_t end = sql.find(close, pos);
    if (end == std::string::npos) end = sql.size();
    if (keep) {
      sql.erase(end, std::min(close.size(), sql.size() - end));
      sql.erase(pos, open.size());
    } else {
      sql.erase(pos, std::min(end + close.size(), sql.size()) - pos);
    }
  }
}

}  // namespace

std::string apply_dialect(std::string_view sql, Backend backend) {
  std::string out(sql);
  resolve_blocks(out, "sqlite", backend == Backend::kSqlite);
  resolve_blocks(out, "postgres", backend == Backend::kPostgres);
  const std::string pk = backend == Backend::kSqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY";
  for (size_t pos = out.find("{pk}"); pos != std::string::npos; pos = out.find("{pk}", pos)) {
    out.replace(pos, 4, pk);
    pos += pk.size();
  }
  return out;
}

Status migrate(Store& store, const std::function<Status(std::string_view)>& script) {
  VIGIE_TRY(
      script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
             "description TEXT NOT NULL, applied_at TEXT NOT NULL)"));
  for (const Migration& m : migrations()) {
    auto tx = Transaction::begin(store);
    if (!tx) return tl::unexpected(tx.error());
    VIGIE_TRY(store.lock_table("schema_version"));
    Value v = std::int64_t{m.version};
    auto done = store.query_int("SELECT COUNT(*) FROM schema_version WHERE version = ?", {&v, 1});
    if (!done) return tl::unexpected(done.error());
    if (*done > 0) continue;  // the transaction guard rolls back the empty transaction
    if (auto st = script(apply_dialect(m.sql, store.backend())); !st) {
      return core::fail(core::ErrorCode::kStore,
                        fmt::format("migration {} ({}) failed: {}", m.version, m.description,
                                    st.error().message));
    }
    std::vector<Value> row = {std::int64_t{m.version}, std::string(m.description),
                              core::format_utc(core::utc_now())};
    VIGIE_TRY(store.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)", row));
    VIGIE_TRY(tx->commit());
  }
  return {};
}

}  // namespace internal
}  // namespace vigie::store
