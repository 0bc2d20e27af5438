// The Zeek conn.log reader (TSV and JSON lines) on arbitrary bytes: never crash, never hang;
// every flow it hands over is counted, and a refusal says where.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vigie/netpolicy/zeek.h"

namespace {

struct Count : vigie::netpolicy::FlowSink {
  std::uint64_t flows = 0;
  void flow(const vigie::netpolicy::Flow& f) override {
    if (f.last_us < f.first_us) std::abort();  // a duration is never negative
    ++flows;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Count sink;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stats = vigie::netpolicy::read_zeek_conn(text, "fuzz.log", sink);
  if (stats && stats->flows != sink.flows) std::abort();
  if (!stats && !stats.error().where.starts_with("fuzz.log")) std::abort();
  return 0;
}
