// The vers and free-text range parsers on arbitrary text: never crash; a parsed range
// re-parses to itself and contains each version it lists with "=".
#include <cstdlib>
#include <string_view>

#include "vigie/advisory/version.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie::advisory;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Scheme scheme : {Scheme::kGeneric, Scheme::kSemver, Scheme::kVendor}) {
    auto range = parse_range_text(text, scheme);
    if (!range) continue;
    auto again = parse_vers(range->to_vers());
    if (!again || again->to_vers() != range->to_vers()) std::abort();
    for (const auto& c : range->constraints) {
      if (c.comparator == Comparator::kEq && !contains(*range, c.version).value_or(false)) {
        std::abort();
      }
    }
  }
  return 0;
}
