// Fills an offline journal (made by `vigie offline init`, snapshot taken) with N entries in one
// transaction, for bench/sync_bench.sh: a realistic mix over the snapshot's devices (notes,
// status changes, location edits, backup checks), chained as `vigie offline record` chains them.
//
//   sync_bench_fill JOURNAL N
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "vigie/resilience/journal.h"

int main(int argc, char** argv) {
  using namespace vigie;
  using nlohmann::json;
  if (argc != 3) {
    std::cerr << "usage: sync_bench_fill JOURNAL N\n";
    return 2;
  }
  const long n = std::strtol(argv[2], nullptr, 10);
  auto journal = resilience::Journal::open(argv[1]);
  if (!journal) {
    std::cerr << journal.error().to_string() << "\n";
    return 1;
  }
  auto devices = journal->devices();
  if (!devices || devices->empty()) {
    std::cerr << "the journal has no device snapshot\n";
    return 1;
  }
  std::vector<resilience::EntryInput> inputs;
  inputs.reserve(static_cast<size_t>(n));
  std::vector<std::string> location(devices->size());
  std::vector<std::string> status(devices->size());
  for (size_t d = 0; d < devices->size(); ++d) {
    json f = json::parse((*devices)[d].fields);
    location[d] = f.value("location", "");
    status[d] = f.value("status", "in-service");
  }
  for (long i = 0; i < n; ++i) {
    const size_t d = static_cast<size_t>(i) % devices->size();
    const auto& dev = (*devices)[d];
    const std::string object = fmt::format("device:{}", dev.id);
    resilience::EntryInput in{fmt::format("user{}", i % 7), resilience::EntryKind::kNote, object,
                              "", dev.version};
    switch (i % 10) {
      case 0:
      case 1: {
        std::string next = status[d] == "disconnected" ? "in-service" : "disconnected";
        in.kind = resilience::EntryKind::kDeviceStatus;
        in.payload = json{{"status", next}, {"base", status[d]}}.dump();
        status[d] = next;
        break;
      }
      case 2: {
        std::string next = fmt::format("Bloc {}", i % 13);
        in.kind = resilience::EntryKind::kDeviceEdit;
        in.payload = json{{"field", "location"}, {"value", next}, {"base", location[d]}}.dump();
        location[d] = next;
        break;
      }
      case 3:
        in.kind = resilience::EntryKind::kBackupCheck;
        in.object = fmt::format("system:server-{}", i % 20);
        in.payload = json{{"result", "ok"}, {"note", "restic check"}}.dump();
        in.base_version.clear();
        break;
      default:
        in.payload = json{{"text", fmt::format("round {} on device {}", i, dev.id)}}.dump();
        in.base_version.clear();
        break;
    }
    inputs.push_back(std::move(in));
  }
  auto last = journal->append_all(inputs, core::utc_now());
  if (!last) {
    std::cerr << last.error().to_string() << "\n";
    return 1;
  }
  std::cout << *last << "\n";
  return 0;
}
