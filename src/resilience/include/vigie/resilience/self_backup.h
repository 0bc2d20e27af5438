// Vigie's own backups: a consistent image of the store (SQLite: the live file itself, held
// still by a read transaction while restic reads it; PostgreSQL: `pg_dump -Fc` in an exported
// snapshot), the configuration, the TLS and signing keys, the notices' documents and an audit
// checkpoint (the chain's head and length, the row count of every table, the checksum of every
// file) are staged under the home and sent by restic to every configured repository: one
// local, one off-machine and append-only. `verify` runs restic's check; `restore` brings a
// snapshot back into a folder and checks every file; `restore_test` restores the latest
// snapshot into a scratch place, opens it, verifies its audit chain and compares it with the
// checkpoint and with the live system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/resilience/restic.h"
#include "vigie/store/store.h"

namespace vigie::resilience {

// The backup settings of one installation (config keys backup.*), paths made absolute.
struct BackupSettings {
  std::vector<ResticRepository> repositories;
  ResticSettings restic;
  std::filesystem::path staging_dir;
  std::string check_subset = "5%";
  std::int64_t interval_hours = 24;  // vigied's schedule; 0: not scheduled
  std::string retention;             // what the trusted host keeps (a note for people)
};

// Reads the backup.* keys; relative paths are taken inside `home`. kInvalidInput naming the
// key when one does not make sense (no repository, a credentials file for a local path...).
Result<BackupSettings> backup_settings(const core::Config& config,
                                       const std::filesystem::path& home);

// What a backup takes besides the store.
struct BackupSources {
  std::filesystem::path home;
  std::string store_url;                       // resolved (store::resolve_url)
  std::filesystem::path config_file;           // vigie.toml
  std::vector<std::filesystem::path> secrets;  // key files or folders (TLS, CA, signing keys)
  std::vector<std::filesystem::path> folders;  // other folders of the home (documents/)
};

// The usual sources of a home: vigie.toml, the TLS certificate and key, <home>/phi (the PHI
// key), <home>/keys (signing keys) and <home>/documents, where they exist.
BackupSources default_sources(const core::Config& config, const std::filesystem::path& home,
                              const std::string& store_url);

// Who asks, for the audit log.
struct Requester {
  std::string actor = "system";
  std::string origin = "scheduler";
};

// The state of the store at the instant of the snapshot, written into it as checkpoint.json.
struct Checkpoint {
  std::string taken_at;  // ISO 8601 UTC
  std::string vigie_version;
  std::string backend;     // "sqlite" or "postgresql"
  std::string store_file;  // inside the snapshot: "store/vigie.db" or "store/vigie.pgdump"
  std::string pg_schema;   // PostgreSQL: the schema dumped
  int schema_version = 0;
  std::int64_t audit_entries = 0;
  std::string audit_head;
  bool audit_ok = true;
  std::string audit_problem;
  std::map<std::string, std::int64_t> tables;  // row count of every table
  struct File {
    std::string path;  // relative to the snapshot's root
    std::int64_t size = 0;
    std::string digest;                // hex
    std::string algorithm = "xxh128";  // "xxh128" (format 2) or "sha256" (format 1)
  };
  std::vector<File> files;
};

enum class RepositoryStatus { kOk, kIncomplete, kFailed, kSkipped };
std::string_view to_string(RepositoryStatus status);

struct RepositoryRun {
  std::string repository;  // location, without credentials
  RepositoryStatus status = RepositoryStatus::kFailed;
  std::string snapshot_id;
  std::int64_t bytes_added = 0;
  std::int64_t bytes_processed = 0;
  double seconds = 0;
  std::string error;  // when not ok: what restic said
};

struct SelfBackupRun {
  std::string started_at;
  std::string finished_at;
  double staging_seconds = 0;
  double seconds = 0;
  Checkpoint checkpoint;
  std::vector<RepositoryRun> repositories;
  std::int64_t audit_id = 0;  // the audit entry that records this run
  // Every repository holds the new snapshot.
  [[nodiscard]] bool ok() const;
};

struct RunOptions {
  Requester requester;
  // Each step as it starts ("staging the store", "restic backup to ..."), and restic's
  // progress; for a person watching (stderr), never for the audit log.
  std::function<void(std::string_view)> on_step;
  // Every repository is tried, each with its own status: a repository that fails does not
  // stop the others. An unreachable one is reported as skipped (vigied: its record goes
  // stale and alerts) rather than as failed.
  bool skip_unreachable = false;
};

struct RepositoryCheck {
  std::string repository;
  bool ok = false;
  std::string subset;
  double seconds = 0;
  std::vector<std::string> errors;
  std::vector<std::string> notes;
};

struct VerifyRun {
  std::string at;
  std::vector<RepositoryCheck> repositories;
  std::int64_t audit_id = 0;
  [[nodiscard]] bool ok() const;
};

struct RestoreOptions {
  Requester requester;
  std::string repository;        // as configured; "" for the first one
  std::string snapshot;          // a snapshot id; "" for the latest of Vigie's
  std::filesystem::path target;  // created; must not exist or be empty
};

// A snapshot brought back into a folder (recovery on a new host), every file checked against
// the checkpoint the snapshot carries.
struct SelfRestore {
  std::string at;
  std::string repository;
  std::string snapshot_id;
  std::filesystem::path target;
  Checkpoint checkpoint;
  std::int64_t files_checked = 0;
  std::int64_t bytes_checked = 0;
  std::vector<std::string> failures;  // files missing or different, one reason each
  double restore_seconds = 0;         // restic restore
  double seconds = 0;
  std::int64_t audit_id = 0;
  [[nodiscard]] bool ok() const { return failures.empty(); }
};

struct TableComparison {
  std::string table;
  std::int64_t checkpoint = 0;  // in the snapshot, as recorded at backup time
  std::int64_t restored = -1;   // found in the restored store (-1: table missing)
  std::int64_t live = -1;       // in the live store now (-1: table missing)
};

struct SelfRestoreTest {
  std::string at;
  std::string repository;
  std::string snapshot_id;
  std::string snapshot_time;
  bool passed = false;
  std::vector<std::string> failures;  // why it did not pass, one reason each
  double restore_seconds = 0;         // restic restore (+ pg_restore): the time to recover
  double seconds = 0;                 // the whole test
  Checkpoint checkpoint;
  std::int64_t restored_audit_entries = 0;
  std::string restored_audit_head;
  std::vector<TableComparison> tables;
  // Since the snapshot: entries appended to the live audit log, and tables whose live count
  // moved (expected: Vigie kept working), reported apart from the verdict.
  std::int64_t live_audit_entries = 0;
  std::vector<std::string> live_drift;
  std::int64_t audit_id = 0;
};

class SelfBackup {
 public:
  SelfBackup(store::Store& live, BackupSettings settings, BackupSources sources)
      : live_(live), settings_(std::move(settings)), sources_(std::move(sources)) {}

  // Creates the repositories that do not exist yet; returns the locations created.
  Result<std::vector<std::string>> init(const Requester& requester);
  Result<SelfBackupRun> run(const RunOptions& options);
  Result<VerifyRun> verify(const Requester& requester, const std::string& subset = {});
  // Restores a snapshot into options.target (which must not exist or be empty) and checks
  // every file against its checkpoint. Audited in the live store.
  Result<SelfRestore> restore(const RestoreOptions& options);
  // `repository`: a location as configured, or "" for the first one.
  Result<SelfRestoreTest> restore_test(const Requester& requester,
                                       const std::string& repository = {});
  // Vigie's snapshots in `repository` ("" for every one), oldest first.
  Result<std::vector<std::pair<std::string, std::vector<Snapshot>>>> snapshots(
      const std::string& repository = {});

  // The tags of Vigie's own snapshots.
  static constexpr std::string_view kTag = "vigie-self";

 private:
  Result<std::vector<Restic>> chosen(const std::string& repository) const;
  Status check_settings() const;

  store::Store& live_;
  BackupSettings settings_;
  BackupSources sources_;
};

// JSON of the checkpoint (what checkpoint.json holds) and back.
std::string checkpoint_json(const Checkpoint& checkpoint);
Result<Checkpoint> parse_checkpoint(std::string_view text, std::string_view source);

}  // namespace vigie::resilience
