// The sync routes on both back-ends: the site's token is required (and every attempt audited),
// an upload is merged and can be retried, and no other route became writable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "routes_internal.h"
#include "test_support.h"
#include "vigie/inventory/import.h"
#include "vigie/resilience/journal.h"
#include "vigie/resilience/sync.h"

namespace vigie::api {
namespace {

using nlohmann::json;

class SyncApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    vigie::testing::write_file(dir_ / "d.csv",
                               "vendor,product,serial_number,site,location\n"
                               "GE,Carescape B450,1,Nord,Bloc A\n");
    auto r = inventory::import_devices(*store_, dir_ / "d.csv", inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok());
    auto token = resilience::create_sync_token(*store_, "bloc", "", "admin", "cli", clock_);
    ASSERT_TRUE(token);
    token_ = *token;
  }

  Response call(const std::string& method, const std::string& target, const std::string& token,
                const std::string& body = {}) {
    Request req{method, target, body, {}, "10.0.0.5:40000"};
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    return route(*store_, req);
  }

  std::int64_t count(const std::string& sql) { return store_->query_int(sql).value_or(-1); }

  core::ManualClock clock_{core::parse_utc("2026-11-25T12:00:00Z").value()};
  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::string token_;
};

TEST_P(SyncApiTest, TokenIsRequiredAndEveryAttemptAudited) {
  EXPECT_EQ(call("GET", "/api/v1/sync/bloc", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/sync/bloc", "nope").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/sync/bloc", "", R"({"entries":[]})").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/sync/other", token_).status, 401);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.auth.refused' AND "
                  "origin = '10.0.0.5:40000'"),
            4);
  auto ok = call("GET", "/api/v1/sync/bloc", token_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["head_seq"], 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.state'"), 1);
  // The token never reaches the audit log.
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE details LIKE '%" + token_ + "%'"), 0);
}

TEST_P(SyncApiTest, UploadIsMergedAndRetriesAreHarmless) {
  auto snap = call("GET", "/api/v1/sync/bloc/snapshot", token_);
  ASSERT_EQ(snap.status, 200) << snap.body;
  auto parsed = resilience::parse_snapshot(snap.body, nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->first.size(), 1u);
  auto journal = resilience::Journal::create(dir_ / "j.db", "bloc");
  ASSERT_TRUE(journal);
  ASSERT_TRUE(journal->replace_snapshot(parsed->first, parsed->second, "t"));
  const auto& device = parsed->first.front();
  ASSERT_TRUE(journal->append(
      {"alice", resilience::EntryKind::kDeviceStatus, "device:" + std::to_string(device.id),
       R"({"status":"disconnected","base":"in-service"})", device.version},
      clock_.now()));
  std::vector<resilience::JournalEntry> list;
  ASSERT_TRUE(journal->for_each(0, [&](const resilience::JournalEntry& e) {
    list.push_back(e);
    return true;
  }));
  const std::string body = resilience::batch_json(list);
  auto first = call("POST", "/api/v1/sync/bloc", token_, body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body)["applied"], 1);
  auto second = call("POST", "/api/v1/sync/bloc", token_, body);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json::parse(second.body)["duplicates"], 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM devices WHERE status = 'disconnected'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.upload' AND "
                  "origin = '10.0.0.5:40000'"),
            2);
  auto bad = call("POST", "/api/v1/sync/bloc", token_, R"({"entries":[{"seq":1}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(json::parse(bad.body)["detail"].get<std::string>().find("/entries/0"),
            std::string::npos);
}

TEST_P(SyncApiTest, NoOtherRouteBecameWritable) {
  for (const char* target :
       {"/api/v1/devices", "/api/v1/devices/1", "/api/v1/status", "/healthz"}) {
    EXPECT_EQ(call("POST", target, token_, "{}").status, 405) << target;
  }
  EXPECT_EQ(call("POST", "/api/v1/sync/bloc/snapshot", token_, "{}").status, 405);
  EXPECT_EQ(call("DELETE", "/api/v1/sync/bloc", token_).status, 405);
  EXPECT_EQ(call("GET", "/api/v1/sync/../etc", token_).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, SyncApiTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::api
