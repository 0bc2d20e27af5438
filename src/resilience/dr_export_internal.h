// Private to the export code: running the OpenSSH tools, pushing one archive to one PC, and
// the audited transaction every change goes through.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigie/resilience/dr_export.h"
#include "vigie/store/store.h"

namespace vigie::resilience::internal {

// Runs `body` and its audit entry in one transaction.
Status audited(store::Store& store, const ExportActor& actor, const std::string& action,
               const std::string& object, const nlohmann::json& details,
               const std::function<Status()>& body);

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs `argv` (found on PATH) with stdin from /dev/null; never through a shell.
Result<ProcessResult> run_process(const std::vector<std::string>& argv);

struct PushRequest {
  const ExportHost* host = nullptr;
  std::filesystem::path archive;  // local file to send
  std::string archive_sha256;
  std::filesystem::path ssh_key;
  std::filesystem::path known_hosts;
  std::filesystem::path scratch;  // a private directory for batch files and the read-back copy
  int generations_kept = 7;
  int connect_timeout_seconds = 15;
};
// Uploads (as NAME.part, then renamed), reads the copy back and compares its SHA-256, lists the
// PC's generations and deletes the oldest beyond `generations_kept`.
PushResult push_archive(const PushRequest& request);

// "vigie-dr-GENERATION.vdr": the archive's file name; generation names sort by time.
std::string archive_file_name(std::string_view generation);
bool is_archive_file_name(std::string_view name);

// The known_hosts line of a PC, from its registered host key.
std::string known_hosts_text(const ExportHost& host);

}  // namespace vigie::resilience::internal
