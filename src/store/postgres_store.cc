// PostgreSQL back-end over libpq: the same schema and SQL as SQLite; `?` placeholders become
// $1..$n, statements are prepared once per connection, large results stream in single-row
// mode, bulk inserts go as multi-row INSERTs.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <cstring>
#include <unordered_map>

#include "store_internal.h"

namespace vigie::store::internal {
namespace {

using core::ErrorCode;
using core::fail;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Type OIDs from pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Rewrites `?` placeholders outside string literals and quoted identifiers as $1..$n.
std::string number_placeholders(std::string_view sql, int& count) {
  std::string out;
  out.reserve(sql.size() + 16);
  char quote = 0;
  count = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++count);
    } else {
      out += c;
    }
  }
  return out;
}

// libpq's text parameters, kept alive for the duration of a call.
struct Params {
  std::vector<std::string> storage;
  std::vector<const char*> values;

  explicit Params(std::span<const Value> params) {
    storage.reserve(params.size());
    values.reserve(params.size());
    for (const Value& v : params) {
      if (std::holds_alternative<std::nullptr_t>(v)) {
        storage.emplace_back();
        values.push_back(nullptr);
        continue;
      }
      if (const auto* s = std::get_if<std::string>(&v)) {
        storage.push_back(*s);
      } else if (const auto* sv = std::get_if<std::string_view>(&v)) {
        storage.emplace_back(*sv);
      } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
        storage.push_back(std::to_string(*n));
      } else {
        storage.push_back(fmt::format("{}", std::get<double>(v)));
      }
      values.push_back(nullptr);  // filled below, once storage stops moving
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (!std::holds_alternative<std::nullptr_t>(params[i])) values[i] = storage[i].c_str();
    }
  }
};

Value column_value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return nullptr;
  const char* text = PQgetvalue(r, row, col);
  switch (PQftype(r, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      return static_cast<std::int64_t>(std::strtoll(text, nullptr, 10));
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return std::strtod(text, nullptr);
    case kBoolOid:
      return static_cast<std::int64_t>(text[0] == 't' ? 1 : 0);
    default:
      return std::string(text, static_cast<size_t>(PQgetlength(r, row, col)));
  }
}

class PostgresStore;

class PostgresInserter final : public Inserter {
 public:
  PostgresInserter(PostgresStore& store, std::string table, std::vector<std::string> columns);
  Status add(std::span<const Value> row) override;
  Status finish() override;

 private:
  Status flush();
  PostgresStore& store_;
  std::string table_;
  std::vector<std::string> columns_;
  std::string buffer_;  // COPY text of the rows not yet sent
};

class PostgresStore final : public Store {
 public:
  PostgresStore(ConnPtr conn, std::string where)
      : conn_(std::move(conn)), where_(std::move(where)) {}

  [[nodiscard]] Backend backend() const override { return Backend::kPostgres; }

  Status execute(std::string_view sql, std::span<const Value> params) override {
    auto r = exec_prepared(sql, params);
    if (!r) return tl::unexpected(r.error());
    return {};
  }

  Result<std::vector<Row>> query(std::string_view sql, std::span<const Value> params) override {
    auto r = exec_prepared(sql, params);
    if (!r) return tl::unexpected(r.error());
    std::vector<Row> rows;
    int n = PQntuples(r->get());
    int cols = PQnfields(r->get());
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) rows.push_back(make_row(r->get(), i, cols));
    return rows;
  }

  Status for_each(std::string_view sql, std::span<const Value> params,
                  const std::function<bool(const Row&)>& on_row) override {
    auto name = prepared_name(sql);
    if (!name) return tl::unexpected(name.error());
    Params p(params);
    if (PQsendQueryPrepared(conn_.get(), name->c_str(), static_cast<int>(params.size()),
                            p.values.data(), nullptr, nullptr, 0) == 0 ||
        PQsetSingleRowMode(conn_.get()) == 0) {
      return error("send query");
    }
    bool wanted = true;
    core::Error failure;
    bool failed = false;
    // Every result must be drained, even after the callback stops or an error.
    while (ResultPtr r{PQgetResult(conn_.get())}) {
      auto status = PQresultStatus(r.get());
      if (status == PGRES_SINGLE_TUPLE && wanted) {
        wanted = on_row(make_row(r.get(), 0, PQnfields(r.get())));
      } else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && !failed) {
        failed = true;
        failure = result_error(r.get(), sql).value();
      }
    }
    if (failed) return tl::unexpected(failure);
    return {};
  }

  Status begin() override { return script("BEGIN"); }
  Status commit() override { return script("COMMIT"); }
  void rollback() override {
    forget_deferred_indexes();
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE)
      ResultPtr r{PQexec(conn_.get(), "ROLLBACK")};
  }

  Result<std::unique_ptr<Inserter>> inserter(std::string_view table,
                                             std::span<const std::string_view> columns) override {
    return std::make_unique<PostgresInserter>(
        *this, std::string(table), std::vector<std::string>(columns.begin(), columns.end()));
  }

  Status lock_table(std::string_view table) override {
    return script(fmt::format("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", table));
  }

  Result<std::vector<std::pair<std::string, std::string>>> secondary_indexes(
      std::string_view table) override {
    std::vector<std::pair<std::string, std::string>> out;
    VIGIE_TRY(
        for_each("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                 "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                 "JOIN pg_namespace n ON n.oid = t.relnamespace "
                 "WHERE t.relname = ? AND n.nspname = current_schema() AND NOT i.indisprimary "
                 "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                 "ORDER BY c.relname",
                 std::vector<Value>{std::string(table)}, [&](const Row& r) {
                   out.emplace_back(r.text(0), r.text(1));
                   return true;
                 }));
    return out;
  }

  Result<std::vector<std::pair<std::string, std::string>>> droppable_foreign_keys(
      std::string_view table) override {
    std::vector<std::pair<std::string, std::string>> out;
    VIGIE_TRY(for_each(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE t.relname = ? AND n.nspname = current_schema() AND c.contype = 'f' "
        "ORDER BY c.conname",
        std::vector<Value>{std::string(table)}, [&](const Row& r) {
          out.emplace_back(r.text(0), r.text(1));
          return true;
        }));
    return out;
  }

  // CREATE INDEX refuses a table with pending deferred foreign-key checks: run them now.
  Status prepare_index_rebuild() override { return script("SET CONSTRAINTS ALL IMMEDIATE"); }

  int schema_version() override {
    auto v = query_int("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    return v ? static_cast<int>(*v) : 0;
  }

  Status script(std::string_view sql) {
    ResultPtr r{PQexec(conn_.get(), std::string(sql).c_str())};
    auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return result_error(r.get(), sql);
    }
    return {};
  }

  // Runs `sql` (a COPY ... FROM STDIN) and sends `data` as its input.
  Status copy_in(const std::string& sql, std::string_view data) {
    ResultPtr start{PQexec(conn_.get(), sql.c_str())};
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) return result_error(start.get(), sql);
    constexpr size_t kChunk = 1 << 20;
    for (size_t off = 0; off < data.size(); off += kChunk) {
      size_t n = std::min(kChunk, data.size() - off);
      if (PQputCopyData(conn_.get(), data.data() + off, static_cast<int>(n)) != 1) {
        return error("COPY data");
      }
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) return error("COPY end");
    core::Error failure;
    bool failed = false;
    while (ResultPtr r{PQgetResult(conn_.get())}) {
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && !failed) {
        failed = true;
        failure = result_error(r.get(), sql).value();
      }
    }
    if (failed) return tl::unexpected(failure);
    return {};
  }

  Result<ResultPtr> exec_prepared(std::string_view sql, std::span<const Value> params) {
    auto name = prepared_name(sql);
    if (!name) return tl::unexpected(name.error());
    Params p(params);
    ResultPtr r{PQexecPrepared(conn_.get(), name->c_str(), static_cast<int>(params.size()),
                               p.values.data(), nullptr, nullptr, 0)};
    auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return result_error(r.get(), sql);
    }
    return r;
  }

 private:
  static Row make_row(const PGresult* r, int row, int cols) {
    std::vector<Value> values;
    values.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) values.push_back(column_value(r, row, c));
    return Row(std::move(values));
  }

  tl::unexpected<core::Error> error(std::string_view context) const {
    return fail(ErrorCode::kStore, fmt::format("{} (in: {})", PQerrorMessage(conn_.get()), context),
                where_);
  }

  tl::unexpected<core::Error> result_error(const PGresult* r, std::string_view sql) const {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    // Class 23: integrity constraint violation.
    ErrorCode kind = state != nullptr && std::strncmp(state, "23", 2) == 0 ? ErrorCode::kConflict
                                                                           : ErrorCode::kStore;
    std::string msg = PQresultErrorMessage(r);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (sql.size() > 200) sql = sql.substr(0, 200);
    return fail(kind, fmt::format("{} (in: {})", msg, sql), where_);
  }

  Result<std::string> prepared_name(std::string_view sql) {
    std::string key(sql);
    if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
    int count = 0;
    std::string numbered = number_placeholders(sql, count);
    std::string name = fmt::format("s{}", prepared_.size() + 1);
    ResultPtr r{PQprepare(conn_.get(), name.c_str(), numbered.c_str(), count, nullptr)};
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return result_error(r.get(), sql);
    prepared_.emplace(std::move(key), name);
    return name;
  }

  ConnPtr conn_;
  std::string where_;
  std::unordered_map<std::string, std::string> prepared_;
};

// Rows are buffered as COPY text and sent as one COPY ... FROM STDIN per few MiB: each COPY
// completes before the next statement, so inserters of several tables can interleave.
constexpr size_t kCopyFlushBytes = 8 << 20;

// COPY's text format: tab-separated, \N for NULL, backslash escapes.
void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

PostgresInserter::PostgresInserter(PostgresStore& store, std::string table,
                                   std::vector<std::string> columns)
    : store_(store), table_(std::move(table)), columns_(std::move(columns)) {
  buffer_.reserve(kCopyFlushBytes + (1 << 16));
}

Status PostgresInserter::add(std::span<const Value> row) {
  if (row.size() != columns_.size()) {
    return fail(ErrorCode::kInternal, fmt::format("insert into {}: {} values for {} columns",
                                                  table_, row.size(), columns_.size()));
  }
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) buffer_ += '\t';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            buffer_ += "\\N";
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            buffer_ += std::to_string(v);
          } else if constexpr (std::is_same_v<T, double>) {
            buffer_ += fmt::format("{}", v);
          } else {
            append_copy_text(buffer_, v);
          }
        },
        row[i]);
  }
  buffer_ += '\n';
  if (buffer_.size() >= kCopyFlushBytes) return flush();
  return {};
}

Status PostgresInserter::finish() { return flush(); }

Status PostgresInserter::flush() {
  if (buffer_.empty()) return {};
  std::string sql = fmt::format("COPY {} ({}) FROM STDIN", table_, fmt::join(columns_, ", "));
  auto st = store_.copy_in(sql, buffer_);
  buffer_.clear();
  return st;
}

}  // namespace

Result<std::unique_ptr<Store>> open_postgres(const std::string& url) {
  ConnPtr conn{PQconnectdb(url.c_str())};
  // The URL may hold a password: never echo it, name only host/db.
  std::string where = "postgresql";
  if (conn && PQstatus(conn.get()) == CONNECTION_OK) {
    where = fmt::format("postgresql://{}:{}/{}", PQhost(conn.get()), PQport(conn.get()),
                        PQdb(conn.get()));
  }
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return fail(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + msg, where);
  }
  auto store = std::make_unique<PostgresStore>(std::move(conn), where);
  PostgresStore& s = *store;
  VIGIE_TRY(s.script("SET client_min_messages = warning; SET synchronous_commit = on"));
  // Concurrent first starts race on CREATE TABLE: serialise them on an advisory lock.
  VIGIE_TRY(s.script("SELECT pg_advisory_lock(7201001)"));
  auto st = migrate(s, [&s](std::string_view sql) { return s.script(sql); });
  (void)s.script("SELECT pg_advisory_unlock(7201001)");
  if (!st) return tl::unexpected(st.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace vigie::store::internal
