// The nmap import on arbitrary bytes: never crash, never hang, and a refused import leaves the
// store unchanged.
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vigie::fuzz::import_and_check(data, size, vigie::inventory::ImportFormat::kNmap, ".xml");
  return 0;
}
