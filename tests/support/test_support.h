// What the tests share: temporary directories, a fresh store on each back-end (a real SQLite
// file; a schema of its own on the PostgreSQL server the suite starts), fixture paths.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vigie/store/store.h"

namespace vigie::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// "sqlite" and "postgresql": every store test runs on both.
std::vector<std::string> backends();

// A URL for a new, empty store on `backend` (a file in `dir`, or a fresh PostgreSQL schema).
std::string fresh_store_url(const std::string& backend, const TempDir& dir);
std::unique_ptr<store::Store> open_fresh_store(const std::string& backend, const TempDir& dir);

// Runs `sql` on the audit log as someone with the database owner's rights would: the store's
// append-only guard (triggers) switched off first. For the tests that prove tampering is seen.
core::Status tamper_audit_log(store::Store& store, const std::string& sql);

// ../shared/fixtures/<relative>
std::filesystem::path fixture(const std::string& relative);

void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace vigie::testing
