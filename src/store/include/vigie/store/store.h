// The store: Vigie's database behind one interface, with two back-ends: SQLite (one file,
// the embedded default) and PostgreSQL (chosen by a postgresql:// URL). SQL is written once
// with `?` placeholders and the portable types of schema.cc; dialect differences stay in the
// back-ends. Opening a store applies the pending migrations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::store {

using core::Result;
using core::Status;

// A SQL value. Booleans are stored as 0/1 integers, times as ISO 8601 UTC text. A
// string_view parameter refers to text that outlives the call (constants, a batch's clock
// reading) and saves a copy per row on bulk paths; query results always own their text.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, std::string_view>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  [[nodiscard]] size_t size() const { return values_.size(); }
  [[nodiscard]] bool is_null(size_t i) const {
    return std::holds_alternative<std::nullptr_t>(values_.at(i));
  }
  // Text of column i ("" when NULL; numbers are formatted).
  [[nodiscard]] std::string text(size_t i) const;
  // Integer of column i (0 when NULL; text is parsed).
  [[nodiscard]] std::int64_t integer(size_t i) const;
  [[nodiscard]] const Value& value(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

enum class Backend { kSqlite, kPostgres };

// Adds rows to one table as fast as the back-end allows (a reused prepared statement for
// SQLite, multi-row INSERTs for PostgreSQL). Must be finished before the transaction commits.
class Inserter {
 public:
  virtual ~Inserter() = default;
  virtual Status add(std::span<const Value> row) = 0;
  virtual Status finish() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed) and migrates. `url` is "sqlite:PATH", a bare path, or
  // "postgresql://..." / "postgres://...".
  static Result<std::unique_ptr<Store>> open(const std::string& url);

  [[nodiscard]] virtual Backend backend() const = 0;

  virtual Status execute(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Result<std::vector<Row>> query(std::string_view sql,
                                         std::span<const Value> params = {}) = 0;
  // Streams the rows of a query; the callback returns false to stop early.
  virtual Status for_each(std::string_view sql, std::span<const Value> params,
                          const std::function<bool(const Row&)>& on_row) = 0;

  // Write transactions. SQLite takes the write lock at begin (BEGIN IMMEDIATE) so that a
  // transaction never fails half-way on a busy database; commit is durable (fsync).
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  // A write transaction that loads many rows into empty tables. SQLite leaves WAL mode for
  // its duration when no other connection has the file open: new pages are then written
  // once, to the database, instead of to the log and again at the checkpoint (a third of a
  // first import of 1M devices); other processes wait for the store meanwhile. Atomicity
  // and durability are the same (rollback journal, fsync); WAL mode is back when it ends.
  virtual Status begin_bulk_load() { return begin(); }

  virtual Result<std::unique_ptr<Inserter>> inserter(std::string_view table,
                                                     std::span<const std::string_view> columns) = 0;

  // Serialises writers that allocate ids (max(id)+1) in the current transaction. SQLite's
  // write lock already does; PostgreSQL locks the table.
  virtual Status lock_table(std::string_view table) = 0;

  [[nodiscard]] virtual int schema_version() = 0;

  // Bulk loading: drops the secondary indexes of `table` (and, where the back-end can, its
  // foreign keys) for the rest of the current transaction and rebuilds them at
  // restore_indexes(): building an index from sorted data, or checking a foreign key with one
  // join, is several times faster than doing it row by row. Unique indexes and foreign keys
  // are checked when rebuilt (kConflict). Call both inside the same transaction.
  Status defer_indexes(std::string_view table);
  Status restore_indexes();

  // Runs before indexes are rebuilt (PostgreSQL must first check deferred constraints).
  virtual Status prepare_index_rebuild() { return {}; }
  // CREATE INDEX statements of the secondary indexes of `table` (not primary keys, not
  // indexes backing a constraint).
  virtual Result<std::vector<std::pair<std::string, std::string>>> secondary_indexes(
      std::string_view table) = 0;
  // Foreign keys of `table` that a bulk load may drop and add back: (name, definition).
  // SQLite cannot drop a constraint: none there.
  virtual Result<std::vector<std::pair<std::string, std::string>>> droppable_foreign_keys(
      std::string_view /*table*/) {
    return std::vector<std::pair<std::string, std::string>>{};
  }

  // Convenience: the single integer a query returns (e.g. a count).
  Result<std::int64_t> query_int(std::string_view sql, std::span<const Value> params = {});
  // The next free id of a table with an integer `id` column (call inside a transaction after
  // lock_table()).
  Result<std::int64_t> next_id(std::string_view table);

 protected:
  // A rolled-back transaction brought the dropped indexes back: nothing is left to rebuild.
  void forget_deferred_indexes() { deferred_indexes_.clear(); }

 private:
  // CREATE INDEX / ADD CONSTRAINT statements to run again, in order.
  std::vector<std::string> deferred_indexes_;
};

// Rolls back unless committed: every import is all or nothing.
class Transaction {
 public:
  static Result<Transaction> begin(Store& store);
  // See Store::begin_bulk_load().
  static Result<Transaction> begin_bulk_load(Store& store);
  Transaction(Transaction&& other) noexcept : store_(other.store_) { other.store_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Store& store) : store_(&store) {}
  Store* store_;
};

// A configured store URL made absolute: "sqlite:PATH" with a relative PATH is taken inside
// `home`; PostgreSQL URLs are returned unchanged.
std::string resolve_url(const std::string& url, const std::filesystem::path& home);

// The file of a SQLite URL ("sqlite:PATH", "sqlite://PATH" or a bare path), as given.
std::string sqlite_path(const std::string& url);

// The migrations, in order; version i+1 is kMigrations[i].
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // portable SQL, see schema.cc
};
std::span<const Migration> migrations();

}  // namespace vigie::store
