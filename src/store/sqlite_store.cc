// SQLite back-end: one file in WAL mode (readers never block the writer), synchronous=FULL so
// that a committed transaction survives a power cut, foreign keys on, a busy timeout so that
// concurrent processes wait for the write lock instead of failing.
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <unordered_map>

#include "store_internal.h"
#include "vigie/core/log.h"

namespace vigie::store::internal {
namespace {

using core::ErrorCode;
using core::fail;

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;

constexpr int kBusyTimeoutMs = 30000;

class SqliteStore;

// Rows are bound into a multi-row INSERT of kBatchRows rows (one statement step per batch
// instead of per row); the rest goes through the one-row statement at finish(). Pending rows
// are copied into flat buffers reused from batch to batch (text bound SQLITE_STATIC from
// them), so that adding a row allocates nothing and the caller's values need not outlive
// the call.
class SqliteInserter final : public Inserter {
 public:
  static constexpr int kBatchRows = 32;
  SqliteInserter(SqliteStore& store, StmtPtr single, StmtPtr batch, int columns)
      : store_(store), single_(std::move(single)), batch_(std::move(batch)), columns_(columns) {}
  Status add(std::span<const Value> row) override;
  Status finish() override;

  // One pending value: text is text_[offset, offset + size).
  struct Cell {
    enum class Kind : std::uint8_t { kNull, kInteger, kReal, kText } kind = Kind::kNull;
    std::int64_t integer = 0;
    double real = 0;
    size_t offset = 0;
    size_t size = 0;
  };

 private:
  Status bind_rows(sqlite3_stmt* stmt, size_t first_cell, size_t cells);

  SqliteStore& store_;
  StmtPtr single_;
  StmtPtr batch_;
  int columns_;
  std::vector<Cell> cells_;  // the values of the rows not yet inserted
  std::string text_;         // their text
};

class SqliteStore final : public Store {
 public:
  SqliteStore(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  [[nodiscard]] Backend backend() const override { return Backend::kSqlite; }

  Status execute(std::string_view sql, std::span<const Value> params) override {
    auto stmt = prepare_cached(sql);
    if (!stmt) return tl::unexpected(stmt.error());
    return run(*stmt, params, nullptr);
  }

  Result<std::vector<Row>> query(std::string_view sql, std::span<const Value> params) override {
    std::vector<Row> rows;
    VIGIE_TRY(for_each(sql, params, [&](const Row& r) {
      rows.push_back(r);
      return true;
    }));
    return rows;
  }

  Status for_each(std::string_view sql, std::span<const Value> params,
                  const std::function<bool(const Row&)>& on_row) override {
    auto stmt = prepare_cached(sql);
    if (!stmt) return tl::unexpected(stmt.error());
    return run(*stmt, params, &on_row);
  }

  Status begin() override { return exec_script("BEGIN IMMEDIATE"); }
  Status commit() override {
    auto st = exec_script("COMMIT");
    if (st) warn_unless_wal();
    return st;
  }
  void rollback() override {
    forget_deferred_indexes();
    if (sqlite3_get_autocommit(db_.get()) == 0)
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    warn_unless_wal();
  }

  // Leaving WAL mode needs the only connection to the file: with another one open (a
  // daemon, a reader), SQLite keeps WAL and the load goes through the log as usual.
  Status begin_bulk_load() override {
    // Another connection makes the switch fail (SQLITE_BUSY) or keep "wal": both mean WAL.
    auto mode = query_text("PRAGMA journal_mode=DELETE");
    left_wal_ = mode && *mode == "delete";
    auto st = begin();
    if (!st) warn_unless_wal();
    return st;
  }

  Result<std::unique_ptr<Inserter>> inserter(std::string_view table,
                                             std::span<const std::string_view> columns) override {
    std::string tuple = "(";
    for (size_t i = 0; i < columns.size(); ++i) tuple += i == 0 ? "?" : ", ?";
    tuple += ")";
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", table, fmt::join(columns, ", "));
    std::string batch_sql = sql;
    for (int r = 0; r < SqliteInserter::kBatchRows; ++r) batch_sql += (r == 0 ? "" : ", ") + tuple;
    sql += tuple;
    sqlite3_stmt* single = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &single, nullptr) != SQLITE_OK) {
      return error(sql);
    }
    StmtPtr single_ptr(single);
    sqlite3_stmt* batch = nullptr;
    if (sqlite3_prepare_v2(db_.get(), batch_sql.c_str(), -1, &batch, nullptr) != SQLITE_OK) {
      return error(batch_sql);
    }
    return std::make_unique<SqliteInserter>(*this, std::move(single_ptr), StmtPtr(batch),
                                            static_cast<int>(columns.size()));
  }

  Status lock_table(std::string_view) override { return {}; }

  Result<std::vector<std::pair<std::string, std::string>>> secondary_indexes(
      std::string_view table) override {
    std::vector<std::pair<std::string, std::string>> out;
    // sql IS NULL for the automatic indexes of PRIMARY KEY / UNIQUE constraints.
    VIGIE_TRY(
        for_each("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                 "tbl_name = ? AND sql IS NOT NULL ORDER BY name",
                 std::vector<Value>{std::string(table)}, [&](const Row& r) {
                   out.emplace_back(r.text(0), r.text(1));
                   return true;
                 }));
    return out;
  }

  int schema_version() override {
    auto v = query_int("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    return v ? static_cast<int>(*v) : 0;
  }

  // After a bulk load. Not returning to WAL mode leaves a valid store (and the transaction
  // has ended as asked): readers wait for writers until the next open sets WAL mode again.
  void warn_unless_wal() {
    if (!left_wal_) return;
    left_wal_ = false;
    auto mode = query_text("PRAGMA journal_mode=WAL");
    if (mode && *mode == "wal") return;
    core::log_event(core::LogLevel::kWarn, "store.wal_not_restored",
                    {{"path", path_}, {"reason", mode ? *mode : mode.error().message}});
  }

  Result<std::string> query_text(std::string_view sql) {
    auto rows = query(sql, {});
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return std::string();
    return rows->front().text(0);
  }

  Status exec_script(std::string_view sql) {
    std::string s(sql);
    char* msg = nullptr;
    if (sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string why = msg != nullptr ? msg : sqlite3_errmsg(db_.get());
      sqlite3_free(msg);
      return fail(ErrorCode::kStore, why, path_);
    }
    return {};
  }

  Status bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    sqlite3_reset(stmt);
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
      return fail(ErrorCode::kInternal,
                  fmt::format("statement expects {} parameters, got {}",
                              sqlite3_bind_parameter_count(stmt), params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return sqlite3_bind_null(stmt, idx);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              return sqlite3_bind_int64(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt, idx, v);
            } else {
              // std::string or std::string_view: the values outlive the step that reads them.
              return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()),
                                       SQLITE_STATIC);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) return error("bind");
    }
    return {};
  }

  tl::unexpected<core::Error> bind_error(int rc) const {
    return fail(ErrorCode::kStore, fmt::format("bind: {}", sqlite3_errstr(rc)), path_);
  }

  Status step_done(sqlite3_stmt* stmt) {
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(sqlite3_sql(stmt));
    return {};
  }

 private:
  tl::unexpected<core::Error> error(std::string_view context) const {
    int code = sqlite3_extended_errcode(db_.get());
    ErrorCode kind = (code & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kStore;
    return fail(kind, fmt::format("{} (in: {})", sqlite3_errmsg(db_.get()), context), path_);
  }

  Result<sqlite3_stmt*> prepare_cached(std::string_view sql) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it != cache_.end() && sqlite3_stmt_busy(it->second.get()) == 0) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), key.c_str(), static_cast<int>(key.size()), &raw, nullptr) !=
        SQLITE_OK) {
      return error(sql);
    }
    if (it != cache_.end()) {
      // The cached statement is being stepped by an outer loop: use a one-off statement.
      extra_.emplace_back(raw);
      return raw;
    }
    return cache_.emplace(std::move(key), StmtPtr(raw)).first->second.get();
  }

  Status run(sqlite3_stmt* stmt, std::span<const Value> params,
             const std::function<bool(const Row&)>* on_row) {
    VIGIE_TRY(bind(stmt, params));
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() { sqlite3_reset(s); }
    } reset{stmt};
    int columns = sqlite3_column_count(stmt);
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return error(sqlite3_sql(stmt));
      if (on_row == nullptr) continue;
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            values.emplace_back(std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
      if (!(*on_row)(Row(std::move(values)))) return {};
    }
  }

  DbPtr db_;
  std::string path_;
  bool left_wal_ = false;  // in a bulk load with a rollback journal
  std::unordered_map<std::string, StmtPtr> cache_;
  std::vector<StmtPtr> extra_;
};

Status SqliteInserter::add(std::span<const Value> row) {
  if (row.size() != static_cast<size_t>(columns_)) {
    return fail(ErrorCode::kInternal,
                fmt::format("inserter expects {} values, got {}", columns_, row.size()));
  }
  for (const Value& value : row) {
    Cell& cell = cells_.emplace_back();
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            cell.kind = Cell::Kind::kNull;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            cell.kind = Cell::Kind::kInteger;
            cell.integer = v;
          } else if constexpr (std::is_same_v<T, double>) {
            cell.kind = Cell::Kind::kReal;
            cell.real = v;
          } else {
            cell.kind = Cell::Kind::kText;
            cell.offset = text_.size();
            cell.size = v.size();
            text_.append(v.data(), v.size());
          }
        },
        value);
  }
  if (cells_.size() < static_cast<size_t>(kBatchRows) * static_cast<size_t>(columns_)) return {};
  VIGIE_TRY(bind_rows(batch_.get(), 0, cells_.size()));
  auto st = store_.step_done(batch_.get());
  cells_.clear();
  text_.clear();
  return st;
}

// Binds cells_[first_cell, first_cell + cells) to the parameters of `stmt`. text_ does not
// change until the statement has been stepped, so its bytes are bound without a copy.
Status SqliteInserter::bind_rows(sqlite3_stmt* stmt, size_t first_cell, size_t cells) {
  sqlite3_reset(stmt);
  for (size_t i = 0; i < cells; ++i) {
    const Cell& cell = cells_[first_cell + i];
    int idx = static_cast<int>(i + 1);
    int rc = SQLITE_OK;
    switch (cell.kind) {
      case Cell::Kind::kNull:
        rc = sqlite3_bind_null(stmt, idx);
        break;
      case Cell::Kind::kInteger:
        rc = sqlite3_bind_int64(stmt, idx, cell.integer);
        break;
      case Cell::Kind::kReal:
        rc = sqlite3_bind_double(stmt, idx, cell.real);
        break;
      case Cell::Kind::kText:
        rc = sqlite3_bind_text(stmt, idx, text_.data() + cell.offset, static_cast<int>(cell.size),
                               SQLITE_STATIC);
        break;
    }
    if (rc != SQLITE_OK) return store_.bind_error(rc);
  }
  return {};
}

Status SqliteInserter::finish() {
  // The rows of an unfinished batch go one by one through the single-row statement.
  auto columns = static_cast<size_t>(columns_);
  for (size_t off = 0; off < cells_.size(); off += columns) {
    VIGIE_TRY(bind_rows(single_.get(), off, columns));
    VIGIE_TRY(store_.step_done(single_.get()));
  }
  cells_.clear();
  text_.clear();
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path) {
  // Memory statistics take a global mutex on every allocation; Vigie does not read them.
  static const int kMemstatusOff = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kMemstatusOff;
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return fail(ErrorCode::kIo,
                fmt::format("cannot open SQLite store: {}",
                            raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
                path);
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  auto store = std::make_unique<SqliteStore>(std::move(db), path);
  VIGIE_TRY(
      store->exec_script("PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA "
                         "synchronous=FULL; PRAGMA foreign_keys=ON; "
                         "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY; PRAGMA threads=2;"));
  SqliteStore& s = *store;
  VIGIE_TRY(migrate(s, [&s](std::string_view sql) { return s.exec_script(sql); }));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace vigie::store::internal
