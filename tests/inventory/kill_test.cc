// An import killed with SIGKILL half-way leaves the store exactly as before, on both
// back-ends: the real `vigie` binary is run and killed while it writes.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "import_test_support.h"

namespace vigie::inventory {
namespace {

class KillTest : public InventoryTest {};

// Runs vigie with `args`; kills it with SIGKILL once a stderr line contains `marker`.
// Returns true when the marker was seen before the process ended.
bool run_and_kill(const std::vector<std::string>& args, const std::string& marker) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string seen;
  char buf[4096];
  bool found = false;
  while (!found) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
    found = seen.find(marker) != std::string::npos;
  }
  if (found) kill(pid, SIGKILL);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return found && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST_P(KillTest, ImportKilledHalfWayLeavesTheStoreAsBefore) {
  std::string url = vigie::testing::fresh_store_url(GetParam(), dir_);
  auto home = dir_ / "home";
  std::filesystem::create_directories(home);
  vigie::testing::write_file(home / "vigie.toml", "[store]\nurl = \"" + url + "\"\n");
  std::string vigie = std::string(VIGIE_BIN_DIR) + "/vigie";

  vigie::testing::write_file(
      dir_ / "small.csv",
      "vendor,product,serial_number,ip\nGE,B450,1,10.0.0.1\nGE,B450,2,10.0.0.2\n");
  std::string first = vigie + " --home " + home.string() + " devices import " +
                      (dir_ / "small.csv").string() + " >/dev/null";
  ASSERT_EQ(std::system(first.c_str()), 0);
  {
    std::ofstream big(dir_ / "big.csv");
    big << "vendor,product,serial_number,site,zone,ip\n";
    for (int i = 0; i < 400000; ++i) {
      big << "Mindray,BeneView T5," << i << ",CHU,Rea,10." << (i >> 16) << '.' << ((i >> 8) & 255)
          << '.' << (i & 255) << "\n";
    }
  }
  ASSERT_TRUE(run_and_kill({vigie, "--home", home.string(), "devices", "import",
                            (dir_ / "big.csv").string(), "--progress"},
                           "records read"));

  auto store = store::Store::open(url);
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_EQ((*store)->query_int("SELECT COUNT(*) FROM devices").value(), 2);
  EXPECT_EQ((*store)->query_int("SELECT COUNT(*) FROM interfaces").value(), 2);
  EXPECT_EQ((*store)->query_int("SELECT COUNT(*) FROM sites").value(), 0);
  EXPECT_EQ((*store)->query_int("SELECT COUNT(*) FROM imports").value(), 1);
  if (GetParam() == "sqlite") {
    EXPECT_EQ((*store)->query("PRAGMA integrity_check")->front().text(0), "ok");
  }
  // The store takes writes again at once (no lock left behind).
  store_ = std::move(*store);
  auto r = import_text("after.csv", "vendor,product,serial_number\nGE,B450,3\n");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 3);
}

TEST_P(KillTest, BulkLoadKilledHalfWayKeepsTheIndexesAndAnEmptyStore) {
  // Into an empty store the import drops and rebuilds the secondary indexes (bulk load): a
  // kill must roll that back too.
  std::string url = vigie::testing::fresh_store_url(GetParam(), dir_);
  auto home = dir_ / "home";
  std::filesystem::create_directories(home);
  vigie::testing::write_file(home / "vigie.toml", "[store]\nurl = \"" + url + "\"\n");
  {
    std::ofstream big(dir_ / "big.csv");
    big << "vendor,product,serial_number,ip\n";
    for (int i = 0; i < 400000; ++i)
      big << "GE,B450," << i << ",10.1." << (i >> 8 & 255) << '.' << (i & 255) << "\n";
  }
  auto indexes_before = store_->secondary_indexes("devices").value().size() +
                        store_->secondary_indexes("interfaces").value().size() +
                        store_->droppable_foreign_keys("devices").value().size() +
                        store_->droppable_foreign_keys("interfaces").value().size();
  ASSERT_GE(indexes_before, 3u);
  std::string vigie = std::string(VIGIE_BIN_DIR) + "/vigie";
  ASSERT_TRUE(run_and_kill({vigie, "--home", home.string(), "devices", "import",
                            (dir_ / "big.csv").string(), "--progress"},
                           "records read"));
  auto store = store::Store::open(url);
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_EQ((*store)->query_int("SELECT COUNT(*) FROM devices").value(), 0);
  auto indexes_after = (*store)->secondary_indexes("devices").value().size() +
                       (*store)->secondary_indexes("interfaces").value().size() +
                       (*store)->droppable_foreign_keys("devices").value().size() +
                       (*store)->droppable_foreign_keys("interfaces").value().size();
  EXPECT_EQ(indexes_after, indexes_before);
}

INSTANTIATE_TEST_SUITE_P(Backends, KillTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
