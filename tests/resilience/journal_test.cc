// The offline journal: entries chained and sequenced per site, insert-only, tamper found by
// verify(), bad entries refused, and an acknowledged append kept through kill -9.
#include "vigie/resilience/journal.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace vigie::resilience {
namespace {

using nlohmann::json;

const core::TimePoint kAt = core::parse_utc("2026-11-25T10:00:00Z").value();

EntryInput note(const std::string& text) {
  return {"alice", EntryKind::kNote, "site", json{{"text", text}}.dump(), ""};
}

// Runs SQL on the journal file behind the Journal's back, as a person with the sqlite3 shell.
int raw_exec(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto j = Journal::create(dir_ / "journal.db", "bloc");
    ASSERT_TRUE(j) << j.error().to_string();
    journal_ = std::make_unique<Journal>(std::move(*j));
  }
  vigie::testing::TempDir dir_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalTest, EntriesAreSequencedAndChained) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(journal_->append(note(std::to_string(i)), kAt));
  std::vector<JournalEntry> all;
  ASSERT_TRUE(journal_->for_each(0, [&](const JournalEntry& e) {
    all.push_back(e);
    return true;
  }));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].seq, 1);
  EXPECT_EQ(all[0].prev_hash, "");
  EXPECT_EQ(all[1].prev_hash, all[0].hash);
  EXPECT_EQ(all[2].prev_hash, all[1].hash);
  EXPECT_EQ(all[2].site, "bloc");
  EXPECT_EQ(entry_hash(all[1]), all[1].hash);
  auto check = journal_->verify();
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->ok) << check->problem;
  EXPECT_EQ(check->entries, 3);
  EXPECT_EQ(check->head, all[2].hash);
  EXPECT_EQ(journal_->last_seq().value(), 3);
}

TEST_F(JournalTest, HashCoversEveryField) {
  JournalEntry e{"bloc", 1, "2026-11-25T10:00:00Z", "alice", "note", "site", R"({"text":"x"})", "",
                 "",     ""};
  const std::string h = entry_hash(e);
  for (auto change :
       {+[](JournalEntry& x) { x.site = "blocb"; }, +[](JournalEntry& x) { x.seq = 2; },
        +[](JournalEntry& x) { x.at = "2026-11-25T10:00:01Z"; },
        +[](JournalEntry& x) { x.actor = "bob"; }, +[](JournalEntry& x) { x.object = "site2"; },
        +[](JournalEntry& x) { x.payload = R"({"text":"y"})"; },
        +[](JournalEntry& x) { x.base_version = "v"; },
        +[](JournalEntry& x) { x.prev_hash = "00"; }}) {
    JournalEntry copy = e;
    change(copy);
    EXPECT_NE(entry_hash(copy), h);
  }
  // Length prefixes: moving a character from one field to the next changes the hash.
  JournalEntry shifted = e;
  shifted.actor = "alic";
  shifted.kind = "enote";
  EXPECT_NE(entry_hash(shifted), h);
}

TEST_F(JournalTest, UpdateAndDeleteAreRefused) {
  ASSERT_TRUE(journal_->append(note("a"), kAt));
  const auto file = journal_->file();
  EXPECT_NE(raw_exec(file, "UPDATE entries SET actor = 'mallory'"), SQLITE_OK);
  EXPECT_NE(raw_exec(file, "DELETE FROM entries"), SQLITE_OK);
  std::string actor;
  ASSERT_TRUE(journal_->for_each(0, [&](const JournalEntry& e) {
    actor = e.actor;
    return true;
  }));
  EXPECT_EQ(actor, "alice");
}

TEST_F(JournalTest, EditedEntryIsFoundWhenTheTriggersAreDropped) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(journal_->append(note(std::to_string(i)), kAt));
  ASSERT_EQ(raw_exec(journal_->file(),
                     "DROP TRIGGER entries_no_update; "
                     "UPDATE entries SET payload = '{\"text\":\"forged\"}' WHERE seq = 2"),
            SQLITE_OK);
  auto check = journal_->verify();
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->ok);
  EXPECT_EQ(check->first_bad_seq, 2);
  EXPECT_NE(check->problem.find("hash"), std::string::npos);
}

TEST_F(JournalTest, DeletedEntryIsAHole) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(journal_->append(note(std::to_string(i)), kAt));
  ASSERT_EQ(raw_exec(journal_->file(),
                     "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq = 3"),
            SQLITE_OK);
  auto check = journal_->verify();
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->ok);
  EXPECT_EQ(check->first_bad_seq, 4);
  EXPECT_NE(check->problem.find("entry 3 is missing"), std::string::npos);
}

TEST_F(JournalTest, BadEntriesAreRefusedAndNothingIsAppended) {
  const std::vector<EntryInput> bad = {
      {"alice", EntryKind::kDeviceStatus, "device:1", R"({"status":"melted","base":""})", "v"},
      {"alice", EntryKind::kDeviceStatus, "finding:1", R"({"status":"disconnected","base":""})",
       "v"},
      {"alice", EntryKind::kDeviceEdit, "device:1", R"({"field":"vendor","value":"X","base":""})",
       "v"},
      {"alice", EntryKind::kMitigation, "finding:x", R"({"note":"done"})", ""},
      {"alice", EntryKind::kMitigation, "finding:3", R"({"note":""})", ""},
      {"alice", EntryKind::kBackupCheck, "system:pacs", R"({"result":"maybe"})", ""},
      {"alice", EntryKind::kNote, "site", "not json", ""},
      {"", EntryKind::kNote, "site", R"({"text":"x"})", ""},
  };
  for (const auto& in : bad) {
    auto e = journal_->append(in, kAt);
    ASSERT_FALSE(e) << in.payload;
    EXPECT_EQ(e.error().code, core::ErrorCode::kInvalidInput);
  }
  EXPECT_EQ(journal_->last_seq().value(), 0);
  // A batch with one bad entry appends none.
  std::vector<EntryInput> batch = {note("good"), bad[0]};
  EXPECT_FALSE(journal_->append_all(batch, kAt));
  EXPECT_EQ(journal_->last_seq().value(), 0);
}

TEST_F(JournalTest, ReopenedJournalKeepsItsSiteSettingsAndEntries) {
  ASSERT_TRUE(journal_->append(note("a"), kAt));
  ASSERT_TRUE(journal_->set_setting("server", "https://vigie.example:8443"));
  const auto file = journal_->file();
  journal_.reset();
  auto again = Journal::open(file);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->site(), "bloc");
  EXPECT_EQ(again->setting("server").value(), "https://vigie.example:8443");
  EXPECT_EQ(again->last_seq().value(), 1);
  EXPECT_FALSE(Journal::create(file, "bloc"));
  auto missing = Journal::open(dir_ / "none.db");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
}

TEST_F(JournalTest, OfflineEditBecomesTheSnapshotValue) {
  std::vector<SnapshotDevice> devices = {
      {7, "2026-11-20T08:00:00Z", "GE Carescape", "Nord",
       json{{"location", "Bloc A"}, {"status", "in-service"}}.dump()}};
  ASSERT_TRUE(journal_->replace_snapshot(devices, {}, "2026-11-25T09:00:00Z"));
  ASSERT_TRUE(journal_->append(
      {"alice", EntryKind::kDeviceEdit, "device:7",
       R"({"field":"location","value":"Bloc B","base":"Bloc A"})", "2026-11-20T08:00:00Z"},
      kAt));
  ASSERT_TRUE(
      journal_->append({"alice", EntryKind::kDeviceStatus, "device:7",
                        R"({"status":"disconnected","base":"in-service"})", "2026-11-20T08:00:00Z"},
                       kAt));
  auto d = journal_->device(7);
  ASSERT_TRUE(d && *d);
  json fields = json::parse((*d)->fields);
  EXPECT_EQ(fields["location"], "Bloc B");
  EXPECT_EQ(fields["status"], "disconnected");
  EXPECT_EQ((*d)->version, "2026-11-20T08:00:00Z");  // still what the server last said
  EXPECT_FALSE(journal_->device(8).value());
}

TEST(JournalFields, OfflineEditsAreNormalisedOrRefused) {
  EXPECT_EQ(normalize_device_field("status", "Disconnected").value(), "disconnected");
  EXPECT_EQ(normalize_device_field("criticality", "vital").value(), "life-supporting");
  EXPECT_EQ(normalize_device_field("location", "  Bloc B ").value(), "Bloc B");
  EXPECT_FALSE(normalize_device_field("vendor", "X"));
  EXPECT_FALSE(normalize_device_field("status", ""));
  EXPECT_EQ(object_id("device:12", "device"), 12);
  EXPECT_FALSE(object_id("device:12x", "device"));
  EXPECT_FALSE(object_id("finding:12", "device"));
  EXPECT_FALSE(object_id("device:-1", "device"));
}

// A child appends as fast as it can and reports each acknowledged seq; it is killed with
// SIGKILL mid-stream. Every acknowledged entry is there and the chain holds.
TEST_F(JournalTest, AcknowledgedAppendsSurviveKill9) {
  const auto file = journal_->file();
  journal_.reset();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto j = Journal::open(file);
    if (!j) _exit(3);
    for (int i = 0;; ++i) {
      auto e = j->append(note(std::to_string(i)), kAt);
      if (!e) _exit(4);
      std::int64_t seq = e->seq;
      if (write(fds[1], &seq, sizeof seq) != sizeof seq) _exit(5);
    }
  }
  close(fds[1]);
  std::int64_t acknowledged = 0;
  std::int64_t seq = 0;
  while (acknowledged < 40 && read(fds[0], &seq, sizeof seq) == sizeof seq) acknowledged = seq;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto j = Journal::open(file);
  ASSERT_TRUE(j) << j.error().to_string();
  auto check = j->verify();
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->ok) << check->problem;
  EXPECT_GE(check->entries, acknowledged);
  // And it goes on from there.
  auto next = j->append(note("after"), kAt);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, check->entries + 1);
}

}  // namespace
}  // namespace vigie::resilience
