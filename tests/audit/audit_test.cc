// The audit log on both back-ends: appended in the caller's transaction; the store refuses to
// change it; an attacker who gets round that (he disables the triggers) is caught: an edited,
// deleted or reordered entry by the chain, a truncated or rewritten log by the signed
// checkpoints.
#include "vigie/audit/audit.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.h"
#include "vigie/audit/checkpoint.h"
#include "vigie/core/file.h"

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

  void tamper(const std::string& sql) {
    auto st = vigie::testing::tamper_audit_log(*store_, sql);
    ASSERT_TRUE(st) << st.error().to_string();
  }

  SigningKey key() {
    auto k = load_or_create_key(dir_ / "audit" / "checkpoint.key");
    EXPECT_TRUE(k) << k.error().to_string();
    return k ? *k : SigningKey{};
  }

  std::filesystem::path checkpoints() const { return dir_ / "audit" / "checkpoints.jsonl"; }

  CheckpointReport check(const SigningKey& k) {
    auto r = verify_against(*store_, checkpoints(), k.public_pem);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : CheckpointReport{};
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(AuditTest, TheStoreRefusesToChangeOrDeleteEntries) {
  append_n(3);
  EXPECT_FALSE(store_->execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"));
  EXPECT_FALSE(store_->execute("DELETE FROM audit_log WHERE id = 3"));
  EXPECT_FALSE(store_->execute("DELETE FROM audit_log"));
  if (store_->backend() == store::Backend::kPostgres) {
    EXPECT_FALSE(store_->execute("TRUNCATE audit_log"));
  }
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
  EXPECT_EQ(v->entries, 3);
}

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
  tamper("UPDATE audit_log SET actor = 'mallory' WHERE id = 2");
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 2);
}

TEST_P(AuditTest, DeletedEntryIsDetected) {
  append_n(4);
  tamper("DELETE FROM audit_log WHERE id = 3");
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 4);
}

TEST_P(AuditTest, ReorderedEntriesAreDetected) {
  append_n(4);
  // Swap the contents of entries 2 and 3, hashes included.
  tamper("UPDATE audit_log SET id = 100 WHERE id = 2");
  tamper("UPDATE audit_log SET id = 2 WHERE id = 3");
  tamper("UPDATE audit_log SET id = 3 WHERE id = 100");
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_id, 2);
}

TEST_P(AuditTest, GroupCommitBatchesConcurrentAppendsDurably) {
  constexpr int kThreads = 8;
  constexpr int kEach = 150;
  std::vector<std::int64_t> ids;
  std::mutex ids_mutex;
  std::int64_t batches = 0;
  {
    GroupWriter writer(*store_);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto id = writer.append({"engineer-" + std::to_string(t), "remote.stream.close",
                                   "device:1/port:5900", "10.0.0.1", "{}"},
                                  "2026-11-26T10:00:00Z");
          ASSERT_TRUE(id) << id.error().to_string();
          std::lock_guard lock(ids_mutex);
          ids.push_back(*id);
        }
      });
    }
    for (auto& t : threads) t.join();
    batches = writer.batches();
  }
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<std::int64_t>(i + 1));
  EXPECT_LT(batches, kThreads * kEach) << "appends waiting together commit together";
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->entries, kThreads * kEach);
}

TEST_P(AuditTest, CheckpointsHoldForAnIntactLogThatGrew) {
  append_n(5);
  const SigningKey k = key();
  auto first = write_checkpoint(*store_, checkpoints(), k, "2026-11-25T11:00:00Z");
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->size, 5);
  append_n(0);
  auto same = write_checkpoint(*store_, checkpoints(), k, "2026-11-25T11:30:00Z");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->at, first->at);  // the log has not grown: no new line
  {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(append(*store_, {"a", "b", "c", "d", "{}"}, "2026-11-25T12:00:00Z"));
    ASSERT_TRUE(tx->commit());
  }
  ASSERT_TRUE(write_checkpoint(*store_, checkpoints(), k, "2026-11-25T12:00:00Z"));
  auto report = check(k);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoints, 2);
}

TEST_P(AuditTest, TruncatedLogIsDetectedByTheCheckpoint) {
  append_n(6);
  const SigningKey k = key();
  ASSERT_TRUE(write_checkpoint(*store_, checkpoints(), k, "2026-11-25T11:00:00Z"));
  tamper("DELETE FROM audit_log WHERE id > 4");
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << "the chain alone cannot see a cut end";
  auto report = check(k);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("truncated"), std::string::npos) << report.problem;
}

TEST_P(AuditTest, RewrittenChainIsDetectedByTheCheckpoint) {
  append_n(4);
  const SigningKey k = key();
  ASSERT_TRUE(write_checkpoint(*store_, checkpoints(), k, "2026-11-25T11:00:00Z"));
  // Entry 2 edited and every hash after it recomputed: the chain verifies again.
  auto rows = store_->query(
      "SELECT id, at, actor, action, object, origin, details FROM audit_log "
      "ORDER BY id");
  ASSERT_TRUE(rows);
  std::string prev;
  for (const auto& r : *rows) {
    Entry e{r.text(2), r.text(3), r.text(4), r.text(5), r.text(6)};
    if (r.integer(0) == 2) e.actor = "mallory";
    const std::string hash = entry_hash(prev, r.integer(0), r.text(1), e);
    tamper(fmt::format(
        "UPDATE audit_log SET actor = '{}', prev_hash = '{}', hash = '{}' WHERE id = {}", e.actor,
        prev, hash, r.integer(0)));
    prev = hash;
  }
  auto v = verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
  auto report = check(k);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("not those the checkpoint"), std::string::npos) << report.problem;
}

TEST_P(AuditTest, ForgedCheckpointIsRefused) {
  append_n(3);
  const SigningKey k = key();
  ASSERT_TRUE(write_checkpoint(*store_, checkpoints(), k, "2026-11-25T11:00:00Z"));
  auto text = core::read_file(checkpoints());
  ASSERT_TRUE(text);
  std::string forged = *text;
  forged.replace(forged.find("\"size\":3"), 8, "\"size\":2");
  std::ofstream(checkpoints()) << forged;
  auto report = check(k);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("signature"), std::string::npos) << report.problem;
}

TEST_P(AuditTest, ExportFiltersByEngineerDeviceAndTime) {
  auto tx = store::Transaction::begin(*store_);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(append(*store_, {"alice", "remote.login", "engineer:1", "10.0.0.1", "{}"},
                     "2026-11-20T10:00:00Z"));
  ASSERT_TRUE(append(*store_,
                     {"alice", "remote.session.request", "session:1", "10.0.0.1",
                      R"({"device":7,"engineer":"alice"})"},
                     "2026-11-21T10:00:00Z"));
  ASSERT_TRUE(append(
      *store_, {"biomed", "remote.session.approve", "session:1", "cli", R"({"engineer":"alice"})"},
      "2026-11-21T10:00:10Z"));
  ASSERT_TRUE(append(*store_, {"biomed", "inventory.set", "device:7", "cli", "{}"},
                     "2026-11-22T10:00:00Z"));
  ASSERT_TRUE(append(*store_, {"bob", "remote.login", "engineer:2", "10.0.0.2", "{}"},
                     "2026-11-23T10:00:00Z"));
  ASSERT_TRUE(tx->commit());
  auto alice = select_entries(*store_, {"alice", 0, "", ""});
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->size(), 3U);
  auto device = select_entries(*store_, {"", 7, "", ""});
  ASSERT_TRUE(device);
  EXPECT_EQ(device->size(), 2U);
  auto window = select_entries(*store_, {"", 0, "2026-11-21", "2026-11-22"});
  ASSERT_TRUE(window);
  EXPECT_EQ(window->size(), 3U);  // a bare --to date takes in its whole day
  const std::string csv = to_csv(*alice);
  EXPECT_EQ(csv.rfind("id,at,actor,action,object,origin,details,hash\r\n", 0), 0U);
  EXPECT_NE(csv.find(R"("{""device"":7,""engineer"":""alice""}")"), std::string::npos) << csv;
  auto json = nlohmann::json::parse(to_json(*alice));
  ASSERT_EQ(json.size(), 3U);
  EXPECT_EQ(json[1]["details"]["device"], 7);
  EXPECT_FALSE(select_entries(*store_, {"", 0, "yesterday", ""}));
}

TEST(MerkleTest, FollowsRfc6962) {
  Digest empty{};
  SHA256(nullptr, 0, empty.data());
  EXPECT_EQ(merkle_root({}), empty);
  std::vector<Digest> leaves(3);
  for (size_t i = 0; i < leaves.size(); ++i) leaves[i].fill(static_cast<unsigned char>(i + 1));
  const auto leaf = [](const Digest& d) {
    std::array<unsigned char, 33> in{};
    std::copy(d.begin(), d.end(), in.begin() + 1);
    Digest out{};
    SHA256(in.data(), in.size(), out.data());
    return out;
  };
  const auto node = [](const Digest& l, const Digest& r) {
    std::array<unsigned char, 65> in{};
    in[0] = 1;
    std::copy(l.begin(), l.end(), in.begin() + 1);
    std::copy(r.begin(), r.end(), in.begin() + 33);
    Digest out{};
    SHA256(in.data(), in.size(), out.data());
    return out;
  };
  EXPECT_EQ(merkle_root(std::span(leaves).first(1)), leaf(leaves[0]));
  // n = 3: the left subtree holds the largest power of two below 3, i.e. 2 leaves.
  EXPECT_EQ(merkle_root(leaves), node(node(leaf(leaves[0]), leaf(leaves[1])), leaf(leaves[2])));
  leaves.push_back(leaves[0]);
  leaves.push_back(leaves[1]);
  // n = 5: 4 on the left, 1 on the right.
  EXPECT_EQ(merkle_root(leaves), node(node(node(leaf(leaves[0]), leaf(leaves[1])),
                                           node(leaf(leaves[2]), leaf(leaves[3]))),
                                      leaf(leaves[4])));
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
