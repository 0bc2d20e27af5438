// The nmap import on arbitrary bytes: never crash, never hang, and a refused import leaves the
// store unchanged.
#include <cstdlib>

#include "fuzz_input.h"
#include "vigie/inventory/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie;
  auto path = fuzz::write_input(data, size, ".xml");
  auto& store = fuzz::memory_store();
  auto result = inventory::import_devices(store, path, inventory::ImportFormat::kNmap, {});
  if (!result.ok() && store.query_int("SELECT COUNT(*) FROM devices").value_or(0) != 0) {
    std::abort();  // a refused import changed the store
  }
  (void)store.execute("DELETE FROM open_ports");
  (void)store.execute("DELETE FROM interfaces");
  (void)store.execute("DELETE FROM devices");
  (void)store.execute("DELETE FROM zones");
  (void)store.execute("DELETE FROM sites");
  return 0;
}
