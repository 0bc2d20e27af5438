#include "vigie/resilience/self_backup.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.h"
#include "file_digest.h"
#include "vigie/audit/audit.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/time.h"

#ifndef VIGIE_VERSION
#define VIGIE_VERSION "unknown"
#endif

namespace vigie::resilience {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;
using nlohmann::json;

constexpr std::string_view kStoreDir = "store";
constexpr std::string_view kHomeDir = "home";         // files of the home, same layout
constexpr std::string_view kOutsideDir = "external";  // files configured outside the home
constexpr std::string_view kCheckpointFile = "checkpoint.json";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string now_text() { return core::format_utc(core::utc_now()); }

bool is_remote(const std::string& location) {
  static const std::array<std::string_view, 9> kSchemes = {
      "rest:", "sftp:", "s3:", "b2:", "azure:", "gs:", "swift:", "rclone:", "http"};
  for (auto s : kSchemes) {
    if (location.starts_with(s)) return true;
  }
  return false;
}

fs::path in_home(const fs::path& home, const std::string& path) {
  fs::path p(path);
  return p.is_relative() ? home / p : p;
}

// An exclusive lock on a file beside the staging folder: one backup or restore test at a time
// per home; the kernel drops it when the process dies, even by kill -9.
class RunLock {
 public:
  static Result<RunLock> take(const fs::path& staging) {
    std::error_code ec;
    fs::create_directories(staging.parent_path(), ec);
    const fs::path path = staging.string() + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return core::fail(ErrorCode::kIo, "cannot open the backup lock", path.string());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return core::fail(ErrorCode::kConflict,
                        "another backup, verification or restore test of this home is running",
                        path.string());
    }
    return RunLock(fd);
  }
  RunLock(RunLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunLock& operator=(RunLock&&) = delete;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_;
};

// A folder removed when the scope ends (staging, restore scratch).
class ScratchDir {
 public:
  explicit ScratchDir(fs::path path) : path_(std::move(path)) {}
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Status fresh_dir(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  fs::create_directories(path, ec);
  if (ec) return core::fail(ErrorCode::kIo, "cannot create: " + ec.message(), path.string());
  fs::permissions(path, fs::perms::owner_all, ec);
  return {};
}

// --- PostgreSQL: the tools get the connection through libpq's environment variables, so that
// a password in the store URL never shows on a command line.

struct PgParam {
  std::string keyword;
  std::string value;
};

Result<std::vector<PgParam>> pg_params(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return core::fail(ErrorCode::kInvalidInput, "cannot parse the PostgreSQL URL: " + why,
                      "store.url");
  }
  std::vector<PgParam> out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') out.push_back({o->keyword, o->val});
  }
  PQconninfoFree(options);
  return out;
}

Result<std::vector<std::string>> pg_environment(const std::vector<PgParam>& params) {
  static const std::map<std::string, std::string> kEnv = {
      {"host", "PGHOST"},
      {"hostaddr", "PGHOSTADDR"},
      {"port", "PGPORT"},
      {"dbname", "PGDATABASE"},
      {"user", "PGUSER"},
      {"password", "PGPASSWORD"},
      {"passfile", "PGPASSFILE"},
      {"options", "PGOPTIONS"},
      {"application_name", "PGAPPNAME"},
      {"sslmode", "PGSSLMODE"},
      {"sslcert", "PGSSLCERT"},
      {"sslkey", "PGSSLKEY"},
      {"sslrootcert", "PGSSLROOTCERT"},
      {"sslcrl", "PGSSLCRL"},
      {"connect_timeout", "PGCONNECT_TIMEOUT"},
      {"service", "PGSERVICE"},
      {"target_session_attrs", "PGTARGETSESSIONATTRS"},
      {"gssencmode", "PGGSSENCMODE"},
      {"krbsrvname", "PGKRBSRVNAME"},
      {"channel_binding", "PGCHANNELBINDING"},
  };
  std::vector<std::string> env;
  for (const auto& p : params) {
    auto it = kEnv.find(p.keyword);
    if (it != kEnv.end()) {
      env.push_back(it->second + "=" + p.value);
    } else if (p.keyword != "fallback_application_name") {
      return core::fail(
          ErrorCode::kInvalidInput,
          fmt::format("the URL parameter '{}' cannot be passed to pg_dump", p.keyword),
          "store.url");
    }
  }
  return env;
}

std::vector<PgParam> with_dbname(std::vector<PgParam> params, const std::string& dbname) {
  std::erase_if(params, [](const PgParam& p) { return p.keyword == "dbname"; });
  params.push_back({"dbname", dbname});
  return params;
}

// A postgresql:// URL carrying every parameter as a query parameter (what Store::open takes).
std::string pg_url(const std::vector<PgParam>& params) {
  std::string url = "postgresql://";
  for (const auto& p : params) {
    if (p.keyword == "dbname") url += "/" + url_encode(p.value);
  }
  char sep = '?';
  for (const auto& p : params) {
    if (p.keyword == "dbname") continue;
    url += fmt::format("{}{}={}", sep, p.keyword, url_encode(p.value));
    sep = '&';
  }
  return url;
}

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};

// One administrative statement (CREATE/DROP DATABASE, DROP SCHEMA) on its own connection.
Status pg_admin(const std::vector<PgParam>& params, const std::string& sql) {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& p : params) {
    keys.push_back(p.keyword.c_str());
    values.push_back(p.value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, PgConnCloser> conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string why = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return core::fail(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + why);
  }
  // "schema ... does not exist, skipping" and the like are expected: not for the terminal.
  PQsetNoticeProcessor(
      conn.get(), [](void* /*arg*/, const char* /*message*/) {}, nullptr);
  PGresult* r = PQexec(conn.get(), sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  while (!why.empty() && why.back() == '\n') why.pop_back();
  if (!ok) return core::fail(ErrorCode::kStore, fmt::format("{}: {}", sql, why));
  return {};
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Status run_pg_tool(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const std::string& what) {
  internal::ChildSpec spec;
  spec.argv = argv;
  spec.env = env;
  auto exit = internal::run_child(spec);
  if (!exit) return tl::unexpected(exit.error());
  if (exit->exit_code != 0 || exit->signal != 0) {
    std::string why = exit->stderr_text;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.size() > 800) why = "..." + why.substr(why.size() - 800);
    return core::fail(ErrorCode::kIo,
                      fmt::format("{} failed (exit {}): {}", argv.front(), exit->exit_code, why),
                      what);
  }
  return {};
}

// --- the state of a store: tables and their counts, audit chain, schema version.

Result<std::vector<std::string>> table_names(store::Store& s) {
  // The catalogues differ: the one place this module speaks a dialect.
  const std::string_view sql =
      s.backend() == store::Backend::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
          : "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY "
            "tablename";
  auto rows = s.query(sql);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<std::string> names;
  for (const auto& r : *rows) names.push_back(r.text(0));
  return names;
}

Status fill_store_state(store::Store& s, Checkpoint& c) {
  auto names = table_names(s);
  if (!names) return tl::unexpected(names.error());
  for (const auto& name : *names) {
    auto n = s.query_int(fmt::format("SELECT COUNT(*) FROM {}", quote_ident(name)));
    if (!n) return tl::unexpected(n.error());
    c.tables[name] = *n;
  }
  c.schema_version = s.schema_version();
  auto v = audit::verify(s);
  if (!v) return tl::unexpected(v.error());
  c.audit_entries = v->entries;
  c.audit_head = v->head;
  c.audit_ok = v->ok;
  c.audit_problem = v->ok ? "" : fmt::format("entry {}: {}", v->first_bad_id, v->problem);
  return {};
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;

Result<SqlitePtr> open_sqlite_file(const fs::path& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqlitePtr db(raw);
  if (rc != SQLITE_OK) {
    return core::fail(
        ErrorCode::kIo,
        fmt::format("cannot open: {}", raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
        path.string());
  }
  sqlite3_busy_timeout(db.get(), 10000);
  return db;
}

// SQLite, without copying the store: the live file itself goes into the snapshot, held still
// while restic reads it. In WAL mode the database file changes only when a checkpoint copies
// frames back into it, and a checkpoint never copies a frame newer than what the oldest open
// reader sees. So: writers are held for an instant (BEGIN IMMEDIATE) while every frame of the
// WAL is checkpointed, then a read transaction starts: it sees exactly the file, and until it
// ends no checkpoint can touch the file. Writers go on meanwhile, into the WAL. The file is
// hard-linked into the staging folder (copied when the staging folder is on another file
// system), and the checkpoint is taken in that same read transaction: counts, audit chain and
// file agree to the row. The hold ends after the last repository has its snapshot.
// Starts `reader`'s read transaction on a fully checkpointed WAL. kConflict when a reader of
// the live store keeps frames from being checkpointed for longer than `patience`.
Status hold_still(const std::string& live_path, store::Store& reader,
                  std::chrono::milliseconds patience) {
  auto writers = open_sqlite_file(live_path, SQLITE_OPEN_READWRITE);
  if (!writers) return tl::unexpected(writers.error());
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (true) {
    if (sqlite3_exec(writers->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return core::fail(ErrorCode::kStore,
                        fmt::format("cannot hold the writers: {}", sqlite3_errmsg(writers->get())),
                        live_path);
    }
    bool still = false;
    // (busy, frames in the WAL, frames checkpointed); busy when another connection is
    // checkpointing right now: try again.
    auto frames = reader.query("PRAGMA wal_checkpoint(PASSIVE)");
    const bool busy = frames && !frames->empty() && frames->front().integer(0) != 0;
    if (frames && !frames->empty() && !busy && frames->front().integer(1) >= 0 &&
        frames->front().integer(1) == frames->front().integer(2)) {
      auto begun = reader.execute("BEGIN");
      // The read transaction starts at its first read: while the writers are still held.
      still = begun && reader.query_int("SELECT COUNT(*) FROM sqlite_master").has_value();
      if (begun && !still) reader.execute("ROLLBACK");
    }
    sqlite3_exec(writers->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    if (!frames) return tl::unexpected(frames.error());
    if (still) return {};
    if (frames->empty() || (!busy && frames->front().integer(1) < 0)) {
      return core::fail(ErrorCode::kStore, "the store is not in WAL mode", live_path);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return core::fail(ErrorCode::kConflict,
                        "a long reader of the store keeps its WAL from being checkpointed",
                        live_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// `hold` gets the reader, in its read transaction: the store stays still until it is reset.
Status snapshot_sqlite(const std::string& url, const fs::path& staging, Checkpoint& c,
                       std::unique_ptr<store::Store>& hold) {
  const std::string live_path = store::sqlite_path(url);
  auto reader = store::Store::open("sqlite:" + live_path);
  if (!reader) return tl::unexpected(reader.error());
  VIGIE_TRY(hold_still(live_path, **reader, std::chrono::seconds(30)));
  hold = std::move(*reader);
  const fs::path file = staging / kStoreDir / "vigie.db";
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  // Never opened here: closing a descriptor of the store's file would drop SQLite's locks
  // (file_digest.h). Linked, else copied by cp.
  fs::create_hard_link(live_path, file, ec);
  if (ec) {
    internal::ChildSpec cp;
    cp.argv = {"cp", "--", live_path, file.string()};
    auto copied = internal::run_child(cp);
    if (!copied) return tl::unexpected(copied.error());
    if (copied->exit_code != 0) {
      return core::fail(ErrorCode::kIo, "cannot copy the store: " + copied->stderr_text, live_path);
    }
  }
  VIGIE_TRY(fill_store_state(*hold, c));
  c.store_file = fmt::format("{}/vigie.db", kStoreDir);
  return {};
}

// PostgreSQL: one REPEATABLE READ transaction exports its snapshot; the checkpoint is read in
// it and pg_dump dumps that same snapshot, so counts and dump agree to the row.
Status snapshot_postgres(store::Store& live, const std::string& url, const fs::path& staging,
                         Checkpoint& c) {
  auto params = pg_params(url);
  if (!params) return tl::unexpected(params.error());
  auto env = pg_environment(*params);
  if (!env) return tl::unexpected(env.error());
  const fs::path file = staging / kStoreDir / "vigie.pgdump";
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  auto tx = store::Transaction::begin(live);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(live.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
  auto rows = live.query("SELECT pg_export_snapshot(), current_schema()");
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty() || rows->front().is_null(1)) {
    return core::fail(ErrorCode::kStore, "the store has no current schema", "store.url");
  }
  const std::string snapshot = rows->front().text(0);
  c.pg_schema = rows->front().text(1);
  VIGIE_TRY(fill_store_state(live, c));
  VIGIE_TRY(
      run_pg_tool({"pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                   "--snapshot=" + snapshot, "--schema=" + c.pg_schema, "--file=" + file.string()},
                  *env, "pg_dump of the store"));
  c.store_file = fmt::format("{}/vigie.pgdump", kStoreDir);
  return {};  // the transaction only read: rolled back when `tx` ends
}

// Copies a file or a folder (recursively) into the staging area, under home/ when it lives in
// the home, else under external/ with its absolute path.
Status stage_path(const fs::path& home, const fs::path& source, const fs::path& staging) {
  std::error_code ec;
  if (!fs::exists(source, ec)) return {};
  fs::path relative = source.lexically_relative(home);
  fs::path target;
  if (!relative.empty() && *relative.begin() != "..") {
    target = staging / kHomeDir / relative;
  } else {
    target = staging / kOutsideDir / source.relative_path();
  }
  fs::create_directories(target.parent_path(), ec);
  if (fs::is_directory(source, ec)) {
    fs::copy(source, target, fs::copy_options::recursive | fs::copy_options::overwrite_existing,
             ec);
  } else {
    fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
  }
  if (ec) return core::fail(ErrorCode::kIo, "cannot copy: " + ec.message(), source.string());
  return {};
}

Status list_files(const fs::path& staging, Checkpoint& c) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(staging, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  if (ec) return core::fail(ErrorCode::kIo, "cannot list: " + ec.message(), staging.string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Checkpoint::File entry;
    entry.path = f.lexically_relative(staging).generic_string();
    if (entry.path == kCheckpointFile) continue;
    // The SQLite store is the live file (file_digest.h): checksummed by a child process.
    const bool live = c.backend == "sqlite" && entry.path == c.store_file;
    auto digest =
        live ? internal::live_file_xxh128(f, entry.size) : internal::file_xxh128(f, entry.size);
    if (!digest) return tl::unexpected(digest.error());
    entry.digest = *digest;
    c.files.push_back(std::move(entry));
  }
  return {};
}

Status audit_event(store::Store& s, const Requester& who, const std::string& action,
                   const std::string& object, const json& details, std::int64_t& id) {
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  auto appended =
      audit::append(s, {who.actor, action, object, who.origin, details.dump()}, now_text());
  if (!appended) return tl::unexpected(appended.error());
  VIGIE_TRY(tx->commit());
  id = *appended;
  return {};
}

bool is_repository_missing(const core::Error& e) { return e.code == ErrorCode::kNotFound; }

// restic refuses to work while a lock of a restic that died (kill -9, a crash) lies in the
// repository: those are cleared (`restic unlock` keeps a live one's) and `work` tried again.
template <typename Work>
auto retry_after_unlock(const Restic& r, Work work) -> decltype(work()) {
  auto out = work();
  if (!out && out.error().code == ErrorCode::kConflict && r.unlock()) out = work();
  return out;
}

// Every file of the checkpoint, under `root`, against its size and checksum; one failure per
// file missing or different. Returns the bytes read.
std::int64_t check_files(const Checkpoint& c, const fs::path& root,
                         std::vector<std::string>& failures) {
  std::int64_t bytes = 0;
  for (const auto& f : c.files) {
    std::int64_t size = 0;
    auto digest = f.algorithm == "sha256" ? internal::file_sha256(root / f.path, size)
                                          : internal::file_xxh128(root / f.path, size);
    bytes += size;
    if (!digest) {
      failures.push_back(fmt::format("{}: missing from the restored snapshot", f.path));
    } else if (*digest != f.digest || size != f.size) {
      failures.push_back(fmt::format("{}: content differs from the checkpoint ({} {})", f.path,
                                     f.algorithm, digest->substr(0, 16)));
    }
  }
  return bytes;
}

}  // namespace

std::string_view to_string(RepositoryStatus status) {
  switch (status) {
    case RepositoryStatus::kOk:
      return "ok";
    case RepositoryStatus::kIncomplete:
      return "incomplete";
    case RepositoryStatus::kFailed:
      return "failed";
    case RepositoryStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

bool SelfBackupRun::ok() const {
  if (repositories.empty()) return false;
  return std::all_of(repositories.begin(), repositories.end(),
                     [](const RepositoryRun& r) { return r.status == RepositoryStatus::kOk; });
}

bool VerifyRun::ok() const {
  if (repositories.empty()) return false;
  return std::all_of(repositories.begin(), repositories.end(),
                     [](const RepositoryCheck& r) { return r.ok; });
}

Result<BackupSettings> backup_settings(const core::Config& config, const fs::path& home) {
  BackupSettings s;
  s.restic.password_file = in_home(home, config.backup_password_file);
  s.restic.cache_dir = home / "backup" / "cache";
  if (!config.backup_cacert.empty()) s.restic.cacert = in_home(home, config.backup_cacert);
  s.staging_dir = in_home(home, config.backup_staging_dir);
  s.check_subset = config.backup_check_subset;
  s.interval_hours = config.backup_interval_hours;
  s.retention = config.backup_retention;
  for (const auto& location : config.backup_repositories) {
    ResticRepository r;
    if (location.find('@') != std::string::npos && location.starts_with("rest:")) {
      return core::fail(ErrorCode::kInvalidInput,
                        "a repository URL must not hold credentials: put \"user:password\" in "
                        "the file named by backup.rest_credentials_file",
                        "backup.repositories");
    }
    if (is_remote(location)) {
      r.location = location;
      if (location.starts_with("rest:") && !config.backup_rest_credentials_file.empty()) {
        r.credentials_file = in_home(home, config.backup_rest_credentials_file);
      }
    } else {
      r.location = in_home(home, location).string();
    }
    s.repositories.push_back(std::move(r));
  }
  return s;
}

BackupSources default_sources(const core::Config& config, const fs::path& home,
                              const std::string& store_url) {
  BackupSources s;
  s.home = home;
  s.store_url = store_url;
  s.config_file = home / "vigie.toml";
  s.secrets = {in_home(home, config.server_tls_cert), in_home(home, config.server_tls_key),
               home / "phi", home / "keys"};
  s.folders = {home / "documents"};
  return s;
}

Status SelfBackup::check_settings() const {
  if (settings_.repositories.empty()) {
    return core::fail(ErrorCode::kInvalidInput,
                      "no backup repository is configured (backup.repositories in vigie.toml)",
                      sources_.config_file.string());
  }
  const auto& pw = settings_.restic.password_file;
  std::error_code ec;
  if (!fs::is_regular_file(pw, ec)) {
    return core::fail(ErrorCode::kInvalidInput,
                      "the repository password file is missing (backup.password_file)",
                      pw.string());
  }
  if (fs::file_size(pw, ec) == 0 || ::access(pw.c_str(), R_OK) != 0) {
    return core::fail(ErrorCode::kInvalidInput,
                      "the repository password file is empty or unreadable", pw.string());
  }
  for (const auto& r : settings_.repositories) {
    if (!r.credentials_file.empty() && !fs::is_regular_file(r.credentials_file, ec)) {
      return core::fail(ErrorCode::kInvalidInput,
                        "the REST credentials file is missing (backup.rest_credentials_file)",
                        r.credentials_file.string());
    }
  }
  return {};
}

Result<std::vector<Restic>> SelfBackup::chosen(const std::string& repository) const {
  VIGIE_TRY(check_settings());
  std::vector<Restic> out;
  for (const auto& r : settings_.repositories) {
    if (repository.empty() || r.location == repository) out.emplace_back(r, settings_.restic);
  }
  if (out.empty()) {
    return core::fail(ErrorCode::kNotFound,
                      fmt::format("'{}' is not a configured repository", repository),
                      "backup.repositories");
  }
  return out;
}

Result<std::vector<std::string>> SelfBackup::init(const Requester& requester) {
  auto repos = chosen("");
  if (!repos) return tl::unexpected(repos.error());
  // Every repository is probed first: one that cannot be reached stops before any is created.
  std::vector<const Restic*> missing;
  for (const auto& r : *repos) {
    auto probe = r.probe();
    if (probe) continue;
    if (!is_repository_missing(probe.error())) return tl::unexpected(probe.error());
    missing.push_back(&r);
  }
  std::vector<std::string> created;
  core::Status failed;
  for (const Restic* r : missing) {
    failed = r->init();
    if (!failed) break;
    created.push_back(r->location());
  }
  if (!created.empty()) {
    std::int64_t id = 0;
    VIGIE_TRY(audit_event(live_, requester, "backup.init", "backup",
                          json{{"repositories", created}}, id));
  }
  if (!failed) return tl::unexpected(failed.error());
  return created;
}

Result<SelfBackupRun> SelfBackup::run(const RunOptions& options) {
  auto repos = chosen("");
  if (!repos) return tl::unexpected(repos.error());
  auto lock = RunLock::take(settings_.staging_dir);
  if (!lock) return tl::unexpected(lock.error());
  SelfBackupRun out;
  const auto start = std::chrono::steady_clock::now();
  out.started_at = now_text();
  auto step = [&options](std::string_view what) {
    if (options.on_step) options.on_step(what);
  };

  step("staging the store, configuration, keys and documents");
  ScratchDir staging(settings_.staging_dir);
  Checkpoint& c = out.checkpoint;
  std::unique_ptr<store::Store> hold;  // after `staging`: released before the folder goes
  auto stage = [&]() -> Status {
    VIGIE_TRY(fresh_dir(staging.path()));
    c.taken_at = now_text();
    c.vigie_version = VIGIE_VERSION;
    if (live_.backend() == store::Backend::kSqlite) {
      c.backend = "sqlite";
      VIGIE_TRY(snapshot_sqlite(sources_.store_url, staging.path(), c, hold));
    } else {
      c.backend = "postgresql";
      VIGIE_TRY(snapshot_postgres(live_, sources_.store_url, staging.path(), c));
    }
    VIGIE_TRY(stage_path(sources_.home, sources_.config_file, staging.path()));
    for (const auto& p : sources_.secrets) VIGIE_TRY(stage_path(sources_.home, p, staging.path()));
    for (const auto& p : sources_.folders) VIGIE_TRY(stage_path(sources_.home, p, staging.path()));
    VIGIE_TRY(list_files(staging.path(), c));
    return core::write_file_durably(staging.path() / kCheckpointFile, checkpoint_json(c));
  };
  if (auto staged = stage(); !staged) {
    // A run that started is recorded even when it fails (a full disk, pg_dump refused).
    hold.reset();
    std::int64_t id = 0;
    VIGIE_TRY(audit_event(live_, options.requester, "backup.run", "backup",
                          json{{"ok", false}, {"error", staged.error().to_string()}}, id));
    return tl::unexpected(staged.error());
  }
  out.staging_seconds = seconds_since(start);

  // Each repository in turn, none stopping the others. No probe first: restic opening the
  // repository is the probe (a start and a key derivation each, as long as the backup of a
  // small store), and a backup that fails to open writes nothing.
  const std::vector<std::string> tags{std::string(kTag), "store-" + c.backend};
  std::optional<core::Error> first_failure;
  for (const Restic& r : *repos) {
    RepositoryRun result;
    result.repository = r.location();
    const auto t0 = std::chrono::steady_clock::now();
    step(fmt::format("restic backup to {}", r.location()));
    int last_percent = -1;
    auto summary = retry_after_unlock(r, [&] {
      return r.backup(staging.path(), tags, [&](const BackupProgress& p) {
        const int percent = static_cast<int>(p.percent_done * 100);
        if (percent == last_percent) return;
        last_percent = percent;
        step(fmt::format("restic backup to {}: {}%", r.location(), percent));
      });
    });
    result.seconds = seconds_since(t0);
    if (summary) {
      result.status = summary->incomplete ? RepositoryStatus::kIncomplete : RepositoryStatus::kOk;
      result.snapshot_id = summary->snapshot_id;
      result.bytes_added = summary->bytes_added;
      result.bytes_processed = summary->bytes_processed;
      if (summary->incomplete) {
        result.error = fmt::format("{} file(s) could not be read", summary->unreadable.size());
      }
    } else {
      const bool unreachable = summary.error().code == ErrorCode::kUnavailable;
      result.status = options.skip_unreachable && unreachable ? RepositoryStatus::kSkipped
                                                              : RepositoryStatus::kFailed;
      result.error = summary.error().to_string();
      if (!first_failure) first_failure = summary.error();
    }
    out.repositories.push_back(std::move(result));
  }
  hold.reset();  // the writers' frames may be checkpointed into the store again
  out.finished_at = now_text();
  out.seconds = seconds_since(start);

  json repos_json = json::array();
  for (const auto& r : out.repositories) {
    repos_json.push_back({{"repository", r.repository},
                          {"status", to_string(r.status)},
                          {"snapshot", r.snapshot_id},
                          {"bytes_added", r.bytes_added}});
  }
  VIGIE_TRY(audit_event(live_, options.requester, "backup.run", "backup",
                        json{{"ok", out.ok()},
                             {"repositories", repos_json},
                             {"checkpoint_audit_entries", c.audit_entries},
                             {"checkpoint_audit_head", c.audit_head}},
                        out.audit_id));
  const bool any_snapshot =
      std::any_of(out.repositories.begin(), out.repositories.end(),
                  [](const RepositoryRun& r) { return !r.snapshot_id.empty(); });
  // Not one snapshot made: the run is an error (recorded above), said by the first repository.
  if (!any_snapshot && first_failure) return tl::unexpected(*first_failure);
  return out;
}

Result<VerifyRun> SelfBackup::verify(const Requester& requester, const std::string& subset) {
  auto repos = chosen("");
  if (!repos) return tl::unexpected(repos.error());
  auto lock = RunLock::take(settings_.staging_dir);
  if (!lock) return tl::unexpected(lock.error());
  VerifyRun out;
  out.at = now_text();
  const std::string wanted = subset.empty() ? settings_.check_subset : subset;
  json details = json::array();
  for (const auto& r : *repos) {
    RepositoryCheck check;
    check.repository = r.location();
    check.subset = wanted;
    const auto t0 = std::chrono::steady_clock::now();
    auto unlocked = r.unlock();
    auto outcome = unlocked ? r.check(wanted) : tl::unexpected(unlocked.error());
    check.seconds = seconds_since(t0);
    if (outcome) {
      check.ok = outcome->ok;
      check.errors = outcome->errors;
      check.notes = outcome->notes;
    } else {
      check.errors.push_back(outcome.error().to_string());
    }
    details.push_back({{"repository", check.repository}, {"ok", check.ok}});
    out.repositories.push_back(std::move(check));
  }
  VIGIE_TRY(audit_event(live_, requester, "backup.verify", "backup",
                        json{{"ok", out.ok()}, {"subset", wanted}, {"repositories", details}},
                        out.audit_id));
  return out;
}

Result<SelfRestore> SelfBackup::restore(const RestoreOptions& options) {
  auto repos = chosen(options.repository);
  if (!repos) return tl::unexpected(repos.error());
  const Restic& repo = repos->front();
  if (options.target.empty()) {
    return core::fail(ErrorCode::kInvalidInput, "name the folder to restore into", "--target");
  }
  std::error_code ec;
  const fs::path target = fs::absolute(options.target, ec);
  if (fs::exists(target, ec) && (!fs::is_directory(target, ec) || !fs::is_empty(target, ec))) {
    return core::fail(ErrorCode::kConflict,
                      "the target exists and is not an empty folder: nothing restored",
                      target.string());
  }
  // The snapshot holds keys: the folder is its owner's only.
  const bool created = fs::create_directories(target, ec);
  if (created) fs::permissions(target, fs::perms::owner_all, ec);
  if (ec) return core::fail(ErrorCode::kIo, "cannot create: " + ec.message(), target.string());

  SelfRestore r;
  r.at = now_text();
  r.repository = repo.location();
  r.target = target;
  const auto start = std::chrono::steady_clock::now();
  auto restored = retry_after_unlock(repo, [&] {
    return options.snapshot.empty() ? repo.restore("latest", target, {std::string(kTag)})
                                    : repo.restore(options.snapshot, target);
  });
  r.restore_seconds = seconds_since(start);
  if (!restored && created) fs::remove_all(target, ec);  // what restic left of a failure
  if (restored) {
    r.snapshot_id = *restored;
    auto text = core::read_file(target / kCheckpointFile);
    auto checkpoint = text ? parse_checkpoint(*text, (target / kCheckpointFile).string())
                           : Result<Checkpoint>(tl::unexpected(text.error()));
    if (checkpoint) {
      r.checkpoint = std::move(*checkpoint);
      r.bytes_checked = check_files(r.checkpoint, target, r.failures);
      r.files_checked = static_cast<std::int64_t>(r.checkpoint.files.size());
    } else {
      r.failures.push_back("no usable checkpoint.json, the files cannot be checked: " +
                           checkpoint.error().to_string());
    }
  }
  r.seconds = seconds_since(start);
  json details = {{"repository", r.repository},
                  {"snapshot", options.snapshot.empty() ? "latest" : options.snapshot},
                  {"target", target.string()}};
  if (restored) {
    details["restored"] = r.snapshot_id;
    details["ok"] = r.ok();
    details["failures"] = r.failures.size();
  } else {
    details["ok"] = false;
    details["error"] = restored.error().to_string();
  }
  VIGIE_TRY(audit_event(live_, options.requester, "backup.restore", "backup", details, r.audit_id));
  if (!restored) return tl::unexpected(restored.error());
  return r;
}

Result<std::vector<std::pair<std::string, std::vector<Snapshot>>>> SelfBackup::snapshots(
    const std::string& repository) {
  auto repos = chosen(repository);
  if (!repos) return tl::unexpected(repos.error());
  std::vector<std::pair<std::string, std::vector<Snapshot>>> out;
  for (const auto& r : *repos) {
    auto list = r.snapshots({std::string(kTag)});
    if (!list) return tl::unexpected(list.error());
    out.emplace_back(r.location(), std::move(*list));
  }
  return out;
}

namespace {

// Opens what a snapshot holds as a store: the SQLite file itself, or the dump restored into a
// scratch database of the live server (dropped when the test ends).
class RestoredStore {
 public:
  RestoredStore() = default;
  RestoredStore(const RestoredStore&) = delete;
  RestoredStore& operator=(const RestoredStore&) = delete;
  ~RestoredStore() {
    store.reset();
    if (!scratch_db.empty()) {
      (void)pg_admin(
          admin, fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(scratch_db)));
    }
  }
  std::unique_ptr<store::Store> store;
  std::vector<PgParam> admin;  // connection to the live database, for CREATE/DROP DATABASE
  std::string scratch_db;
};

Status open_restored(store::Store& live, const std::string& live_url, const Checkpoint& c,
                     const fs::path& root, RestoredStore& out) {
  const fs::path file = root / c.store_file;
  if (c.backend == "sqlite") {
    auto s = store::Store::open("sqlite:" + file.string());
    if (!s) return tl::unexpected(s.error());
    out.store = std::move(*s);
    return {};
  }
  if (live.backend() != store::Backend::kPostgres) {
    return core::fail(ErrorCode::kInvalidInput,
                      "the snapshot holds a PostgreSQL dump but the live store is SQLite: "
                      "restore it by hand (docs/resilience-backup.md)");
  }
  auto params = pg_params(live_url);
  if (!params) return tl::unexpected(params.error());
  out.admin = *params;
  const std::string db = "vigie_restore_test_" + core::random_hex(4);
  VIGIE_TRY(pg_admin(out.admin, fmt::format("CREATE DATABASE {}", quote_ident(db))));
  out.scratch_db = db;
  auto scratch = with_dbname(*params, db);
  // A new database has an empty "public" schema; the dump creates its schema itself.
  VIGIE_TRY(
      pg_admin(scratch, fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(c.pg_schema))));
  auto env = pg_environment(scratch);
  if (!env) return tl::unexpected(env.error());
  VIGIE_TRY(run_pg_tool({"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                         "--dbname=" + db, file.string()},
                        *env, "pg_restore of the snapshot's dump"));
  std::erase_if(scratch, [](const PgParam& p) { return p.keyword == "options"; });
  scratch.push_back({"options", "-csearch_path=" + c.pg_schema});
  auto s = store::Store::open(pg_url(scratch));
  if (!s) return tl::unexpected(s.error());
  out.store = std::move(*s);
  return {};
}

}  // namespace

Result<SelfRestoreTest> SelfBackup::restore_test(const Requester& requester,
                                                 const std::string& repository) {
  auto repos = chosen(repository);
  if (!repos) return tl::unexpected(repos.error());
  const Restic& repo = repos->front();
  auto lock = RunLock::take(settings_.staging_dir);
  if (!lock) return tl::unexpected(lock.error());
  SelfRestoreTest t;
  t.at = now_text();
  t.repository = repo.location();
  const auto start = std::chrono::steady_clock::now();
  auto list = repo.snapshots({std::string(kTag)});
  if (!list) return tl::unexpected(list.error());
  if (list->empty()) {
    return core::fail(ErrorCode::kNotFound, "no snapshot of Vigie in this repository yet",
                      fmt::format("restic repository {}", repo.location()));
  }
  const Snapshot& latest = list->back();
  t.snapshot_id = latest.short_id;
  t.snapshot_time = latest.time;

  const fs::path scratch_path =
      settings_.staging_dir.parent_path() / ("restore-test-" + core::random_hex(4));
  VIGIE_TRY(fresh_dir(scratch_path));
  ScratchDir scratch(scratch_path);
  const auto restore_start = std::chrono::steady_clock::now();
  auto restored_files =
      retry_after_unlock(repo, [&] { return repo.restore(latest.id, scratch.path()); });
  t.restore_seconds = seconds_since(restore_start);

  auto fail_test = [&t](std::string why) { t.failures.push_back(std::move(why)); };
  auto run_checks = [&]() -> Status {
    if (!restored_files) {
      fail_test(restored_files.error().to_string());
      return {};
    }
    auto text = core::read_file(scratch.path() / kCheckpointFile);
    if (!text) {
      fail_test("the snapshot has no checkpoint.json");
      return {};
    }
    auto checkpoint = parse_checkpoint(*text, "checkpoint.json");
    if (!checkpoint) {
      fail_test("checkpoint.json: " + checkpoint.error().to_string());
      return {};
    }
    t.checkpoint = *checkpoint;
    const Checkpoint& c = t.checkpoint;
    check_files(c, scratch.path(), t.failures);
    if (c.store_file.empty()) {
      fail_test("the checkpoint names no store file");
      return {};
    }
    RestoredStore restored;
    const auto reopen_start = std::chrono::steady_clock::now();
    auto opened = open_restored(live_, sources_.store_url, c, scratch.path(), restored);
    if (c.backend == "postgresql") t.restore_seconds += seconds_since(reopen_start);
    if (!opened) {
      fail_test("the restored store does not open: " + opened.error().to_string());
      return {};
    }
    store::Store& rs = *restored.store;
    Checkpoint now;
    VIGIE_TRY(fill_store_state(rs, now));
    t.restored_audit_entries = now.audit_entries;
    t.restored_audit_head = now.audit_head;
    if (now.schema_version != c.schema_version) {
      fail_test(fmt::format("schema version {} restored, {} in the checkpoint", now.schema_version,
                            c.schema_version));
    }
    if (!now.audit_ok) fail_test("audit chain of the restored store: " + now.audit_problem);
    if (now.audit_entries != c.audit_entries || now.audit_head != c.audit_head) {
      fail_test(
          fmt::format("audit log restored with {} entries (head {}), the checkpoint says {} "
                      "(head {})",
                      now.audit_entries, now.audit_head.substr(0, 16), c.audit_entries,
                      c.audit_head.substr(0, 16)));
    }
    for (const auto& [name, count] : c.tables) {
      TableComparison row{name, count, -1, -1};
      auto it = now.tables.find(name);
      if (it != now.tables.end()) row.restored = it->second;
      if (row.restored != count) {
        fail_test(fmt::format("table {}: {} rows restored, {} in the checkpoint", name,
                              row.restored, count));
      }
      t.tables.push_back(row);
    }
    // The documents the restored notices point to must have come back with them.
    auto docs = rs.query(
        "SELECT document_path, document_sha256 FROM notices WHERE document_path IS NOT NULL "
        "AND document_path <> ''");
    if (docs) {
      for (const auto& d : *docs) {
        std::int64_t size = 0;
        auto sha = internal::file_sha256(scratch.path() / kHomeDir / d.text(0), size);
        if (!sha || *sha != d.text(1)) {
          fail_test(fmt::format("document {} of a notice is {} in the snapshot", d.text(0),
                                sha ? "different" : "missing"));
        }
      }
    }
    // The live system: its audit log must extend the snapshot's, rows written since are drift.
    if (c.audit_entries > 0) {
      const store::Value id[] = {c.audit_entries};
      auto head = live_.query("SELECT hash FROM audit_log WHERE id = ?", id);
      if (!head) return tl::unexpected(head.error());
      if (head->empty() || head->front().text(0) != c.audit_head) {
        fail_test(fmt::format(
            "the live audit log does not extend the snapshot's: entry {} differs or is missing",
            c.audit_entries));
      }
    }
    auto live_names = table_names(live_);
    if (!live_names) return tl::unexpected(live_names.error());
    for (auto& row : t.tables) {
      if (std::find(live_names->begin(), live_names->end(), row.table) == live_names->end()) {
        t.live_drift.push_back(fmt::format("table {} no longer exists", row.table));
        continue;
      }
      auto n = live_.query_int(fmt::format("SELECT COUNT(*) FROM {}", quote_ident(row.table)));
      if (!n) return tl::unexpected(n.error());
      row.live = *n;
      if (row.live != row.checkpoint) {
        t.live_drift.push_back(
            fmt::format("{}: {:+} rows since the snapshot", row.table, row.live - row.checkpoint));
      }
      if (row.table == "audit_log") t.live_audit_entries = row.live - c.audit_entries;
    }
    return {};
  };
  VIGIE_TRY(run_checks());
  t.passed = t.failures.empty();
  t.seconds = seconds_since(start);
  VIGIE_TRY(audit_event(live_, requester, "backup.restore_test", "backup",
                        json{{"repository", t.repository},
                             {"snapshot", t.snapshot_id},
                             {"passed", t.passed},
                             {"failures", t.failures.size()},
                             {"restore_seconds", t.restore_seconds}},
                        t.audit_id));
  return t;
}

std::string checkpoint_json(const Checkpoint& c) {
  json files = json::array();
  for (const auto& f : c.files) {
    files.push_back({{"path", f.path}, {"size", f.size}, {f.algorithm, f.digest}});
  }
  json j = {{"format", "vigie-backup-checkpoint/2"},
            {"taken_at", c.taken_at},
            {"vigie_version", c.vigie_version},
            {"backend", c.backend},
            {"store_file", c.store_file},
            {"pg_schema", c.pg_schema},
            {"schema_version", c.schema_version},
            {"audit",
             {{"entries", c.audit_entries},
              {"head", c.audit_head},
              {"ok", c.audit_ok},
              {"problem", c.audit_problem}}},
            {"tables", c.tables},
            {"files", files}};
  return j.dump(2) + "\n";
}

Result<Checkpoint> parse_checkpoint(std::string_view text, std::string_view source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return core::fail(ErrorCode::kInvalidInput, "not a JSON object", std::string(source));
  }
  // Format 1 checked the files with SHA-256; format 2 with XXH3-128, at memory speed.
  const std::string format = j.value("format", "");
  const bool v1 = format == "vigie-backup-checkpoint/1";
  if (!v1 && format != "vigie-backup-checkpoint/2") {
    return core::fail(ErrorCode::kInvalidInput, "unknown checkpoint format",
                      std::string(source) + ":/format");
  }
  Checkpoint c;
  try {
    c.taken_at = j.at("taken_at").get<std::string>();
    c.vigie_version = j.value("vigie_version", "");
    c.backend = j.at("backend").get<std::string>();
    c.store_file = j.at("store_file").get<std::string>();
    c.pg_schema = j.value("pg_schema", "");
    c.schema_version = j.at("schema_version").get<int>();
    const json& a = j.at("audit");
    c.audit_entries = a.at("entries").get<std::int64_t>();
    c.audit_head = a.at("head").get<std::string>();
    c.audit_ok = a.at("ok").get<bool>();
    c.audit_problem = a.value("problem", "");
    c.tables = j.at("tables").get<std::map<std::string, std::int64_t>>();
    for (const auto& f : j.at("files")) {
      const std::string algorithm = v1 ? "sha256" : "xxh128";
      c.files.push_back({f.at("path").get<std::string>(), f.at("size").get<std::int64_t>(),
                         f.at(algorithm).get<std::string>(), algorithm});
    }
  } catch (const json::exception& e) {
    return core::fail(ErrorCode::kInvalidInput, e.what(), std::string(source));
  }
  if (c.backend != "sqlite" && c.backend != "postgresql") {
    return core::fail(ErrorCode::kInvalidInput, "backend must be sqlite or postgresql",
                      std::string(source) + ":/backend");
  }
  for (const auto& f : c.files) {
    if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
      return core::fail(ErrorCode::kInvalidInput, "a file path leaves the snapshot: " + f.path,
                        std::string(source) + ":/files");
    }
  }
  if (c.store_file.empty() || c.store_file.front() == '/' ||
      c.store_file.find("..") != std::string::npos) {
    return core::fail(ErrorCode::kInvalidInput, "the store file leaves the snapshot",
                      std::string(source) + ":/store_file");
  }
  return c;
}

}  // namespace vigie::resilience
