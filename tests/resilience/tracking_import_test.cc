// Importing backup runs on both back-ends from the output of the real restic and borg (tiny
// repositories made once per run in a temporary directory) and from CSV: the same output
// imported twice is stored once, and bad input is refused with its position, changing nothing.
#include "vigie/resilience/tracking_import.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>

#include <sstream>

#include "test_support.h"
#include "vigie/core/file.h"

namespace vigie::resilience {
namespace {

// The real tools' outputs, made by tracking_samples.sh for the first test that needs them
// (under a lock: ctest runs tests in parallel processes) and kept in the build tree.
class Samples {
 public:
  static std::filesystem::path file(const std::string& name) {
    return std::filesystem::path(VIGIE_BACKUP_SAMPLES) / name;
  }

  // Makes the samples unless a previous run did; the log says why when the tools failed.
  static bool ensure(std::string& log) {
    const std::string dir = VIGIE_BACKUP_SAMPLES;
    const int fd = ::open((dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) return false;
    bool ok = std::filesystem::exists(file("done"));
    if (!ok) {
      const std::string script =
          std::string(VIGIE_SOURCE_DIR) + "/tests/resilience/tracking_samples.sh";
      const std::string command = "'" + script + "' '" + dir + "' >'" + dir + ".log' 2>&1";
      ok = std::system(command.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe): one thread
      if (ok) vigie::testing::write_file(file("done"), "");
      log = core::read_file(dir + ".log").value_or("");
    }
    ::close(fd);  // releases the lock
    return ok;
  }
};

std::filesystem::path data(const std::string& name) {
  return std::filesystem::path(VIGIE_SOURCE_DIR) / "tests/resilience/data" / name;
}

class TrackingImportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string log;
    ASSERT_TRUE(Samples::ensure(log)) << "restic/borg failed:\n" << log;
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    Policy p;
    p.method = Method::kRestic;
    p.rpo_hours = 24;
    for (const char* name : {"pacs", "steriline"}) {
      ASSERT_TRUE(set_policy(*store_, {name, 0, std::nullopt, ""}, p, actor_));
    }
  }

  Result<ImportSummary> import(const std::filesystem::path& file, ImportFormat format,
                               const std::string& system = "pacs") {
    ImportOptions options;
    options.system = system;
    options.borg_utc_offset = std::chrono::minutes(0);
    options.restic_finished_at = "2026-11-26T01:00:00Z";
    return import_runs(*store_, file, format, options, actor_);
  }

  std::int64_t count(const std::string& sql) { return store_->query_int(sql).value(); }

  // Everything a refused import could have touched.
  std::string snapshot() {
    std::ostringstream out;
    out << count("SELECT COUNT(*) FROM backup_runs") << "/"
        << count("SELECT COUNT(*) FROM audit_log") << "/"
        << count("SELECT COUNT(*) FROM backup_runs WHERE finished_at IS NOT NULL");
    return out.str();
  }

  Actor actor_{"it-ops", "cli", "2026-11-26T06:00:00Z"};
  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(TrackingImportTest, ResticOutputsImportedOnceWhateverTheOrder) {
  auto first = import(Samples::file("restic-backup-1.json"), ImportFormat::kRestic);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->created, 1u);
  // The snapshot list names both snapshots with their long ids: one completes the run the
  // summary created (short id), the other is new.
  auto listed = import(Samples::file("restic-snapshots.json"), ImportFormat::kRestic);
  ASSERT_TRUE(listed) << listed.error().to_string();
  EXPECT_EQ(listed->records, 2u);
  EXPECT_EQ(listed->created, 1u);
  EXPECT_EQ(listed->updated, 1u);
  auto second = import(Samples::file("restic-backup-2.json"), ImportFormat::kRestic);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(second->created, 0u);
  EXPECT_EQ(second->updated, 1u);  // sizes and duration the snapshot list lacks
  for (const char* name :
       {"restic-backup-1.json", "restic-snapshots.json", "restic-backup-2.json"}) {
    auto again = import(Samples::file(name), ImportFormat::kRestic);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->unchanged, again->records) << name;
  }
  auto runs = list_runs(*store_, "pacs");
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  for (const auto& r : *runs) {
    EXPECT_EQ(r.snapshot_id.size(), 64u);
    EXPECT_EQ(r.status, RunStatus::kOk);
    EXPECT_TRUE(r.size_bytes.has_value());
    EXPECT_TRUE(r.duration_ms.has_value());
    EXPECT_NE(r.detail.find("/data"), std::string::npos) << r.detail;
  }
  EXPECT_GT(runs->front().size_bytes.value(), 4096);  // the second run read three files
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'backups.import'"), 3);
}

TEST_P(TrackingImportTest, BorgOutputsImportedOnce) {
  auto created = import(Samples::file("borg-create.json"), ImportFormat::kBorg);
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ(created->created, 1u);
  auto listed = import(Samples::file("borg-list.json"), ImportFormat::kBorg);
  ASSERT_TRUE(listed) << listed.error().to_string();
  EXPECT_EQ(listed->records, 2u);
  EXPECT_EQ(listed->created, 1u);
  EXPECT_EQ(listed->unchanged, 1u);
  auto info = import(Samples::file("borg-info.json"), ImportFormat::kBorg);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->updated, 1u);  // pacs-2's end, duration and sizes
  for (const char* name : {"borg-create.json", "borg-list.json", "borg-info.json"}) {
    auto again = import(Samples::file(name), ImportFormat::kBorg);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->unchanged, again->records) << name;
  }
  auto runs = list_runs(*store_, "pacs");
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_NE(runs->front().detail.find("archive pacs-2"), std::string::npos);
  EXPECT_TRUE(runs->front().files.has_value());
  EXPECT_FALSE(runs->front().finished_at.empty());
}

TEST_P(TrackingImportTest, BorgLocalTimesTakeTheGivenOffset) {
  ImportOptions options;
  options.system = "pacs";
  options.borg_utc_offset = std::chrono::minutes(60);
  auto runs = read_runs(data("borg_list_missing_start.json"), ImportFormat::kBorg, options);
  ASSERT_FALSE(runs);  // the second archive has no time; the first shows the offset below
  vigie::testing::write_file(dir_ / "one.json",
                             R"({"archives": [{"id": "bb49e214", "name": "pacs-1",
                                 "start": "2026-11-25T23:00:04.000000"}]})");
  runs = read_runs(dir_ / "one.json", ImportFormat::kBorg, options);
  ASSERT_TRUE(runs) << runs.error().to_string();
  EXPECT_EQ(runs->front().started_at, "2026-11-25T22:00:04Z");
}

TEST_P(TrackingImportTest, CsvImportedOnceWithSystemsFromTheFile) {
  auto first = import(data("good_runs.csv"), ImportFormat::kCsv, "");
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->records, 3u);
  EXPECT_EQ(first->created, 3u);
  auto again = import(data("good_runs.csv"), ImportFormat::kCsv, "");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unchanged, 3u);
  auto stered = list_runs(*store_, "steriline");
  ASSERT_TRUE(stered);
  ASSERT_EQ(stered->size(), 1u);
  EXPECT_EQ(stered->front().status, RunStatus::kFailed);
  EXPECT_EQ(stered->front().started_at, "2026-11-25T22:00:00Z");
  EXPECT_EQ(stered->front().detail, "tape drive offline; job aborted");
  auto pacs = list_runs(*store_, "pacs");
  ASSERT_TRUE(pacs);
  ASSERT_EQ(pacs->size(), 2u);
  EXPECT_EQ(pacs->front().status, RunStatus::kWarning);
  EXPECT_EQ(pacs->back().duration_ms, 2'400'000);
  EXPECT_EQ(pacs->back().added_bytes, 52428800);
}

struct BadInput {
  std::string name;
  std::string file;  // in tests/resilience/data, or written from `text`
  std::string text;
  ImportFormat format;
  std::string where;   // expected in the error's position
  std::string reason;  // expected in the error's message
};

TEST_P(TrackingImportTest, BadInputIsRefusedWithItsPositionAndChangesNothing) {
  ASSERT_TRUE(import(data("good_runs.csv"), ImportFormat::kCsv, ""));
  const std::vector<BadInput> cases = {
      {"bad date", "bad_runs.csv", "", ImportFormat::kCsv, "bad_runs.csv:3:2",
       "started_at: '2026-13-21T22:00:00Z' is not an ISO 8601 UTC time"},
      {"truncated restic JSON", "restic_snapshots_truncated.json", "", ImportFormat::kRestic,
       "restic_snapshots_truncated.json:2:", "invalid JSON"},
      {"borg archive without time", "borg_list_missing_start.json", "", ImportFormat::kBorg,
       "borg_list_missing_start.json /archives/1/time", "'time' is missing"},
      {"unknown column", "", "system,started_at,status,colour\npacs,2026-11-20,ok,blue\n",
       ImportFormat::kCsv, ":1:4", "unknown column 'colour'"},
      {"no header status", "", "system,started_at\npacs,2026-11-20\n", ImportFormat::kCsv, ":1",
       "no 'status' column"},
      {"field count", "", "system,started_at,status\npacs,2026-11-20\n", ImportFormat::kCsv, ":2",
       "2 fields where the header has 3"},
      {"bad status", "", "system,started_at,status\npacs,2026-11-20,done\n", ImportFormat::kCsv,
       ":2:3", "status 'done'"},
      {"negative size", "", "system,started_at,status,size_bytes\npacs,2026-11-20,ok,-5\n",
       ImportFormat::kCsv, ":2:4", "not a non-negative integer"},
      {"unknown system", "",
       "system,started_at,status\npacs,2026-11-01,ok\nnowhere,2026-11-02,ok\n", ImportFormat::kCsv,
       ":3", "no backup system 'nowhere'"},
      {"restic line not an object", "", "{\"message_type\":\"status\"}\n[1]\n",
       ImportFormat::kRestic, ":2", "one JSON object per line"},
      {"restic without summary", "", "{\"message_type\":\"status\",\"percent_done\":0.5}\n",
       ImportFormat::kRestic, "", "no summary line"},
      {"restic summary with a text size", "",
       "{\"message_type\":\"summary\",\"snapshot_id\":\"5cb45038\",\"total_bytes_processed\":"
       "\"big\"}\n",
       ImportFormat::kRestic, ":1 /total_bytes_processed", "non-negative integer"},
      {"deep nesting", "", std::string(100, '[') + std::string(100, ']'), ImportFormat::kRestic,
       ":1:33", "nested deeper than 32"},
      {"not borg", "", "{\"repository\": {}}", ImportFormat::kBorg, "/archives", "not borg JSON"},
  };
  const std::string before = snapshot();
  for (const auto& c : cases) {
    std::filesystem::path file = data(c.file);
    if (c.file.empty()) {
      file = dir_ / (c.name + (c.format == ImportFormat::kCsv ? ".csv" : ".json"));
      vigie::testing::write_file(file, c.text);
    }
    auto result = import(file, c.format, c.format == ImportFormat::kCsv ? "" : "pacs");
    ASSERT_FALSE(result) << c.name;
    EXPECT_EQ(result.error().code, core::ErrorCode::kInvalidInput) << c.name;
    EXPECT_NE(result.error().where.find(c.where), std::string::npos)
        << c.name << ": " << result.error().to_string();
    EXPECT_NE(result.error().message.find(c.reason), std::string::npos)
        << c.name << ": " << result.error().to_string();
    EXPECT_EQ(snapshot(), before) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingImportTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::resilience
