// The audit log's speed: durable appends with group commit (many threads, one writer), the
// same appends one transaction each (what a program without group commit does), and the
// verification of the whole chain. Prints one line per measure: "NAME COUNT SECONDS".
//
//   audit_bench STORE_URL group N THREADS | single N | verify
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "vigie/audit/audit.h"
#include "vigie/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using vigie::audit::Entry;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A stream-close entry as the broker writes them: the commonest entry of a busy gateway.
Entry entry(int thread, int i) {
  return {fmt::format("engineer-{}", thread), "remote.stream.close",
          fmt::format("device:{}/port:5900", i % 400), "192.0.2.10:50412",
          fmt::format(R"({{"grant":{},"code":"normal","reason":"both ends finished",)"
                      R"("bytes_to_device":{},"bytes_from_device":{},"duration_ms":{}}})",
                      i, i * 31, i * 977, i % 60000)};
}

int fail(const std::string& what) {
  std::fprintf(stderr, "audit_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return fail("usage: audit_bench STORE_URL group N THREADS | single N | verify");
  auto store = vigie::store::Store::open(argv[1]);
  if (!store) return fail(store.error().to_string());
  const std::string mode = argv[2];
  const std::string at = "2026-11-26T10:00:00.000Z";
  if (mode == "group" && argc == 5) {
    const int n = std::stoi(argv[3]);
    const int threads = std::stoi(argv[4]);
    vigie::audit::GroupWriter writer(**store);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    std::atomic<int> failures{0};
    const auto start = Clock::now();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = t; i < n; i += threads) {
          if (!writer.append(entry(t, i), at)) ++failures;
        }
      });
    }
    for (auto& th : pool) th.join();
    const double s = since(start);
    if (failures > 0) return fail(fmt::format("{} appends failed", failures.load()));
    std::printf("group %d %.4f batches=%lld\n", n, s, static_cast<long long>(writer.batches()));
    return 0;
  }
  if (mode == "single" && argc == 4) {
    const int n = std::stoi(argv[3]);
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto tx = vigie::store::Transaction::begin(**store);
      if (!tx || !vigie::audit::append(**store, entry(0, i), at) || !tx->commit()) {
        return fail("append failed");
      }
    }
    std::printf("single %d %.4f\n", n, since(start));
    return 0;
  }
  if (mode == "verify") {
    const auto start = Clock::now();
    auto v = vigie::audit::verify(**store);
    const double s = since(start);
    if (!v) return fail(v.error().to_string());
    if (!v->ok) return fail("the chain is broken: " + v->problem);
    std::printf("verify %lld %.4f\n", static_cast<long long>(v->entries), s);
    return 0;
  }
  return fail("unknown mode");
}
