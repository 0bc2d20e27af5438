// The CSAF reader on arbitrary bytes: never crash; a document it accepts names products whose
// version ranges are either read or reported.
#include <cstdlib>
#include <string_view>

#include "vigie/advisory/csaf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = vigie::advisory::read_csaf(text, "fuzz.json");
  if (!doc) return 0;
  for (const auto& p : doc->products) {
    if (!p.version_range_text.empty() && !p.version_range && !p.version_range_error) std::abort();
  }
  return 0;
}
