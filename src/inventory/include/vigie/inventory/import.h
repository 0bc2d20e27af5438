// Importing the inventory: CSV, a GLPI-style JSON export, nmap XML. Every import is one
// transaction: it writes everything or nothing, and bad input is reported with file, line
// (or JSON pointer / XML element), column and reason.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::store {
class Store;
}

namespace vigie::inventory {

enum class ImportFormat { kCsv, kGlpi, kNmap };

std::optional<ImportFormat> parse_import_format(std::string_view text);
// From the extension (.csv, .json, .xml), else from the first bytes.
ImportFormat guess_import_format(const std::filesystem::path& path);

struct ImportOptions {
  bool ignore_unknown_columns = false;
  // Keep reading after the first bad record and report every one (nothing is written).
  bool report_all = false;
  size_t max_errors = 1000;
  // Called every `progress_every` records with the count so far.
  std::function<void(size_t records)> on_progress;
  size_t progress_every = 100000;
};

struct ImportSummary {
  size_t records = 0;  // devices (CSV/GLPI rows, nmap hosts) read
  size_t created = 0;  // devices created
  size_t updated = 0;  // existing devices updated
  size_t ports = 0;    // open ports recorded (nmap)
};

struct ImportResult {
  ImportSummary summary;
  std::vector<core::Error> errors;  // empty when the import was committed
  [[nodiscard]] bool ok() const { return errors.empty(); }
};

ImportResult import_devices(store::Store& store, const std::filesystem::path& path,
                            ImportFormat format, const ImportOptions& options);

}  // namespace vigie::inventory
