// The backup-run importers (restic's and borg's JSON, the generic CSV) on arbitrary bytes: never
// crash, never hang, and every run they return has a valid UTC start time and a status. The
// first byte picks the format.
#include <cstdlib>

#include "fuzz_input.h"
#include "vigie/core/time.h"
#include "vigie/resilience/tracking_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigie;
  using resilience::ImportFormat;
  if (size == 0) return 0;
  constexpr ImportFormat kFormats[] = {ImportFormat::kRestic, ImportFormat::kBorg,
                                       ImportFormat::kCsv};
  const ImportFormat format = kFormats[data[0] % 3];
  auto path = fuzz::write_input(data + 1, size - 1, ".backup");
  resilience::ImportOptions options;
  options.system = "fuzz";
  options.borg_utc_offset = std::chrono::minutes(60);
  options.restic_finished_at = "2026-11-26T08:00:00Z";
  auto runs = resilience::read_runs(path, format, options);
  if (!runs) return 0;
  for (const auto& run : *runs) {
    if (run.system.empty() || !core::parse_utc(run.started_at)) std::abort();
  }
  return 0;
}
