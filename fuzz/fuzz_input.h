// Shared by the fuzz targets: the importers read files, so each input is written to one
// scratch file first, and imported into an in-memory SQLite store.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "vigie/core/file.h"
#include "vigie/inventory/import.h"
#include "vigie/store/store.h"

namespace vigie::fuzz {

inline std::filesystem::path write_input(const uint8_t* data, size_t size, const char* ext) {
  static const std::filesystem::path kPath =
      std::filesystem::temp_directory_path() / ("vigie-fuzz-" + std::to_string(getpid()) + ext);
  core::FilePtr f = core::open_file(kPath, "wb");
  if (f && size > 0) std::fwrite(data, 1, size, f.get());
  return kPath;
}

inline store::Store& memory_store() {
  static std::unique_ptr<store::Store> store = [] {
    auto s = store::Store::open("sqlite::memory:");
    if (!s) std::abort();
    return std::move(*s);
  }();
  return *store;
}

// Imports the input as `format`; a refused import must leave the store without devices. The
// store is emptied afterwards for the next input.
inline void import_and_check(const uint8_t* data, size_t size, inventory::ImportFormat format,
                             const char* ext) {
  auto path = write_input(data, size, ext);
  auto& store = memory_store();
  auto result = inventory::import_devices(store, path, format, {});
  if (!result.ok() && store.query_int("SELECT COUNT(*) FROM devices").value_or(0) != 0) {
    std::abort();  // a refused import changed the store
  }
  for (const char* table : {"open_ports", "interfaces", "devices", "products", "zones", "sites"}) {
    (void)store.execute(std::string("DELETE FROM ") + table);
  }
}

}  // namespace vigie::fuzz
