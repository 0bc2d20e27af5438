#include "vigie/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "test_support.h"
#include "vigie/store/pool.h"

namespace vigie::store {
namespace {

using vigie::testing::TempDir;

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = vigie::testing::fresh_store_url(GetParam(), dir_);
    auto s = Store::open(url_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
  }
  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, OpeningAppliesEveryMigrationOnce) {
  EXPECT_EQ(store_->schema_version(), static_cast<int>(migrations().size()));
  auto again = Store::open(url_);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ((*again)->query_int("SELECT COUNT(*) FROM schema_version").value(),
            static_cast<std::int64_t>(migrations().size()));
}

TEST_P(StoreTest, ValuesRoundTripWithTheirTypes) {
  std::vector<Value> row = {std::int64_t{1}, std::string("Lyon"), std::string("lyon"),
                            std::string("2026-01-01T00:00:00Z")};
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (?, ?, ?, ?)", row));
  auto rows = store_->query("SELECT id, name, NULL FROM sites WHERE name_norm = ?",
                            std::vector<Value>{std::string("lyon")});
  ASSERT_TRUE(rows) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(rows->front().value(0)), 1);
  EXPECT_EQ(rows->front().text(1), "Lyon");
  EXPECT_TRUE(rows->front().is_null(2));
}

TEST_P(StoreTest, QuestionMarksInsideLiteralsAreNotPlaceholders) {
  auto rows = store_->query("SELECT '?', ?", std::vector<Value>{std::string("x")});
  ASSERT_TRUE(rows) << rows.error().to_string();
  EXPECT_EQ(rows->front().text(0), "?");
  EXPECT_EQ(rows->front().text(1), "x");
}

TEST_P(StoreTest, RolledBackTransactionLeavesNothing) {
  {
    auto tx = Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(store_->execute(
        "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  }  // no commit
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM sites").value(), 0);
  auto tx = Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM sites").value(), 1);
}

TEST_P(StoreTest, ConstraintViolationIsAConflict) {
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  auto st = store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (2, 'A', 'a', 'now')");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, core::ErrorCode::kConflict);
}

TEST_P(StoreTest, ForeignKeysAreEnforced) {
  auto st =
      store_->execute("INSERT INTO zones (id, site_id, name, name_norm) VALUES (1, 42, 'z', 'z')");
  EXPECT_FALSE(st);
}

TEST_P(StoreTest, InserterWritesEveryRowAcrossBatches) {
  auto tx = Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  std::string_view cols[] = {"id", "name", "name_norm", "created_at"};
  auto ins = store_->inserter("sites", cols);
  ASSERT_TRUE(ins);
  for (std::int64_t i = 1; i <= 2500; ++i) {
    Value row[] = {i, "site " + std::to_string(i), "s" + std::to_string(i), std::string("now")};
    ASSERT_TRUE((*ins)->add(row));
  }
  ASSERT_TRUE((*ins)->finish());
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM sites").value(), 2500);
  EXPECT_EQ(store_->query_int("SELECT MAX(id) FROM sites").value(), 2500);
}

TEST_P(StoreTest, ForEachStopsWhenAsked) {
  for (int i = 1; i <= 5; ++i) {
    std::vector<Value> row = {std::int64_t{i}, std::string("n"), std::to_string(i),
                              std::string("t")};
    ASSERT_TRUE(store_->execute(
        "INSERT INTO sites (id, name, name_norm, created_at) VALUES (?, ?, ?, ?)", row));
  }
  int seen = 0;
  ASSERT_TRUE(store_->for_each("SELECT id FROM sites ORDER BY id", {},
                               [&](const Row&) { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
  // The connection is usable afterwards.
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM sites").value(), 5);
}

TEST_P(StoreTest, ReadersSeeCommittedDataWhileAWriterWorks) {
  auto reader = Store::open(url_);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  auto tx = Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (2, 'b', 'b', 'now')"));
  // The writer holds its transaction open: the reader is not blocked and sees the old state.
  auto count = (*reader)->query_int("SELECT COUNT(*) FROM sites");
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 1);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*reader)->query_int("SELECT COUNT(*) FROM sites").value(), 2);
}

TEST_P(StoreTest, DeferredIndexesAndKeysComeBackAndAreEnforced) {
  auto tx = Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  auto before = store_->secondary_indexes("zones").value().size() +
                store_->droppable_foreign_keys("zones").value().size();
  ASSERT_TRUE(store_->defer_indexes("zones"));
  ASSERT_TRUE(store_->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  ASSERT_TRUE(
      store_->execute("INSERT INTO zones (id, site_id, name, name_norm) VALUES (1, 1, 'z', 'z')"));
  ASSERT_TRUE(store_->restore_indexes());
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(store_->secondary_indexes("zones").value().size() +
                store_->droppable_foreign_keys("zones").value().size(),
            before);
  // The foreign key is back: a zone of a missing site is refused.
  EXPECT_FALSE(
      store_->execute("INSERT INTO zones (id, site_id, name, name_norm) VALUES (2, 42, 'y', 'y')"));
}

TEST_P(StoreTest, SyntaxErrorsAreReportedNotThrown) {
  auto st = store_->execute("SELEC nonsense");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, core::ErrorCode::kStore);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

TEST(SqliteStore, UsesWalFullSyncAndForeignKeys) {
  TempDir dir;
  auto s = Store::open("sqlite:" + (dir / "v.db").string());
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->query("PRAGMA journal_mode")->front().text(0), "wal");
  EXPECT_EQ((*s)->query_int("PRAGMA synchronous").value(), 2);  // FULL
  EXPECT_EQ((*s)->query_int("PRAGMA foreign_keys").value(), 1);
}

// Alone on the file, a bulk load writes through a rollback journal and WAL mode is back once
// it ends, committed or rolled back.
TEST(SqliteStore, BulkLoadAloneLeavesWalModeForItsDurationOnly) {
  TempDir dir;
  auto s = Store::open("sqlite:" + (dir / "v.db").string());
  ASSERT_TRUE(s);
  Store& store = **s;
  auto mode = [&] { return store.query("PRAGMA journal_mode")->front().text(0); };
  for (bool commit : {true, false}) {
    auto began = Transaction::begin_bulk_load(store);
    ASSERT_TRUE(began) << began.error().to_string();
    std::optional<Transaction> tx(std::move(*began));
    EXPECT_EQ(mode(), "delete");
    std::string name = commit ? "kept" : "rolled back";
    const Value row[] = {std::int64_t{commit ? 1 : 2}, name, name};
    auto inserted = store.execute(
        "INSERT INTO sites (id, name, name_norm, created_at) VALUES (?, ?, ?, 'now')", row);
    ASSERT_TRUE(inserted) << inserted.error().to_string();
    if (commit) {
      ASSERT_TRUE(tx->commit());
    } else {
      tx.reset();  // the guard rolls back
    }
    EXPECT_EQ(mode(), "wal");
    EXPECT_FALSE(std::filesystem::exists(dir / "v.db-journal"));
  }
  EXPECT_EQ(store.query_int("SELECT COUNT(*) FROM sites").value(), 1);
}

// Another connection on the file (a daemon, a reader): the bulk load stays in WAL mode and
// the other connection keeps reading while it runs.
TEST(SqliteStore, BulkLoadBesideAnotherConnectionStaysInWalMode) {
  TempDir dir;
  std::string url = "sqlite:" + (dir / "v.db").string();
  auto s = Store::open(url);
  auto reader = Store::open(url);
  ASSERT_TRUE(s && reader);
  ASSERT_TRUE((*reader)->query_int("SELECT COUNT(*) FROM sites"));
  auto tx = Transaction::begin_bulk_load(**s);
  ASSERT_TRUE(tx) << tx.error().to_string();
  EXPECT_EQ((*s)->query("PRAGMA journal_mode")->front().text(0), "wal");
  ASSERT_TRUE((*s)->execute(
      "INSERT INTO sites (id, name, name_norm, created_at) VALUES (1, 'a', 'a', 'now')"));
  EXPECT_EQ((*reader)->query_int("SELECT COUNT(*) FROM sites").value(), 0);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*reader)->query_int("SELECT COUNT(*) FROM sites").value(), 1);
}

TEST(Store, RelativeSqlitePathsLiveInTheHome) {
  EXPECT_EQ(resolve_url("sqlite:vigie.db", "/var/lib/vigie"), "sqlite:/var/lib/vigie/vigie.db");
  EXPECT_EQ(resolve_url("sqlite:/data/v.db", "/var/lib/vigie"), "sqlite:/data/v.db");
  EXPECT_EQ(resolve_url("postgresql://u@h/db", "/x"), "postgresql://u@h/db");
}

TEST(Store, UnreachablePostgresIsUnavailableWithoutLeakingThePassword) {
  auto s = Store::open("postgresql://vigie:s3cret@127.0.0.1:1/vigie?connect_timeout=2");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(s.error().to_string().find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace vigie::store

namespace vigie::store {
namespace {

TEST(StorePool, ThreadsShareAFixedSetOfConnections) {
  vigie::testing::TempDir dir;
  auto pool = StorePool::open("sqlite:" + (dir / "p.db").string(), 2);
  ASSERT_TRUE(pool) << pool.error().to_string();
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto store = (*pool)->acquire();
        std::int64_t id = t * 100 + i + 1;
        std::vector<Value> row = {id, std::string("s"), std::to_string(id), std::string("t")};
        ASSERT_TRUE(store->execute(
            "INSERT INTO sites (id, name, name_norm, created_at) VALUES (?, ?, ?, ?)", row));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto store = (*pool)->acquire();
  EXPECT_EQ(store->query_int("SELECT COUNT(*) FROM sites").value(), 120);
}

}  // namespace
}  // namespace vigie::store
