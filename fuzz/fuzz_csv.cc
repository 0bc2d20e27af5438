// The CSV reader and the CSV inventory import on arbitrary bytes: never crash, never hang,
// and a refused import leaves the store empty.
#include <cstdlib>

#include "fuzz_input.h"
#include "vigie/core/csv.h"
#include "vigie/inventory/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie;
  auto path = fuzz::write_input(data, size, ".csv");
  if (auto reader = core::CsvReader::open(path)) {
    std::vector<std::string_view> fields;
    while (true) {
      auto got = reader->next(fields);
      if (!got || !*got) break;
    }
  }
  fuzz::import_and_check(data, size, inventory::ImportFormat::kCsv, ".csv");
  return 0;
}
