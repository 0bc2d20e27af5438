// The audit chain on both back-ends: appended in the caller's transaction, and any edited,
// deleted or reordered entry is found by verify().
#include "vigie/audit/audit.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vigie::audit {
namespace {

class AuditTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
  }

  void append_n(int n) {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    for (int i = 0; i < n; ++i) {
      auto id = append(*store_,
                       {"biomed", "test.action", "device:" + std::to_string(i), "cli",
                        R"({"n":)" + std::to_string(i) + "}"},
                       "2026-11-25T10:00:00.000Z");
      ASSERT_TRUE(id) << id.error().to_string();
      EXPECT_EQ(*id, i + 1);
    }
    ASSERT_TRUE(tx->commit());
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(AuditTest, ChainVerifiesAndHeadIsTheLastHash) {
  append_n(5);
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->entries, 5);
  auto head = store_->query("SELECT hash FROM audit_log WHERE id = 5");
  ASSERT_TRUE(head);
  EXPECT_EQ(v->head, head->front().text(0));
}

TEST_P(AuditTest, RolledBackAppendLeavesNoEntry) {
  {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(append(*store_, {"a", "b", "c", "d", "{}"}, "2026-11-25T10:00:00.000Z"));
  }
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM audit_log").value(), 0);
}

TEST_P(AuditTest, EditedEntryIsDetected) {
  append_n(4);
  ASSERT_TRUE(store_->execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"));
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 2);
}

TEST_P(AuditTest, DeletedEntryIsDetected) {
  append_n(4);
  ASSERT_TRUE(store_->execute("DELETE FROM audit_log WHERE id = 3"));
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 4);
}

TEST_P(AuditTest, ReorderedEntriesAreDetected) {
  append_n(4);
  // Swap the contents of entries 2 and 3, hashes included.
  ASSERT_TRUE(store_->execute("UPDATE audit_log SET id = 100 WHERE id = 2"));
  ASSERT_TRUE(store_->execute("UPDATE audit_log SET id = 2 WHERE id = 3"));
  ASSERT_TRUE(store_->execute("UPDATE audit_log SET id = 3 WHERE id = 100"));
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 2);
}

TEST(AuditHashTest, FieldBoundariesMatter) {
  const Entry a{"ab", "c", "o", "cli", "{}"};
  const Entry b{"a", "bc", "o", "cli", "{}"};
  EXPECT_NE(entry_hash("", 1, "t", a), entry_hash("", 1, "t", b));
  EXPECT_EQ(entry_hash("", 1, "t", a).size(), 64U);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::audit
