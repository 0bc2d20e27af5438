// Vigie's own backups through the real restic, on both store back-ends: a backup that restores
// and passes the restore test, a store held still while writers go on, a restore into a
// folder that checks every file, a broken audit chain or a forged snapshot that fails the test,
// stale locks cleared, and bad settings that are refused before anything changes.
#include "vigie/resilience/self_backup.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/core/config.h"
#include "vigie/core/file.h"

namespace vigie::resilience {
namespace {

namespace fs = std::filesystem;

class SelfBackupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    home_ = dir_ / "home";
    fs::create_directories(home_ / "tls");
    fs::create_directories(home_ / "documents");
    fs::create_directories(home_ / "backup");
    url_ = vigie::testing::fresh_store_url(GetParam(), dir_);
    auto s = store::Store::open(url_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
    vigie::testing::write_file(home_ / "vigie.toml", "[store]\nurl = \"" + url_ + "\"\n");
    vigie::testing::write_file(home_ / "tls" / "server.key", "-----BEGIN PRIVATE KEY-----\n");
    vigie::testing::write_file(home_ / "documents" / "letter.txt", "Field safety notice\n");
    ASSERT_TRUE(core::write_file_durably(home_ / "backup" / "restic.password", "correct horse\n"));
    config_.store_url = url_;
    config_.backup_repositories = {(dir_ / "repo").string()};
    write(3);
  }

  // Rows in two tables, each change audited in its transaction, as every module does.
  void write(int n) {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    for (int i = 0; i < n; ++i) {
      const std::string name = "site-" + std::to_string(next_++);
      const store::Value row[] = {name, name, std::string("2026-11-25T10:00:00.000Z")};
      ASSERT_TRUE(
          store_->execute("INSERT INTO sites (id, name, name_norm, created_at) VALUES "
                          "((SELECT COALESCE(MAX(id), 0) + 1 FROM sites), ?, ?, ?)",
                          row));
      auto id = audit::append(*store_, {"biomed", "site.add", name, "test", "{}"},
                              "2026-11-25T10:00:00.000Z");
      ASSERT_TRUE(id) << id.error().to_string();
    }
    ASSERT_TRUE(tx->commit());
  }

  SelfBackup backup() {
    auto settings = backup_settings(config_, home_);
    EXPECT_TRUE(settings) << settings.error().to_string();
    return SelfBackup(*store_, *settings, default_sources(config_, home_, url_));
  }

  std::int64_t audit_count() { return store_->query_int("SELECT COUNT(*) FROM audit_log").value(); }

  vigie::testing::TempDir dir_;
  fs::path home_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  core::Config config_;
  int next_ = 1;
  const Requester who_{"tester", "test"};
};

TEST_P(SelfBackupTest, BackupRestoresAndPassesTheRestoreTest) {
  auto b = backup();
  auto created = b.init(who_);
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ(created->size(), 1U);

  auto run = b.run({who_, {}, false});
  ASSERT_TRUE(run) << run.error().to_string();
  ASSERT_TRUE(run->ok()) << run->repositories.front().error;
  ASSERT_EQ(run->repositories.size(), 1U);
  EXPECT_EQ(run->repositories[0].snapshot_id.size(), 8U);
  EXPECT_GT(run->repositories[0].bytes_added, 0);
  const Checkpoint& c = run->checkpoint;
  EXPECT_EQ(c.backend, GetParam());
  EXPECT_EQ(c.tables.at("sites"), 3);
  EXPECT_EQ(c.audit_entries, 4);  // three sites and the init of the repository
  EXPECT_TRUE(c.audit_ok);
  auto has_file = [&c](const std::string& path) {
    return std::any_of(c.files.begin(), c.files.end(),
                       [&](const Checkpoint::File& f) { return f.path == path; });
  };
  EXPECT_TRUE(has_file(c.store_file));
  EXPECT_TRUE(has_file("home/vigie.toml"));
  EXPECT_TRUE(has_file("home/tls/server.key"));
  EXPECT_TRUE(has_file("home/documents/letter.txt"));
  EXPECT_FALSE(fs::exists(home_ / "backup" / "staging")) << "the staging copy is left behind";

  // Vigie keeps working after the snapshot: drift, not a failure.
  write(2);
  auto test = b.restore_test(who_);
  ASSERT_TRUE(test) << test.error().to_string();
  EXPECT_TRUE(test->passed) << ::testing::PrintToString(test->failures);
  EXPECT_EQ(test->snapshot_id, run->repositories[0].snapshot_id);
  EXPECT_EQ(test->restored_audit_entries, c.audit_entries);
  EXPECT_EQ(test->restored_audit_head, c.audit_head);
  EXPECT_EQ(test->live_audit_entries, 3);  // the run's own entry and two sites
  auto sites = std::find_if(test->tables.begin(), test->tables.end(),
                            [](const TableComparison& t) { return t.table == "sites"; });
  ASSERT_NE(sites, test->tables.end());
  EXPECT_EQ(sites->checkpoint, 3);
  EXPECT_EQ(sites->restored, 3);
  EXPECT_EQ(sites->live, 5);
  EXPECT_NE(::testing::PrintToString(test->live_drift).find("sites: +2"), std::string::npos);

  auto verified = b.verify(who_, "100%");
  ASSERT_TRUE(verified) << verified.error().to_string();
  EXPECT_TRUE(verified->ok());

  auto listed = b.snapshots();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->front().second.size(), 1U);
  auto actions =
      store_->query("SELECT action FROM audit_log WHERE action LIKE 'backup.%' ORDER BY id");
  ASSERT_TRUE(actions);
  std::vector<std::string> seen;
  for (const auto& r : *actions) seen.push_back(r.text(0));
  EXPECT_EQ(seen, (std::vector<std::string>{"backup.init", "backup.run", "backup.restore_test",
                                            "backup.verify"}));
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
}

TEST_P(SelfBackupTest, BrokenAuditChainFailsTheRestoreTest) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  ASSERT_TRUE(vigie::testing::tamper_audit_log(
      *store_, "UPDATE audit_log SET details = '{\"forged\":1}' WHERE id = 2"));
  auto run = b.run({who_, {}, false});
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_TRUE(run->ok());  // a broken chain is backed up all the same, and said
  EXPECT_FALSE(run->checkpoint.audit_ok);
  EXPECT_EQ(run->checkpoint.audit_problem, "entry 2: the entry's content does not match its hash");

  auto test = b.restore_test(who_);
  ASSERT_TRUE(test) << test.error().to_string();
  EXPECT_FALSE(test->passed);
  EXPECT_NE(::testing::PrintToString(test->failures).find("audit chain of the restored store"),
            std::string::npos)
      << ::testing::PrintToString(test->failures);
}

TEST_P(SelfBackupTest, MissingPasswordFileChangesNothing) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  fs::remove(home_ / "backup" / "restic.password");
  const auto before = audit_count();
  auto run = b.run({who_, {}, false});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, core::ErrorCode::kInvalidInput);
  EXPECT_NE(run.error().message.find("password file is missing"), std::string::npos);
  EXPECT_EQ(run.error().where, (home_ / "backup" / "restic.password").string());
  EXPECT_EQ(audit_count(), before);
  EXPECT_FALSE(fs::exists(home_ / "backup" / "staging"));
}

TEST_P(SelfBackupTest, UnreachableRepositoryFailsAloneTheOthersGetTheirSnapshot) {
  config_.backup_repositories.emplace_back("rest:http://127.0.0.1:1/vigie");
  auto b = backup();
  const auto before = audit_count();
  auto created = b.init(who_);
  ASSERT_FALSE(created);  // the REST one cannot be reached: nothing is created
  EXPECT_EQ(created.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(created.error().where, "restic repository rest:http://127.0.0.1:1/vigie");
  EXPECT_EQ(audit_count(), before);

  Restic local({(dir_ / "repo").string(), {}},
               {"restic", home_ / "backup" / "restic.password", dir_ / "cache", {}});
  ASSERT_FALSE(fs::exists(dir_ / "repo"))
      << "a repository was created although another is unreachable";
  ASSERT_TRUE(local.init());
  auto run = b.run({who_, {}, false});
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_FALSE(run->ok());
  ASSERT_EQ(run->repositories.size(), 2U);
  EXPECT_EQ(run->repositories[0].status, RepositoryStatus::kOk);
  EXPECT_EQ(run->repositories[1].status, RepositoryStatus::kFailed);
  EXPECT_NE(run->repositories[1].error.find("connection refused"), std::string::npos)
      << run->repositories[1].error;
  EXPECT_EQ(local.snapshots()->size(), 1U);
  EXPECT_EQ(audit_count(), before + 1);  // the run, with both outcomes
  EXPECT_FALSE(fs::exists(home_ / "backup" / "staging"));

  // vigied's way: an unreachable repository is skipped (its record goes stale and alerts).
  auto partial = b.run({who_, {}, true});
  ASSERT_TRUE(partial) << partial.error().to_string();
  EXPECT_FALSE(partial->ok());
  EXPECT_EQ(partial->repositories[1].status, RepositoryStatus::kSkipped);
  EXPECT_EQ(local.snapshots()->size(), 2U);

  // When no repository takes the snapshot, the run is an error, and recorded.
  config_.backup_repositories = {"rest:http://127.0.0.1:1/vigie"};
  auto none = backup().run({who_, {}, true});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(audit_count(), before + 3);
}

// The store is held still while restic reads it, not copied: writers go on into the WAL
// (even a checkpoint asked for meanwhile cannot touch the file), the snapshot holds exactly
// the state of the checkpoint, and the hold ends with the run.
TEST_P(SelfBackupTest, WritersGoOnWhileTheStoreIsHeldAndTheSnapshotIsExact) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  bool wrote = false;
  RunOptions options{who_, {}, false};
  options.on_step = [&](std::string_view what) {
    if (wrote || !what.starts_with("restic backup to")) return;
    wrote = true;
    write(2);
    if (GetParam() == "sqlite") {
      auto frames = store_->query("PRAGMA wal_checkpoint(TRUNCATE)");
      ASSERT_TRUE(frames) << frames.error().to_string();
      EXPECT_EQ(frames->front().integer(0), 1) << "a checkpoint went through during the hold";
    }
  };
  auto run = b.run(options);
  ASSERT_TRUE(run) << run.error().to_string();
  ASSERT_TRUE(run->ok());
  EXPECT_TRUE(wrote);
  EXPECT_EQ(run->checkpoint.tables.at("sites"), 3);
  if (GetParam() == "sqlite") {
    auto frames = store_->query("PRAGMA wal_checkpoint(TRUNCATE)");
    ASSERT_TRUE(frames);
    EXPECT_EQ(frames->front().integer(0), 0) << "the store is still held after the run";
  }

  const fs::path target = dir_ / "recovered";
  auto restored = b.restore({who_, {}, {}, target});
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_TRUE(restored->ok()) << ::testing::PrintToString(restored->failures);
  EXPECT_EQ(restored->snapshot_id, run->repositories[0].snapshot_id);
  EXPECT_EQ(restored->files_checked, static_cast<std::int64_t>(run->checkpoint.files.size()));
  EXPECT_GT(restored->bytes_checked, 0);
  EXPECT_EQ(restored->checkpoint.audit_head, run->checkpoint.audit_head);
  EXPECT_TRUE(fs::exists(target / "home" / "vigie.toml"));
  if (GetParam() == "sqlite") {
    auto copy = store::Store::open("sqlite:" + (target / "store" / "vigie.db").string());
    ASSERT_TRUE(copy) << copy.error().to_string();
    EXPECT_EQ((*copy)->query_int("SELECT COUNT(*) FROM sites").value(), 3);
    auto v = audit::verify(**copy);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->head, run->checkpoint.audit_head);
  }
  auto test = b.restore_test(who_);
  ASSERT_TRUE(test) << test.error().to_string();
  EXPECT_TRUE(test->passed) << ::testing::PrintToString(test->failures);
  EXPECT_EQ(test->live_audit_entries, 4);  // the two sites, the run and the restore
}

TEST_P(SelfBackupTest, RestoreNamesItsSnapshotRefusesAFullFolderAndFindsDamage) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  auto first = b.run({who_, {}, false});
  ASSERT_TRUE(first && first->ok());
  write(1);
  auto second = b.run({who_, {}, false});
  ASSERT_TRUE(second && second->ok());

  const fs::path target = dir_ / "older";
  auto older = b.restore({who_, {}, first->repositories[0].snapshot_id, target});
  ASSERT_TRUE(older) << older.error().to_string();
  EXPECT_TRUE(older->ok());
  EXPECT_EQ(older->snapshot_id, first->repositories[0].snapshot_id);
  EXPECT_EQ(older->checkpoint.tables.at("sites"), 3);

  const auto before = audit_count();
  auto again = b.restore({who_, {}, {}, target});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(again.error().where, target.string());
  EXPECT_EQ(audit_count(), before);

  auto unknown = b.restore({who_, {}, "0123abcd", dir_ / "nothing"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("cannot restore snapshot 0123abcd"), std::string::npos)
      << unknown.error().to_string();
  EXPECT_EQ(audit_count(), before + 1);  // a failed restore is audited too

  // A snapshot whose store was altered after its checkpoint: the restore says which file.
  Restic repo(backup_settings(config_, home_)->repositories.front(),
              backup_settings(config_, home_)->restic);
  const fs::path forged = dir_ / "forged";
  ASSERT_TRUE(repo.restore(second->repositories[0].snapshot_id, forged));
  {
    std::ofstream f(forged / "home" / "vigie.toml", std::ios::app);
    f << "# edited\n";
  }
  ASSERT_TRUE(repo.backup(forged, {std::string(SelfBackup::kTag)}));
  auto damaged = b.restore({who_, {}, {}, dir_ / "damaged"});
  ASSERT_TRUE(damaged) << damaged.error().to_string();
  EXPECT_FALSE(damaged->ok());
  EXPECT_NE(::testing::PrintToString(damaged->failures)
                .find("home/vigie.toml: content differs from the checkpoint (xxh128"),
            std::string::npos)
      << ::testing::PrintToString(damaged->failures);
}

// A lock left by a restic that died (here an exclusive one, as `check` and `prune` take) stops
// restic itself; Vigie clears it and goes on.
TEST_P(SelfBackupTest, AStaleLockIsClearedAndTheRunGoesOn) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  ASSERT_TRUE(b.run({who_, {}, false}));
  auto settings = backup_settings(config_, home_);
  Restic repo(settings->repositories.front(), settings->restic);
  const fs::path locks = dir_ / "repo" / "locks";
  // A `restic check` killed (-9) once its exclusive lock is written: a file named by its
  // 64-hex id (restic writes it under a temporary name first, then renames it).
  const std::string script = fmt::format(
      "export RESTIC_PASSWORD_FILE='{}' RESTIC_CACHE_DIR='{}'; restic -r '{}' check --read-data "
      ">/dev/null 2>&1 & p=$!; i=0; until find '{}' -type f -size +0 -regextype posix-extended "
      "-regex '.*/[0-9a-f]{{64}}' 2>/dev/null | grep -q .; "
      "do [ $i -gt 6000 ] && break; sleep 0.005; i=$((i+1)); done; kill -9 $p; wait $p",
      (home_ / "backup" / "restic.password").string(), (dir_ / "check-cache").string(),
      (dir_ / "repo").string(), locks.string());
  (void)std::system(script.c_str());
  ASSERT_FALSE(fs::is_empty(locks)) << "the check left no lock";
  const std::string name = fs::directory_iterator(locks)->path().filename().string();

  auto plain = repo.backup(home_, {"probe"});
  ASSERT_FALSE(plain) << "restic did not see the lock";
  EXPECT_EQ(plain.error().code, core::ErrorCode::kConflict) << plain.error().to_string();
  auto run = b.run({who_, {}, false});
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_TRUE(run->ok()) << run->repositories.front().error;
  EXPECT_FALSE(fs::exists(locks / name));
}

TEST_P(SelfBackupTest, WrongPasswordIsNamed) {
  auto b = backup();
  ASSERT_TRUE(b.init(who_));
  ASSERT_TRUE(core::write_file_durably(home_ / "backup" / "restic.password", "other\n"));
  auto run = b.run({who_, {}, false});
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().message.find("wrong password"), std::string::npos)
      << run.error().to_string();
  EXPECT_EQ(run.error().where, "restic repository " + (dir_ / "repo").string());
}

INSTANTIATE_TEST_SUITE_P(Backends, SelfBackupTest, ::testing::ValuesIn(vigie::testing::backends()));

// A snapshot forged by someone who holds the repository password (the store edited, the
// checkpoint left alone) is caught: the file's SHA-256 and the audit chain both disagree.
TEST(SelfBackupForgery, ForgedSnapshotFailsTheRestoreTest) {
  vigie::testing::TempDir dir;
  const fs::path home = dir / "home";
  const std::string url = vigie::testing::fresh_store_url("sqlite", dir);
  auto opened = store::Store::open(url);
  ASSERT_TRUE(opened);
  auto& store = *opened;
  fs::create_directories(home / "backup");
  ASSERT_TRUE(core::write_file_durably(home / "backup" / "restic.password", "pw\n"));
  core::Config config;
  config.backup_repositories = {(dir / "repo").string()};
  auto settings = backup_settings(config, home);
  ASSERT_TRUE(settings);
  SelfBackup b(*store, *settings, default_sources(config, home, url));
  const Requester who{"tester", "test"};
  ASSERT_TRUE(b.init(who));
  auto run = b.run({who, {}, false});
  ASSERT_TRUE(run && run->ok());

  Restic repo(settings->repositories.front(), settings->restic);
  const fs::path forged = dir / "forged";
  auto snaps = repo.snapshots();
  ASSERT_TRUE(snaps);
  ASSERT_TRUE(repo.restore(snaps->back().id, forged));
  {
    auto copy = store::Store::open("sqlite:" + (forged / "store" / "vigie.db").string());
    ASSERT_TRUE(copy);
    ASSERT_TRUE(vigie::testing::tamper_audit_log(
        **copy, "UPDATE audit_log SET actor = 'nobody' WHERE id = 1"));
  }
  auto again = repo.backup(forged, {std::string(SelfBackup::kTag)});
  ASSERT_TRUE(again) << again.error().to_string();

  auto test = b.restore_test(who);
  ASSERT_TRUE(test) << test.error().to_string();
  EXPECT_FALSE(test->passed);
  const std::string failures = ::testing::PrintToString(test->failures);
  EXPECT_NE(failures.find("store/vigie.db: content differs from the checkpoint"), std::string::npos)
      << failures;
  EXPECT_NE(failures.find("audit chain of the restored store: entry 1"), std::string::npos)
      << failures;
}

// restic's exit codes and messages, as the classifier reads them.
TEST(ResticClassify, FailuresFromExitCodesAndMessages) {
  const Restic r({"rest:http://127.0.0.1:8000/vigie", {}}, {});
  struct Case {
    int exit_code;
    int signal;
    const char* stderr_text;
    ResticFailure want;
    const char* message;
  };
  const Case cases[] = {
      {1, 0,
       "Fatal: unable to open config file: client.Head: Head "
       "\"http://u:***@127.0.0.1:1/x/config\": "
       "dial tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following "
       "location?\nrest:http://u:***@127.0.0.1:1/x/\n",
       ResticFailure::kUnreachable, "unable to open config file"},
      {1, 0,
       "Fatal: unable to open config file: Stat: stat /x/config: no such file or directory\nIs "
       "there a repository at the following location?\n/x\n",
       ResticFailure::kNoRepository, "no such file or directory"},
      {1, 0, "Fatal: wrong password or no key found\n", ResticFailure::kWrongPassword,
       "wrong password or no key found"},
      {12, 0, "Fatal: something\n", ResticFailure::kWrongPassword, "something"},
      {1, 0,
       "unable to create lock in backend: repository is already locked exclusively by PID 9745\n",
       ResticFailure::kLocked, "already locked"},
      {1, 0, "blob not removed, server response: 403 Forbidden (403)\n", ResticFailure::kRefused,
       "403 Forbidden"},
      {-1, 9, "", ResticFailure::kInterrupted, "signal 9"},
      {1, 0, "Fatal: unable to save snapshot: disk full\n", ResticFailure::kFatal, "disk full"},
  };
  for (const auto& c : cases) {
    auto e = r.classify(c.exit_code, c.signal, c.stderr_text);
    EXPECT_EQ(e.failure, c.want) << c.stderr_text;
    EXPECT_NE(e.message.find(c.message), std::string::npos) << e.message;
    EXPECT_EQ(e.repository, "rest:http://127.0.0.1:8000/vigie");
  }
}

TEST(Checkpoint, RoundTripsAndRefusesPathsLeavingTheSnapshot) {
  Checkpoint c;
  c.taken_at = "2026-11-25T10:00:00.000Z";
  c.backend = "sqlite";
  c.store_file = "store/vigie.db";
  c.schema_version = 7;
  c.audit_entries = 2;
  c.audit_head = "ab";
  c.tables = {{"sites", 3}};
  c.files = {{"store/vigie.db", 10, "00"}};
  auto back = parse_checkpoint(checkpoint_json(c), "checkpoint.json");
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->tables, c.tables);
  EXPECT_EQ(back->files.front().digest, "00");
  EXPECT_EQ(back->files.front().algorithm, "xxh128");
  // Snapshots of format 1 (SHA-256) still restore.
  nlohmann::json v1 = nlohmann::json::parse(checkpoint_json(c));
  v1["format"] = "vigie-backup-checkpoint/1";
  v1["files"][0].erase("xxh128");
  v1["files"][0]["sha256"] = "ff";
  auto old = parse_checkpoint(v1.dump(), "checkpoint.json");
  ASSERT_TRUE(old) << old.error().to_string();
  EXPECT_EQ(old->files.front().digest, "ff");
  EXPECT_EQ(old->files.front().algorithm, "sha256");
  c.files.front().path = "../../etc/passwd";
  auto bad = parse_checkpoint(checkpoint_json(c), "checkpoint.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, "checkpoint.json:/files");
  EXPECT_FALSE(parse_checkpoint("{", "checkpoint.json"));
}

TEST(BackupSettings, CredentialsInTheUrlAreRefused) {
  core::Config config;
  config.backup_repositories = {"rest:https://vigie:secret@backup:8000/vigie"};
  auto s = backup_settings(config, "/var/lib/vigie");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().where, "backup.repositories");
  EXPECT_EQ(s.error().message.find("secret"), std::string::npos);
  config.backup_repositories = {"local-repo", "rest:https://backup:8000/vigie"};
  config.backup_rest_credentials_file = "backup/rest.credentials";
  s = backup_settings(config, "/var/lib/vigie");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->repositories[0].location, "/var/lib/vigie/local-repo");
  EXPECT_TRUE(s->repositories[0].credentials_file.empty());
  EXPECT_EQ(s->repositories[1].credentials_file, "/var/lib/vigie/backup/rest.credentials");
}

}  // namespace
}  // namespace vigie::resilience
