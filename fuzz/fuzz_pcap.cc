// The capture reader and flow assembler on arbitrary bytes (given to libpcap through
// fmemopen): never crash, never hang; every flow is handed over once, and a refusal says where.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "vigie/core/file.h"
#include "vigie/netpolicy/pcap.h"

namespace {

struct Count : vigie::netpolicy::FlowSink {
  std::uint64_t flows = 0;
  std::uint64_t packets = 0;
  void flow(const vigie::netpolicy::Flow& f) override {
    if (f.packets == 0 || f.last_us < f.first_us) std::abort();
    ++flows;
    packets += f.packets;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;  // fmemopen refuses an empty buffer
  // fmemopen reads the buffer in place; libpcap only reads it.
  vigie::core::FilePtr stream(fmemopen(const_cast<uint8_t*>(data), size, "rb"));
  if (!stream) return 0;
  Count sink;
  vigie::netpolicy::PcapOptions options;
  options.max_open_flows = 4096;
  auto stats = vigie::netpolicy::read_pcap(std::move(stream), "fuzz.pcap", sink, options);
  if (stats && (stats->flows != sink.flows || sink.packets > stats->records)) std::abort();
  if (!stats && !stats.error().where.starts_with("fuzz.pcap")) std::abort();
  return 0;
}
