#include "test_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>

#include "vigie/core/ids.h"

namespace vigie::testing {

TempDir::TempDir() {
  path_ = std::filesystem::temp_directory_path() / ("vigie-test-" + core::random_hex(8));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> backends() { return {"sqlite", "postgresql"}; }

std::string fresh_store_url(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite")
    return "sqlite:" + (dir / ("store-" + core::random_hex(4) + ".db")).string();
  const char* base = std::getenv("VIGIE_TEST_PG_URL");
  if (base == nullptr) {
    ADD_FAILURE() << "VIGIE_TEST_PG_URL is not set: run the tests through ctest, which starts "
                     "PostgreSQL";
    return "postgresql://invalid";
  }
  std::string schema = "t_" + core::random_hex(6);
  PGconn* conn = PQconnectdb(base);
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, ("CREATE SCHEMA " + schema).c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  return std::string(base) + "?options=-csearch_path%3D" + schema;
}

core::Status tamper_audit_log(store::Store& store, const std::string& sql) {
  if (store.backend() == store::Backend::kSqlite) {
    VIGIE_TRY(store.execute("DROP TRIGGER IF EXISTS audit_log_no_update"));
    VIGIE_TRY(store.execute("DROP TRIGGER IF EXISTS audit_log_no_delete"));
  } else {
    VIGIE_TRY(store.execute("ALTER TABLE audit_log DISABLE TRIGGER USER"));
  }
  return store.execute(sql);
}

std::unique_ptr<store::Store> open_fresh_store(const std::string& backend, const TempDir& dir) {
  auto s = store::Store::open(fresh_store_url(backend, dir));
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().to_string());
  return s ? std::move(*s) : nullptr;
}

std::filesystem::path fixture(const std::string& relative) {
  return std::filesystem::path(VIGIE_FIXTURES_DIR) / relative;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace vigie::testing
