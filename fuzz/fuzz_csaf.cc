// The CSAF reader, validator and matcher on arbitrary bytes: never crash; a document the reader
// accepts names products whose version ranges are either read or reported, and the validator
// and the matcher take it without failing.
#include <cstdlib>
#include <string_view>

#include "vigie/advisory/csaf.h"
#include "vigie/advisory/matcher.h"
#include "vigie/advisory/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie::advisory;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = validate_csaf(text);
  for (const auto& issue : report.issues) {
    if (issue.test.empty() || issue.reason.empty()) std::abort();
  }
  auto doc = read_csaf(text, "fuzz.json");
  if (!doc) return 0;
  for (const auto& p : doc->products) {
    if (!p.version_range_text.empty() && !p.version_range && !p.version_range_error) std::abort();
  }
  Matcher matcher;
  size_t index = matcher.add(*doc);
  for (const auto& p : matcher.advisory(index).products) {
    DeviceFacts device;
    device.vendor_norm = p.vendor;
    device.product_norm = p.product_name;
    device.software_version = p.product_version.empty() ? "1.0" : p.product_version;
    device.serial_number = "12345";
    std::vector<Assessment> out;
    matcher.assess(device, out);
    (void)matcher.explain(device, index);
  }
  return 0;
}
