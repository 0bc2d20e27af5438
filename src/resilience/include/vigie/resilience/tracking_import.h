// Importing backup runs from the tools that made them: restic's JSON (`restic snapshots
// --json`, and the output of `restic backup --json` whose summary line names the snapshot),
// borg's JSON (`borg list --json`, `borg info --json`, `borg create --json`) and a documented
// generic CSV (docs/resilience-tracking.md). An import is one transaction: any bad record
// refuses the whole file with file:line:column (or a JSON pointer) and the reason, and nothing
// is changed. Importing the same output again changes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/resilience/tracking.h"
#include "vigie/store/store.h"

namespace vigie::resilience {

enum class ImportFormat { kRestic, kBorg, kCsv };
std::optional<ImportFormat> parse_import_format(std::string_view text);
std::string_view to_string(ImportFormat f);

struct ImportOptions {
  // The system the runs belong to. Required for restic and borg; for CSV, the default for
  // rows whose `system` column is empty or absent.
  std::string system;
  // borg 1.x writes times in the local time of the host that ran it, without an offset: this
  // offset is applied to them; nullopt = the local time zone of this process (TZ).
  std::optional<std::chrono::minutes> borg_utc_offset;
  // `restic backup --json` does not say when it ran: its summary is taken to have finished at
  // this time (ISO 8601). Empty = the file's modification time (restic writes the summary as
  // it finishes).
  std::string restic_finished_at;
  // Bounds on untrusted input.
  std::uintmax_t max_file_bytes = 64u << 20;
  size_t max_records = 1'000'000;
};

struct ImportSummary {
  size_t records = 0;  // runs read from the file
  size_t created = 0;
  size_t updated = 0;
  size_t unchanged = 0;
};

// Parses the file into runs without touching the store (no system check). Errors name
// file:line:column or file plus a JSON pointer.
Result<std::vector<BackupRun>> read_runs(const std::filesystem::path& file, ImportFormat format,
                                         const ImportOptions& options);

// Parses and records every run in one transaction, with one audit entry "backups.import".
Result<ImportSummary> import_runs(store::Store& store, const std::filesystem::path& file,
                                  ImportFormat format, const ImportOptions& options,
                                  const Actor& actor);

}  // namespace vigie::resilience
