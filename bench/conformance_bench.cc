// Conformance benchmarks (see bench/README.md): the compiled allow-list on one core, the Zeek
// conn.log reader, and the capture reader; plus writers of the large inputs they read.
//   conformance_bench checker [DEVICES] [INTENTS] [FLOWS]
//   conformance_bench write-connlog FILE LINES | connlog FILE
//   conformance_bench write-pcap FILE MEGABYTES | pcap FILE
#include <fmt/format.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "vigie/core/file.h"
#include "vigie/netpolicy/conformance.h"
#include "vigie/netpolicy/pcap.h"
#include "vigie/netpolicy/pcap_writer.h"
#include "vigie/netpolicy/zeek.h"

namespace {

namespace np = vigie::netpolicy;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of this thread: on a shared machine, what one core spent (wall time is reported
// beside it).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Devices 10.x.y.z in /24s of 250; peers in 40 server /24s; ports drawn from a hospital's mix.
np::IpAddress device_ip(std::uint32_t i) {
  return np::IpAddress::v4(0x0a000000 + (i / 250) * 256 + i % 250 + 1);
}
np::IpAddress peer_ip(std::uint32_t i) {
  return np::IpAddress::v4(0x0ac80000 + (i % 40) * 256 + i % 200 + 1);
}
constexpr std::uint16_t kPorts[] = {104,  11112, 21,  22,  80,  443, 123,  514,  2575, 3389,
                                    5900, 8080,  445, 139, 161, 162, 4242, 6104, 3010, 1433};

int checker(std::uint32_t devices, std::uint32_t intents, std::uint64_t flows,
            std::uint64_t distinct) {
  std::mt19937 rng(42);
  std::vector<np::AllowEntry> entries;
  entries.reserve(static_cast<size_t>(devices) * intents);
  for (std::uint32_t d = 0; d < devices; ++d) {
    for (std::uint32_t i = 0; i < intents; ++i) {
      np::AllowEntry e;
      e.device_id = d + 1;
      e.device_ip = device_ip(d);
      e.direction = i % 3 == 2 ? np::Direction::kFromDevice : np::Direction::kToDevice;
      e.protocol = i % 7 == 6 ? np::Protocol::kUdp : np::Protocol::kTcp;
      std::uint16_t port = kPorts[i % std::size(kPorts)];
      e.ports = {port, port};
      for (std::uint32_t p = 0; p < 1 + i % 3; ++p) {
        e.peers.push_back(np::IpPrefix{peer_ip(rng()), 128 - (p == 2 ? 8 : 0)});
        auto& last = e.peers.back();
        if (last.length == 120) last.address.bytes[15] = 0;
      }
      entries.push_back(std::move(e));
    }
  }
  np::AllowChecker checker(entries);
  // `distinct` flows (a power of two; 1 M by default, beyond the caches), replayed.
  const size_t pool = std::bit_ceil(distinct);
  std::vector<np::Flow> sample(pool);
  // Nine flows in ten are what an entry allows (as on a conforming network), the others
  // miss by peer, port or device.
  for (auto& f : sample) {
    const np::AllowEntry& e = entries[rng() % entries.size()];
    bool to = e.direction == np::Direction::kToDevice;
    np::IpAddress peer = e.peers.front().address;
    std::uint16_t port = e.ports.first;
    np::IpAddress device = e.device_ip;
    switch (rng() % 30) {
      case 0:
        peer = peer_ip(rng());
        break;
      case 1:
        port = kPorts[rng() % std::size(kPorts)];
        break;
      case 2:
        device = device_ip(devices + rng() % 1000);
        break;
      default:
        break;
    }
    f.src = to ? peer : device;
    f.dst = to ? device : peer;
    f.protocol = e.protocol;
    f.dst_port = port;
  }
  std::uint64_t allowed = 0;
  auto start = Clock::now();
  double cpu = cpu_seconds();
  for (std::uint64_t n = 0; n < flows; ++n) {
    allowed += checker.match(sample[n & (pool - 1)]) != np::AllowChecker::kNoMatch ? 1 : 0;
  }
  cpu = cpu_seconds() - cpu;
  double s = seconds_since(start);
  // In batches of 1024 flows, as ConformanceAnalyzer matches them (the lookups overlap).
  std::vector<std::int32_t> out(1024);
  std::uint64_t batch_allowed = 0;
  double batch_cpu = cpu_seconds();
  for (std::uint64_t n = 0; n < flows; n += out.size()) {
    std::span<const np::Flow> chunk(&sample[n & (pool - 1)], out.size());
    checker.match(chunk, out);
    for (std::int32_t m : out) batch_allowed += m != np::AllowChecker::kNoMatch ? 1 : 0;
  }
  batch_cpu = cpu_seconds() - batch_cpu;
  fmt::print("checker, batches of {}: {} allowed, {:.3f} s CPU, {:.1f} M flows/s per core\n",
             out.size(), batch_allowed, batch_cpu, flows / batch_cpu / 1e6);
  fmt::print(
      "checker: {} devices x {} intents ({} entries), {} flows ({} allowed): {:.3f} s CPU, "
      "{:.1f} M flows/s per core (target >= 10 M); {:.3f} s wall\n",
      devices, intents, entries.size(), flows, allowed, cpu, flows / cpu / 1e6, s);
  return 0;
}

int write_connlog(const char* path, std::uint64_t lines) {
  vigie::core::FilePtr f = vigie::core::open_file(path, "wb");
  if (!f) return 2;
  std::fputs(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
      "#open\t2026-11-25-00-00-00\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
      "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
      "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
      "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
      "bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
      f.get());
  static constexpr const char* kStates[] = {"SF", "SF", "SF", "S0", "REJ", "RSTO", "S1", "OTH"};
  static constexpr const char* kServices[] = {"dicom", "-",   "ssl", "ftp-data",
                                              "http",  "dns", "-",   "ftp"};
  std::mt19937 rng(1);
  std::string line;
  for (std::uint64_t i = 0; i < lines; ++i) {
    std::uint32_t r = rng();
    line = fmt::format(
        "{}.{:06}\tC{:x}\t{}\t{}\t{}\t{}\t{}\t{}\t{}.{:06}\t{}\t{}\t{}\tT\tT\t0\tShADadFf\t{}\t{}"
        "\t{}\t{}\t(empty)\n",
        1764028800 + i / 100, r % 1000000, i, peer_ip(r).to_string(), 1024 + r % 60000,
        device_ip(r % 5000).to_string(), kPorts[r % std::size(kPorts)], r % 11 == 0 ? "udp" : "tcp",
        kServices[(r >> 8) % 8], r % 30, (r >> 4) % 1000000, r % 5000, (r >> 3) % 900000,
        kStates[(r >> 12) % 8], 10 + r % 40, 2000 + r % 40000, 8 + r % 50, 900000 + r % 5000);
    std::fputs(line.c_str(), f.get());
  }
  std::fputs("#close\t2026-11-25-23-59-59\n", f.get());
  return 0;
}

struct Count : np::FlowSink {
  std::uint64_t flows = 0;
  std::uint64_t tcp = 0;
  std::uint64_t bytes = 0;
  void flow(const np::Flow& f) override {
    ++flows;
    tcp += f.protocol == np::Protocol::kTcp ? 1 : 0;
    bytes += f.bytes;
  }
};

// Runs a reader over `path` with a counting sink: its stats, CPU and wall seconds.
struct Timed {
  np::ReadStats stats;
  Count sink;
  double cpu = 0;
  double wall = 0;
};
template <class Read>
std::optional<Timed> timed(const char* path, Read read) {
  Timed t;
  auto start = Clock::now();
  double cpu = cpu_seconds();
  auto stats = read(path, t.sink);
  t.cpu = cpu_seconds() - cpu;
  t.wall = seconds_since(start);
  if (!stats) {
    fmt::print(stderr, "{}\n", stats.error().to_string());
    return std::nullopt;
  }
  t.stats = *stats;
  return t;
}

int connlog(const char* path) {
  auto t = timed(path, [](const char* p, Count& sink) { return np::read_zeek_conn(p, sink); });
  if (!t) return 1;
  fmt::print(
      "connlog: {} lines ({:.1f} MB): {:.3f} s CPU, {:.2f} M lines/s per core, {:.0f} MB/s "
      "(target >= 1 M lines/s); {:.3f} s wall\n",
      t->stats.records, t->stats.bytes / 1e6, t->cpu, t->stats.records / t->cpu / 1e6,
      t->stats.bytes / t->cpu / 1e6, t->wall);
  return 0;
}

// Sessions like a medical VLAN's: DICOM stores (images in full-size segments), HTTP and TLS
// requests, FTP with its data channel, syslog and NTP datagrams, scans' refused SYNs.
int write_pcap(const char* path, std::uint64_t megabytes) {
  auto w = np::PcapWriter::create(path, np::CaptureFormat::kPcap);
  if (!w) {
    fmt::print(stderr, "{}\n", w.error().to_string());
    return 2;
  }
  std::mt19937 rng(3);
  std::int64_t t = 1764028800000000;
  std::uint64_t target = megabytes * 1000000;
  std::string segment(1448, 'P');
  std::uint16_t sport = 1024;
  for (std::uint32_t n = 0; w->bytes_written() < target; ++n) {
    np::PacketEnds client{peer_ip(rng()), device_ip(rng() % 5000), sport, 104, {110}};
    sport = static_cast<std::uint16_t>(sport == 65535 ? 1024 : sport + 1);
    switch (n % 6) {
      case 0: {  // DICOM C-STORE of one image: 40 full segments
        client.dst_port = 104;
        std::vector<std::pair<bool, std::string>> m;
        m.emplace_back(true, std::string(200, 'A'));
        for (int i = 0; i < 40; ++i) m.emplace_back(true, segment);
        m.emplace_back(false, std::string(80, 'R'));
        w->tcp_session(client, m, t);
        break;
      }
      case 1:
        client.dst_port = 80;
        w->tcp_session(
            client, {{true, "GET /worklist HTTP/1.1\r\n\r\n"}, {false, std::string(3000, 'h')}}, t);
        break;
      case 2:
        client.dst_port = 443;
        w->tcp_session(client, {{true, "\x16\x03\x01 hello"}, {false, std::string(4000, 's')}}, t);
        break;
      case 3: {
        client.dst_port = 21;
        w->tcp_session(
            client,
            {{false, "220 ready\r\n"},
             {true, "PASV\r\n"},
             {false, fmt::format("227 Entering Passive Mode ({},{},{},{},{},{})\r\n",
                                 client.dst.bytes[12], client.dst.bytes[13], client.dst.bytes[14],
                                 client.dst.bytes[15], n % 200 + 20, n % 256)}},
            t);
        np::PacketEnds data = client;
        data.src_port = static_cast<std::uint16_t>(client.src_port ^ 0x4000);
        data.dst_port = static_cast<std::uint16_t>((n % 200 + 20) * 256 + n % 256);
        std::vector<std::pair<bool, std::string>> m(20, {false, segment});
        w->tcp_session(data, m, t);
        break;
      }
      case 4:
        client.dst_port = 514;
        w->udp(client, "<13>1 2026-11-25T00:00:00Z modality vigie - - - exam done", t += 10);
        client.dst_port = 123;
        w->udp(client, std::string(48, '\x23'), t += 10);
        break;
      default:
        client.dst_port = 445;
        w->tcp(client, np::kTcpSyn, {}, t += 10);
        w->tcp(client.reversed(), np::kTcpRst | np::kTcpAck, {}, t += 10);
        break;
    }
  }
  auto closed = w->close();
  if (!closed) {
    fmt::print(stderr, "{}\n", closed.error().to_string());
    return 2;
  }
  return 0;
}

int pcap(const char* path) {
  auto t = timed(path, [](const char* p, Count& sink) { return np::read_pcap(p, sink); });
  if (!t) return 1;
  fmt::print(
      "pcap: {} packets, {:.1f} MB on the wire, {} flows ({} TCP): {:.3f} s CPU, {:.2f} Gbit/s "
      "per core, {:.2f} M packets/s (target >= 1 Gbit/s); {:.3f} s wall\n",
      t->stats.records, t->stats.bytes / 1e6, t->sink.flows, t->sink.tcp, t->cpu,
      t->stats.bytes * 8 / t->cpu / 1e9, t->stats.records / t->cpu / 1e6, t->wall);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto num = [&](size_t i, std::uint64_t fallback) {
    return args.size() > i ? std::stoull(args[i]) : fallback;
  };
  if (args.empty()) {
    fmt::print(stderr,
               "usage: conformance_bench checker|write-connlog|connlog|write-pcap|pcap ...\n");
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "checker") {
    return checker(static_cast<std::uint32_t>(num(1, 5000)), static_cast<std::uint32_t>(num(2, 20)),
                   num(3, 200000000), num(4, 1 << 20));
  }
  if (args.size() < 2) return 2;
  if (cmd == "write-connlog") return write_connlog(args[1].c_str(), num(2, 5000000));
  if (cmd == "connlog") return connlog(args[1].c_str());
  if (cmd == "write-pcap") return write_pcap(args[1].c_str(), num(2, 1000));
  if (cmd == "pcap") return pcap(args[1].c_str());
  return 2;
}
