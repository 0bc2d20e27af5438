// Reconciliation on both back-ends: an offline journal uploaded into a real store. Facts are
// merged and audited, uploads are idempotent, forged/tampered/unlinked entries are refused with
// nothing changed, gaps are reported, and an edit whose field moved on centrally raises a
// conflict that keeps both values until a person decides.
#include "vigie/resilience/sync.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/inventory/import.h"
#include "vigie/resilience/journal.h"

namespace vigie::resilience {
namespace {

using nlohmann::json;
using store::Value;

const core::TimePoint kOfflineAt = core::parse_utc("2026-11-25T10:00:00Z").value();

class SyncTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    vigie::testing::write_file(dir_ / "d.csv",
                               "vendor,product,serial_number,site,zone,location,owner\n"
                               "GE,Carescape B450,1,Nord,Rea,Bloc A,Dr Martin\n"
                               "Philips,IntelliVue MX450,2,Nord,Rea,Bloc A,Dr Martin\n"
                               "Siemens,Artis zee,3,Sud,Imagerie,Salle 1,Imagerie\n");
    auto r = inventory::import_devices(*store_, dir_ / "d.csv", inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
    auto token = create_sync_token(*store_, "bloc", "", "admin", "cli", clock_);
    ASSERT_TRUE(token) << token.error().to_string();
    token_ = *token;
    auto j = Journal::create(dir_ / "journal.db", "bloc");
    ASSERT_TRUE(j) << j.error().to_string();
    journal_ = std::make_unique<Journal>(std::move(*j));
    refresh_snapshot();
  }

  void refresh_snapshot() {
    auto body = snapshot_json(*store_, "bloc", clock_);
    ASSERT_TRUE(body) << body.error().to_string();
    std::string taken;
    auto parsed = parse_snapshot(*body, &taken);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    ASSERT_TRUE(journal_->replace_snapshot(parsed->first, parsed->second, taken));
  }

  // Records like `vigie offline record`: base value and version from the snapshot.
  void record_field(std::int64_t device, const std::string& field, const std::string& value,
                    const std::string& actor = "alice") {
    auto d = journal_->device(device);
    ASSERT_TRUE(d && *d);
    json fields = json::parse((*d)->fields);
    EntryInput in{actor, field == "status" ? EntryKind::kDeviceStatus : EntryKind::kDeviceEdit,
                  "device:" + std::to_string(device), "", (*d)->version};
    in.payload = field == "status"
                     ? json{{"status", value}, {"base", fields[field]}}.dump()
                     : json{{"field", field}, {"value", value}, {"base", fields[field]}}.dump();
    auto e = journal_->append(in, kOfflineAt);
    ASSERT_TRUE(e) << e.error().to_string();
  }

  void record(EntryKind kind, const std::string& object, const json& payload) {
    auto e = journal_->append({"alice", kind, object, payload.dump(), ""}, kOfflineAt);
    ASSERT_TRUE(e) << e.error().to_string();
  }

  std::vector<JournalEntry> entries(std::int64_t after = 0) {
    std::vector<JournalEntry> out;
    EXPECT_TRUE(journal_->for_each(after, [&](const JournalEntry& e) {
      out.push_back(e);
      return true;
    }));
    return out;
  }

  Result<BatchResult> upload(const std::vector<JournalEntry>& list) {
    return ingest(*store_, "bloc", list, "127.0.0.1:5000", clock_);
  }

  std::string device_text(std::int64_t id, const std::string& column) {
    std::vector<Value> key = {id};
    auto rows = store_->query("SELECT " + column + " FROM devices WHERE id = ?", key);
    EXPECT_TRUE(rows && !rows->empty());
    return rows && !rows->empty() ? rows->front().text(0) : std::string("?");
  }

  std::int64_t count(const std::string& sql) { return store_->query_int(sql).value_or(-1); }

  // The central side edits a device meanwhile (as `vigie devices set` would).
  void central_edit(std::int64_t id, const std::string& column, const std::string& value) {
    std::vector<Value> p = {value, std::string("2026-11-25T11:00:00Z"), id};
    ASSERT_TRUE(
        store_->execute("UPDATE devices SET " + column + " = ?, updated_at = ? WHERE id = ?", p));
  }

  std::int64_t add_finding(std::int64_t device) {
    EXPECT_TRUE(store_->execute(
        "INSERT INTO advisories (id, publisher, publisher_namespace, tracking_id, version, title, "
        "current_release_date, document, sha256, source, imported_at, imported_by) VALUES (1, "
        "'GE', 'https://ge.example', 'GE-2026-01', '1', 'Carescape SMB exposure', "
        "'2026-11-01T00:00:00Z', '{}', 'x', 'test', '2026-11-01T00:00:00Z', 'test')"));
    std::vector<Value> p = {device};
    EXPECT_TRUE(store_->execute(
        "INSERT INTO findings (id, device_id, advisory_id, verdict, reason, actions, status, "
        "opened_at, updated_at) VALUES (1, ?, 1, 'affected', 'version in range', '[]', 'open', "
        "'2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
        p));
    return 1;
  }

  core::ManualClock clock_{core::parse_utc("2026-11-25T12:00:00Z").value()};
  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Journal> journal_;
  std::string token_;
};

TEST_P(SyncTest, TokenIsStoredAsAHashAndChecked) {
  EXPECT_EQ(token_.size(), 64u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_sites WHERE token_sha256 = '" + token_ + "'"), 0);
  EXPECT_TRUE(check_sync_token(*store_, "bloc", token_).value());
  EXPECT_FALSE(check_sync_token(*store_, "bloc", token_.substr(1) + "0").value());
  EXPECT_FALSE(check_sync_token(*store_, "bloc", "").value());
  EXPECT_FALSE(check_sync_token(*store_, "other", token_).value());
  // A new token replaces the old one.
  auto again = create_sync_token(*store_, "bloc", "", "admin", "cli", clock_);
  ASSERT_TRUE(again);
  EXPECT_FALSE(check_sync_token(*store_, "bloc", token_).value());
  EXPECT_TRUE(check_sync_token(*store_, "bloc", *again).value());
  EXPECT_FALSE(create_sync_token(*store_, "bad site/..", "", "admin", "cli", clock_));
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.token.create'"), 2);
}

TEST_P(SyncTest, FactsAreMergedAndAuditedWithTheOfflineActor) {
  record_field(1, "status", "disconnected");
  record_field(2, "location", "Bloc B");
  record(EntryKind::kBackupCheck, "system:pacs", {{"result", "ok"}, {"note", "restic check"}});
  record(EntryKind::kNote, "device:1", {{"text", "network cable cut by the works"}});
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->stored, 4);
  EXPECT_EQ(r->applied, 2);
  EXPECT_EQ(r->recorded, 2);
  EXPECT_EQ(r->conflicts, 0);
  EXPECT_EQ(r->head_seq, 4);
  EXPECT_EQ(device_text(1, "status"), "disconnected");
  EXPECT_EQ(device_text(2, "location"), "Bloc B");
  EXPECT_EQ(device_text(2, "updated_at"), "2026-11-25T12:00:00Z");
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE actor = 'alice' AND origin = "
                  "'offline:bloc' AND action LIKE 'offline.%'"),
            4);
  auto audited = audit::verify(*store_);
  ASSERT_TRUE(audited);
  EXPECT_TRUE(audited->ok) << audited->problem;
  auto state = site_state(*store_, "bloc");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->head_seq, 4);
  EXPECT_EQ(state->stored, 4);
  EXPECT_EQ(state->head_hash, entries().back().hash);
}

TEST_P(SyncTest, UploadingTwiceChangesNothing) {
  record_field(1, "status", "disconnected");
  record_field(2, "owner", "Dr Durand");
  ASSERT_TRUE(upload(entries()));
  const auto audit_rows = count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'offline.%'");
  const auto version = device_text(2, "updated_at");
  clock_.advance(std::chrono::hours(1));
  auto again = upload(entries());
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_EQ(again->stored, 0);
  EXPECT_EQ(again->head_seq, 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_entries"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'offline.%'"), audit_rows);
  EXPECT_EQ(device_text(2, "updated_at"), version);
  // A retry that overlaps: the old entries are skipped, the new one merged.
  record_field(2, "location", "Bloc C");
  auto overlap = upload(entries());
  ASSERT_TRUE(overlap);
  EXPECT_EQ(overlap->duplicates, 2);
  EXPECT_EQ(overlap->stored, 1);
  EXPECT_EQ(device_text(2, "location"), "Bloc C");
}

TEST_P(SyncTest, SameSeqWithAnotherHashIsAForgeryAndChangesNothing) {
  record_field(1, "status", "disconnected");
  ASSERT_TRUE(upload(entries()));
  JournalEntry forged = entries().front();
  forged.payload = R"({"status":"decommissioned","base":"in-service"})";
  forged.hash = entry_hash(forged);  // self-consistent, but not the entry the server holds
  auto r = upload({forged});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(device_text(1, "status"), "disconnected");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_problems WHERE kind = 'forgery' AND seq = 1"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.refused'"), 1);
  auto problems = recorded_problems(*store_);
  ASSERT_TRUE(problems);
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ(problems->front().site, "bloc");
}

TEST_P(SyncTest, TamperedBatchIsRefusedWhole) {
  record_field(1, "status", "disconnected");
  record_field(2, "location", "Bloc B");
  auto list = entries();
  list[1].payload = R"({"field":"location","value":"Parking","base":"Bloc A"})";  // not rehashed
  auto r = upload(list);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kConflict);
  // The whole batch rolled back: the first entry, valid, is not merged either.
  EXPECT_EQ(device_text(1, "status"), "in-service");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_entries"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_problems WHERE kind = 'bad-hash'"), 1);
  // The genuine journal then goes through.
  auto good = upload(entries());
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(good->stored, 2);
}

TEST_P(SyncTest, UnlinkedEntryIsABrokenChain) {
  record_field(1, "status", "disconnected");
  record_field(2, "location", "Bloc B");
  auto list = entries();
  ASSERT_TRUE(upload({list[0]}));
  JournalEntry relinked = list[1];
  relinked.prev_hash = std::string(64, 'a');
  relinked.hash = entry_hash(relinked);
  auto r = upload({relinked});
  ASSERT_FALSE(r);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_problems WHERE kind = 'broken-chain' AND seq = 2"), 1);
  EXPECT_EQ(device_text(2, "location"), "Bloc A");
}

TEST_P(SyncTest, GapIsReportedThenFilled) {
  for (int i = 0; i < 4; ++i) record(EntryKind::kNote, "site", {{"text", std::to_string(i)}});
  auto list = entries();
  ASSERT_TRUE(upload({list[0]}));
  auto r = upload({list[2], list[3]});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->head_seq, 1);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems.front().kind, "gap");
  EXPECT_EQ(r->problems.front().detail, "entries 2 to 2 are missing before this one");
  auto found = verify_sites(*store_);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().kind, "gap");
  auto filled = upload({list[1]});
  ASSERT_TRUE(filled) << filled.error().to_string();
  EXPECT_EQ(filled->head_seq, 4);
  EXPECT_TRUE(verify_sites(*store_).value().empty());
  // A hole filled by an entry that does not link to the next one is refused.
  record(EntryKind::kNote, "site", {{"text", "5"}});
  record(EntryKind::kNote, "site", {{"text", "6"}});
  auto more = entries(4);
  ASSERT_TRUE(upload({more[1]}));
  JournalEntry wrong = more[0];
  wrong.payload = R"({"text":"not the fifth"})";
  wrong.hash = entry_hash(wrong);
  EXPECT_FALSE(upload({wrong}));
}

// One batch written in bulk (entries, audit entries, device edits grouped per column): a gap
// inside it is still named right, edits of two fields of one device both land, and the audit
// chain the batch appended holds.
TEST_P(SyncTest, OneBatchWithAGapAndSeveralEditsIsWrittenWhole) {
  record_field(2, "location", "Bloc B");
  record_field(2, "os", "Windows 10 IoT");
  record(EntryKind::kNote, "site", {{"text", "skipped"}});
  record_field(1, "status", "disconnected");
  auto list = entries();
  auto r = upload({list[0], list[1], list[3]});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->stored, 3);
  EXPECT_EQ(r->applied, 3);
  EXPECT_EQ(r->head_seq, 2);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems.front().detail, "entries 3 to 3 are missing before this one");
  EXPECT_EQ(device_text(2, "location"), "Bloc B");
  EXPECT_EQ(device_text(2, "os"), "Windows 10 IoT");
  EXPECT_EQ(device_text(1, "status"), "disconnected");
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'offline.%'"), 3);
  auto audited = audit::verify(*store_);
  ASSERT_TRUE(audited);
  EXPECT_TRUE(audited->ok) << audited->problem;
  auto filled = upload({list[2]});
  ASSERT_TRUE(filled) << filled.error().to_string();
  EXPECT_EQ(filled->head_seq, 4);
}

TEST_P(SyncTest, StoredChainTamperingIsFoundByVerify) {
  for (int i = 0; i < 3; ++i) record(EntryKind::kNote, "site", {{"text", std::to_string(i)}});
  ASSERT_TRUE(upload(entries()));
  ASSERT_TRUE(store_->execute("UPDATE sync_entries SET actor = 'mallory' WHERE seq = 2"));
  auto found = verify_sites(*store_, "bloc");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().kind, "bad-hash");
  EXPECT_EQ(found->front().seq, 2);
}

TEST_P(SyncTest, ConflictingEditKeepsBothValuesUntilAPersonDecides) {
  record_field(2, "location", "Bloc B", "alice");
  record_field(3, "owner", "Cardiologie", "alice");
  record_field(3, "location", "Salle 2", "alice");
  central_edit(2, "location", "Reveil");   // same field moved on: conflict
  central_edit(3, "owner", "Radiologie");  // same field moved on: conflict
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->conflicts, 2);
  EXPECT_EQ(r->applied, 1);  // device 3's location did not move centrally: applied
  EXPECT_EQ(device_text(2, "location"), "Reveil");
  EXPECT_EQ(device_text(3, "owner"), "Radiologie");
  EXPECT_EQ(device_text(3, "location"), "Salle 2");
  auto open = list_conflicts(*store_, true);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 2u);
  const Conflict& c = open->front();
  EXPECT_EQ(c.object, "device:2");
  EXPECT_EQ(c.field, "location");
  EXPECT_EQ(c.base_value, "Bloc A");
  EXPECT_EQ(c.offline_value, "Bloc B");
  EXPECT_EQ(c.central_value, "Reveil");
  EXPECT_EQ(c.offline_actor, "alice");
  EXPECT_EQ(c.offline_at, "2026-11-25T10:00:00Z");
  EXPECT_EQ(c.central_version, "2026-11-25T11:00:00Z");

  ASSERT_TRUE(resolve_conflict(*store_, c.id, "offline", "bob", "cli", clock_));
  EXPECT_EQ(device_text(2, "location"), "Bloc B");
  ASSERT_TRUE(resolve_conflict(*store_, open->back().id, "Cardiologie et Radiologie", "bob", "cli",
                               clock_));
  EXPECT_EQ(device_text(3, "owner"), "Cardiologie et Radiologie");
  auto second = resolve_conflict(*store_, c.id, "central", "bob", "cli", clock_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::kConflict);
  // Nothing lost: both values stay on the resolved conflicts, and the decisions are audited.
  auto all = list_conflicts(*store_, false);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->front().status, "resolved");
  EXPECT_EQ(all->front().central_value, "Reveil");
  EXPECT_EQ(all->front().resolution, "offline");
  EXPECT_EQ(all->back().resolution, "value");
  EXPECT_EQ(all->back().resolved_by, "bob");
  EXPECT_TRUE(list_conflicts(*store_, true).value().empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'sync.conflict.resolve' AND "
                  "actor = 'bob'"),
            2);
}

TEST_P(SyncTest, KeepingTheCentralValueChangesNothing) {
  record_field(2, "location", "Bloc B");
  central_edit(2, "location", "Reveil");
  ASSERT_TRUE(upload(entries()));
  auto open = list_conflicts(*store_, true).value();
  ASSERT_EQ(open.size(), 1u);
  ASSERT_TRUE(resolve_conflict(*store_, open.front().id, "central", "bob", "cli", clock_));
  EXPECT_EQ(device_text(2, "location"), "Reveil");
  EXPECT_EQ(device_text(2, "updated_at"), "2026-11-25T11:00:00Z");
  EXPECT_FALSE(resolve_conflict(*store_, 99, "central", "bob", "cli", clock_));
}

TEST_P(SyncTest, SameValueOnBothSidesIsNoConflict) {
  record_field(1, "status", "disconnected");
  central_edit(1, "status", "disconnected");
  auto r = upload(entries());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unchanged, 1);
  EXPECT_EQ(r->conflicts, 0);
}

TEST_P(SyncTest, SuccessiveOfflineEditsOfOneFieldApplyInOrder) {
  record_field(2, "location", "Bloc B");
  record_field(2, "location", "Bloc C");  // based on Bloc B, the journal's own value
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->applied, 2);
  EXPECT_EQ(r->conflicts, 0);
  EXPECT_EQ(device_text(2, "location"), "Bloc C");
}

TEST_P(SyncTest, MitigationClosesTheFindingWithWhoAndWhen) {
  const auto finding = add_finding(1);
  refresh_snapshot();
  ASSERT_TRUE(journal_->finding(finding).value());
  record(EntryKind::kMitigation, "finding:1", {{"note", "SMB blocked on the VLAN firewall"}});
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->applied, 1);
  auto rows = store_->query("SELECT status, status_by, status_note FROM findings WHERE id = 1");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->front().text(0), "mitigated");
  EXPECT_EQ(rows->front().text(1), "alice");
  EXPECT_NE(rows->front().text(2).find("SMB blocked"), std::string::npos);
  auto history =
      store_->query("SELECT at, actor, status FROM finding_history WHERE finding_id = 1");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().text(0), "2026-11-25T10:00:00Z");
  EXPECT_EQ(history->front().text(1), "alice");
  // A second mitigation on the now closed finding is kept in its history only.
  record(EntryKind::kMitigation, "finding:1", {{"note", "also unplugged"}});
  auto again = upload(entries());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->recorded, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM finding_history WHERE finding_id = 1"), 2);
}

TEST_P(SyncTest, EntryOnADeletedDeviceIsKeptAndReported) {
  record_field(3, "location", "Salle 9");
  ASSERT_TRUE(store_->execute("DELETE FROM devices WHERE id = 3"));
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(r->head_seq, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_entries WHERE outcome = 'rejected'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sync_problems WHERE kind = 'rejected'"), 1);
}

TEST_P(SyncTest, SoldWithoutNewOwnerIsRejectedNotAborted) {
  record_field(1, "status", "sold");
  record_field(2, "location", "Bloc B");
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(r->applied, 1);
  EXPECT_EQ(device_text(1, "status"), "in-service");
}

// A sold device put back in service and its new owner cleared, in one batch: each edit is
// valid once both land, so both are written together (one column at a time would break the
// table's CHECK and refuse the whole batch).
TEST_P(SyncTest, StatusAndNewOwnerOfOneBatchLandTogether) {
  central_edit(1, "new_owner", "Clinique des Lilas");
  central_edit(1, "status", "sold");
  refresh_snapshot();  // the PC saw it sold
  record_field(1, "status", "in-service");
  record_field(1, "new_owner", "");
  auto r = upload(entries());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->applied, 2) << ::testing::PrintToString(r->problems.size());
  EXPECT_EQ(device_text(1, "status"), "in-service");
  EXPECT_EQ(device_text(1, "new_owner"), "");
}

TEST_P(SyncTest, SnapshotCanBeLimitedToAnInventorySite) {
  ASSERT_TRUE(create_sync_token(*store_, "sud-pc", "Sud", "admin", "cli", clock_));
  auto body = snapshot_json(*store_, "sud-pc", clock_);
  ASSERT_TRUE(body);
  auto parsed = parse_snapshot(*body, nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->first.size(), 1u);
  EXPECT_EQ(parsed->first.front().id, 3);
  EXPECT_EQ(json::parse(parsed->first.front().fields)["location"], "Salle 1");
  EXPECT_FALSE(snapshot_json(*store_, "nobody", clock_));
}

TEST_P(SyncTest, BatchBodyIsParsedWithPositions) {
  record(EntryKind::kNote, "site", {{"text", "x"}});
  auto list = entries();
  auto body = batch_json(list);
  auto back = parse_batch(body, "bloc");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(back->front().hash, list.front().hash);
  auto other_site = parse_batch(body, "sud");
  ASSERT_FALSE(other_site);
  EXPECT_EQ(other_site.error().where, "/entries/0/site");
  auto bad = parse_batch(R"({"entries":[{"site":"bloc","seq":"1"}]})", "bloc");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, "/entries/0/seq");
  EXPECT_FALSE(parse_batch("[1", "bloc"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SyncTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::resilience
