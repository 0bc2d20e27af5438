// restic, driven as a child process: Vigie does not write a backup engine. Each call runs the
// Debian `restic` binary on one repository with the repository password passed as a file
// (RESTIC_PASSWORD_FILE) and the repository location, which may carry REST credentials, passed
// in the environment (RESTIC_REPOSITORY): neither is ever on a command line, in a log or in an
// error message. `--json` output is parsed; exit codes are read as restic documents them
// (0 ok, 1 fatal, 3 snapshot saved but some files unreadable, 10 no repository, 11 locked,
// 12 wrong password; the last three from restic 0.17 on, older versions say it on stderr).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::resilience {

using core::Result;
using core::Status;

// One restic repository: a local path, or a URL restic understands ("rest:https://host:8000/x",
// "sftp:..."). REST credentials are kept apart, in a file holding "user:password", and put into
// the URL only in the child's environment.
struct ResticRepository {
  std::string location;                    // without credentials: safe to print
  std::filesystem::path credentials_file;  // "user:password" for rest: URLs; empty: none
};

// What every restic call of one Vigie installation shares.
struct ResticSettings {
  std::string program = "restic";
  std::filesystem::path password_file;  // the repository password (mode 0600)
  std::filesystem::path cache_dir;      // empty: restic's default (~/.cache/restic)
  std::filesystem::path cacert;         // a CA for a REST server's TLS; empty: system roots
};

// Why restic failed, from its exit code and its message.
enum class ResticFailure {
  kCannotRun,      // restic is not installed or could not be started
  kNoRepository,   // nothing initialised at that location
  kWrongPassword,  // the password file does not open the repository
  kLocked,         // another restic holds an exclusive lock
  kUnreachable,    // the server cannot be reached (connection refused, DNS, TLS)
  kRefused,        // the server refused the operation (e.g. 403 of an append-only server)
  kInterrupted,    // restic was stopped by a signal
  kFatal,          // anything else restic reports as fatal (exit 1)
};
std::string_view to_string(ResticFailure failure);

// A restic failure as Vigie's error: the code follows the failure (kUnavailable, kNotFound,
// kConflict...), `where` names the repository, the message ends with restic's own words.
struct ResticError {
  ResticFailure failure = ResticFailure::kFatal;
  std::string repository;  // the location, without credentials
  std::string message;     // restic's message (credentials masked)
  int exit_code = -1;
  [[nodiscard]] core::Error to_error(std::string_view doing) const;
};

struct BackupSummary {
  std::string snapshot_id;  // short id, as restic prints it
  std::int64_t files_new = 0;
  std::int64_t files_changed = 0;
  std::int64_t files_unmodified = 0;
  std::int64_t files_processed = 0;
  std::int64_t bytes_processed = 0;
  std::int64_t bytes_added = 0;         // what this run really added to the repository
  double seconds = 0;                   // restic's own total_duration
  bool incomplete = false;              // exit 3: a snapshot, but some files could not be read
  std::vector<std::string> unreadable;  // the files restic reported (exit 3)
};

struct BackupProgress {
  double percent_done = 0;
  std::int64_t bytes_done = 0;
  std::int64_t total_bytes = 0;
};

struct Snapshot {
  std::string id;        // full id
  std::string short_id;  // 8 hex digits
  std::string time;      // as restic writes it (RFC 3339 with nanoseconds)
  std::string hostname;
  std::vector<std::string> tags;
  std::vector<std::string> paths;
};

struct CheckOutcome {
  bool ok = false;
  std::string subset;               // the --read-data-subset asked ("" for none)
  std::vector<std::string> errors;  // restic's error lines
  std::vector<std::string> notes;   // non-critical lines (e.g. packs left by an interrupted run)
};

class Restic {
 public:
  Restic(ResticRepository repository, ResticSettings settings)
      : repository_(std::move(repository)), settings_(std::move(settings)) {}

  [[nodiscard]] const std::string& location() const { return repository_.location; }

  // The repository exists and the password opens it (`restic cat config`).
  Result<void> probe() const;
  // `restic init`. kConflict when a repository is already there.
  Status init() const;
  // Removes the locks left by restic processes that died (a crash, kill -9); a live restic's
  // lock is kept. Harmless on an append-only server (lock files may be deleted there).
  Status unlock() const;
  // Backs up the contents of `dir` (restic runs inside it: the snapshot's root is `dir`'s
  // content), with `tags`. Exit 3 gives a summary with `incomplete` set, not an error.
  Result<BackupSummary> backup(
      const std::filesystem::path& dir, const std::vector<std::string>& tags,
      const std::function<void(const BackupProgress&)>& progress = {}) const;
  // The snapshots carrying every tag of `tags`, oldest first.
  Result<std::vector<Snapshot>> snapshots(const std::vector<std::string>& tags = {}) const;
  // `restic check`, reading `subset` of the data ("5%", "1/10"; "" reads none).
  Result<CheckOutcome> check(const std::string& subset) const;
  // Restores snapshot `id` ("latest": the newest carrying every tag of `tags`) into `target`
  // (created); returns the short id of the snapshot restored, as restic names it.
  Result<std::string> restore(const std::string& id, const std::filesystem::path& target,
                              const std::vector<std::string>& tags = {}) const;

  // The error restic's exit and stderr amount to (exposed for the tests of the classifier).
  [[nodiscard]] ResticError classify(int exit_code, int signal, std::string_view stderr_text) const;

 private:
  struct Outcome;
  Result<Outcome> run(const std::vector<std::string>& args,
                      const std::function<void(std::string_view)>& on_line,
                      const std::filesystem::path& cwd = {}) const;
  [[nodiscard]] std::string masked(std::string_view text) const;

  ResticRepository repository_;
  ResticSettings settings_;
};

// RFC 3986 percent-encoding of everything but unreserved characters (URL userinfo,
// libpq URL values).
std::string url_encode(std::string_view s);

}  // namespace vigie::resilience
