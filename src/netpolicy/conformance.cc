// The compiled allow-list and the conformance findings.
#include "vigie/netpolicy/conformance.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "vigie/audit/audit.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {
namespace {

// An address as two 64-bit words, for masked comparison without a loop over bytes.
struct Words {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
};
Words words(const IpAddress& ip) {
  Words w;
  std::memcpy(&w.hi, ip.bytes.data(), 8);
  std::memcpy(&w.lo, ip.bytes.data() + 8, 8);
  return w;
}

struct PeerPrefix {
  Words address;  // already masked
  Words mask;
};

PeerPrefix compile_prefix(const IpPrefix& p) {
  IpAddress mask;
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(p.length - i * 8, 0, 8);
    mask.bytes[static_cast<size_t>(i)] = static_cast<std::uint8_t>(0xff00U >> keep);
  }
  PeerPrefix out{words(p.address), words(mask)};
  out.address.hi &= out.mask.hi;
  out.address.lo &= out.mask.lo;
  return out;
}

// One entry as matched: 16 bytes, a device's entries side by side in memory.
struct Rule {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  std::uint8_t proto = 0;  // IANA number; 0 = any
  std::uint32_t peer_begin = 0;
  std::uint32_t peer_end = 0;  // empty range: any peer
  std::int32_t entry = 0;
};

// protocol_number() of model.h as a table, for the hot path (Protocol's order: any, tcp, udp,
// icmp).
constexpr std::array<std::uint8_t, 4> kProtocolNumbers{0, 6, 17, 1};
constexpr std::uint8_t proto_number(Protocol p) {
  return kProtocolNumbers[static_cast<size_t>(p) & 3];
}

// MurmurHash3's finaliser over both words: the table takes the low bits, and an IPv4 address
// sits in the high half of `lo` (the low half is the constant ::ffff prefix).
std::uint64_t mix(Words w) {
  std::uint64_t h = w.lo ^ std::rotl(w.hi, 32);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

}  // namespace

// An open-addressing table from device address to its rules (entries naming it as the
// destination, then as the source, side by side), a small bitmap that answers "not a device"
// for most peers without touching the table, and the rules and prefixes in flat arrays.
struct AllowChecker::Compiled {
  struct Slot {  // 32 bytes: two per cache line
    Words key;
    std::uint32_t begin = 0;
    std::uint16_t to_count = 0;
    std::uint16_t from_count = 0;
    std::uint32_t used = 0;
    std::uint32_t unused_padding = 0;
  };
  static constexpr std::uint64_t kFilterBits = 1 << 18;  // 32 KiB
  std::vector<AllowEntry> entries;
  std::vector<Slot> slots;
  std::uint64_t mask = 0;
  std::vector<std::uint64_t> filter = std::vector<std::uint64_t>(kFilterBits / 64);
  std::vector<Rule> rules;
  std::vector<PeerPrefix> prefixes;

  static std::uint64_t filter_bit(std::uint64_t hash) { return (hash >> 40) & (kFilterBits - 1); }

  [[nodiscard]] bool maybe(std::uint64_t hash) const noexcept {
    std::uint64_t bit = filter_bit(hash);
    return ((filter[bit / 64] >> (bit % 64)) & 1) != 0;
  }

  [[nodiscard]] const Slot* find(Words w, std::uint64_t hash) const noexcept {
    if (slots.empty() || !maybe(hash)) return nullptr;
    for (std::uint64_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots[i];
      if (s.used == 0) return nullptr;
      if (s.key.hi == w.hi && s.key.lo == w.lo) return &s;
    }
  }
  [[nodiscard]] const Slot* find(const IpAddress& ip) const noexcept {
    Words w = words(ip);
    return find(w, mix(w));
  }

  void prefetch(std::uint64_t hash) const noexcept {
    if (!slots.empty() && maybe(hash)) __builtin_prefetch(&slots[hash & mask]);
  }

  [[nodiscard]] bool peer_in(const Rule& r, Words peer) const noexcept {
    if (r.peer_begin == r.peer_end) return true;
    for (std::uint32_t i = r.peer_begin; i < r.peer_end; ++i) {
      const PeerPrefix& p = prefixes[i];
      if ((peer.hi & p.mask.hi) == p.address.hi && (peer.lo & p.mask.lo) == p.address.lo) {
        return true;
      }
    }
    return false;
  }

  // The first rule of [begin, end) for this protocol and port whose peers hold `peer` (any
  // peer when `peer` is null).
  [[nodiscard]] std::int32_t first(std::uint32_t begin, std::uint32_t end, std::uint8_t proto,
                                   std::uint16_t port, const Words* peer) const noexcept {
    bool portless = proto == 1 || proto == 58;
    for (std::uint32_t i = begin; i < end; ++i) {
      const Rule& r = rules[i];
      if (r.proto != 0 && r.proto != proto) continue;
      if (!portless && (port < r.first || port > r.last)) continue;
      if (peer != nullptr && !peer_in(r, *peer)) continue;
      return r.entry;
    }
    return kNoMatch;
  }

  [[nodiscard]] std::int32_t match(const Flow& flow, Words dst, std::uint64_t dst_hash, Words src,
                                   std::uint64_t src_hash) const noexcept {
    std::uint8_t proto = flow.protocol == Protocol::kAny ? 255 : proto_number(flow.protocol);
    bool open_port = flow.state == FlowState::kOpenPort;
    std::int32_t best = kNoMatch;
    if (const Slot* s = find(dst, dst_hash)) {
      best =
          first(s->begin, s->begin + s->to_count, proto, flow.dst_port, open_port ? nullptr : &src);
    }
    if (open_port) return best;
    if (const Slot* s = find(src, src_hash)) {
      std::uint32_t from = s->begin + s->to_count;
      std::int32_t m = first(from, from + s->from_count, proto, flow.dst_port, &dst);
      if (m != kNoMatch && (best == kNoMatch || m < best)) best = m;
    }
    return best;
  }
};

AllowChecker::AllowChecker(std::vector<AllowEntry> entries)
    : compiled_(std::make_unique<Compiled>()) {
  Compiled& c = *compiled_;
  c.entries = std::move(entries);
  // Entry indices per device and direction, in entry order.
  std::unordered_map<IpAddress, std::array<std::vector<std::int32_t>, 2>, IpAddressHash> by_device;
  for (size_t i = 0; i < c.entries.size(); ++i) {
    const AllowEntry& e = c.entries[i];
    by_device[e.device_ip][e.direction == Direction::kToDevice ? 0 : 1].push_back(
        static_cast<std::int32_t>(i));
  }
  size_t capacity = std::bit_ceil(std::max<size_t>(16, by_device.size() * 2));
  c.slots.resize(capacity);
  c.mask = capacity - 1;
  for (const auto& [ip, lists] : by_device) {
    Words w = words(ip);
    std::uint64_t hash = mix(w);
    std::uint64_t bit = Compiled::filter_bit(hash);
    c.filter[bit / 64] |= std::uint64_t{1} << (bit % 64);
    std::uint64_t i = hash & c.mask;
    while (c.slots[i].used != 0) i = (i + 1) & c.mask;
    Compiled::Slot& slot = c.slots[i];
    slot.used = 1;
    slot.key = w;
    slot.begin = static_cast<std::uint32_t>(c.rules.size());
    slot.to_count = static_cast<std::uint16_t>(std::min<size_t>(lists[0].size(), 65535));
    slot.from_count = static_cast<std::uint16_t>(std::min<size_t>(lists[1].size(), 65535));
    for (int dir = 0; dir < 2; ++dir) {
      size_t count = dir == 0 ? slot.to_count : slot.from_count;
      for (size_t k = 0; k < count; ++k) {
        std::int32_t index = lists[static_cast<size_t>(dir)][k];
        const AllowEntry& e = c.entries[static_cast<size_t>(index)];
        Rule r;
        r.first = e.ports.first;
        r.last = e.ports.last;
        r.proto = proto_number(e.protocol);
        r.peer_begin = static_cast<std::uint32_t>(c.prefixes.size());
        for (const auto& p : e.peers) c.prefixes.push_back(compile_prefix(p));
        r.peer_end = static_cast<std::uint32_t>(c.prefixes.size());
        r.entry = index;
        c.rules.push_back(r);
      }
    }
  }
}

AllowChecker::AllowChecker(AllowChecker&&) noexcept = default;
AllowChecker& AllowChecker::operator=(AllowChecker&&) noexcept = default;
AllowChecker::~AllowChecker() = default;

std::int32_t AllowChecker::match(const Flow& flow) const noexcept {
  Words dst = words(flow.dst);
  Words src = words(flow.src);
  return compiled_->match(flow, dst, mix(dst), src, mix(src));
}

void AllowChecker::match(std::span<const Flow> flows, std::span<std::int32_t> out) const noexcept {
  // The table lookups miss the caches: the slots of the flows a few places ahead are fetched
  // while the current one is matched.
  constexpr size_t kAhead = 8;
  const Compiled& c = *compiled_;
  size_t n = std::min(flows.size(), out.size());
  std::array<std::uint64_t, 2 * kAhead> hashes{};
  std::array<Words, 2 * kAhead> keys{};
  auto stage = [&](size_t i) {
    size_t k = (i % kAhead) * 2;
    keys[k] = words(flows[i].dst);
    keys[k + 1] = words(flows[i].src);
    hashes[k] = mix(keys[k]);
    hashes[k + 1] = mix(keys[k + 1]);
    c.prefetch(hashes[k]);
    c.prefetch(hashes[k + 1]);
  };
  for (size_t i = 0; i < std::min(n, kAhead); ++i) stage(i);
  for (size_t i = 0; i < n; ++i) {
    size_t k = (i % kAhead) * 2;
    out[i] = c.match(flows[i], keys[k], hashes[k], keys[k + 1], hashes[k + 1]);
    if (i + kAhead < n) stage(i + kAhead);
  }
}

bool AllowChecker::has_device(const IpAddress& ip) const noexcept {
  return compiled_->find(ip) != nullptr;
}

const std::vector<AllowEntry>& AllowChecker::entries() const { return compiled_->entries; }

std::string_view to_string(FindingKind k) {
  switch (k) {
    case FindingKind::kUnexpectedFlow:
      return "unexpected-flow";
    case FindingKind::kBlockedAttempt:
      return "blocked-attempt";
    case FindingKind::kUnlistedOpenPort:
      return "unlisted-open-port";
    case FindingKind::kRiskyPort:
      return "risky-port";
    case FindingKind::kCleartext:
      return "cleartext";
    case FindingKind::kUnusedEntry:
      return "unused-entry";
    case FindingKind::kUnknownHost:
      return "unknown-host";
  }
  return "unexpected-flow";
}

std::string format_time_us(std::int64_t us) {
  if (us <= 0) return {};
  std::time_t secs = us / 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

namespace {

// Findings fold flows by kind, device, peer, protocol and port (FTP data channels by their
// application: their ports are ephemeral).
struct FindingKey {
  FindingKind kind;
  IpAddress device;
  IpAddress peer;
  std::uint8_t proto;
  std::uint16_t port;
  AppProtocol app;
  bool operator==(const FindingKey&) const = default;
};
struct FindingKeyHash {
  size_t operator()(const FindingKey& k) const noexcept {
    IpAddressHash h;
    return h(k.device) ^ (h(k.peer) * 7) ^
           ((static_cast<size_t>(k.kind) << 40 | std::size_t{k.proto} << 32 |
             std::size_t{k.port} << 8 | static_cast<size_t>(k.app)) *
            0x9E3779B97F4A7C15ULL);
  }
};

constexpr size_t kMaxFindings = 1'000'000;

// A cleartext protocol guessed from the port when the reader named none.
AppProtocol cleartext_by_port(const Flow& f) {
  if (f.protocol != Protocol::kTcp) return AppProtocol::kUnknown;
  switch (f.dst_port) {
    case 21:
      return AppProtocol::kFtp;
    case 23:
      return AppProtocol::kTelnet;
    case 5900:
    case 5901:
      return AppProtocol::kVnc;
    default:
      return AppProtocol::kUnknown;
  }
}

std::string_view cleartext_reason(AppProtocol app) {
  switch (app) {
    case AppProtocol::kFtp:
      return "FTP control channel: user name, password and commands in cleartext";
    case AppProtocol::kFtpData:
      return "FTP data channel (ephemeral port, opened by PORT/PASV/EPRT/EPSV): files in cleartext";
    case AppProtocol::kTelnet:
      return "Telnet: session and credentials in cleartext";
    case AppProtocol::kVnc:
      return "VNC (RFB) without TLS: screen, keyboard and password challenge in cleartext";
    case AppProtocol::kHttp:
      return "HTTP without TLS";
    default:
      return "cleartext protocol";
  }
}

}  // namespace

struct ConformanceAnalyzer::State {
  State(std::vector<AllowEntry> e, bool t) : checker(std::move(e)), traffic(t) {}
  AllowChecker checker;
  bool traffic;
  std::unordered_map<IpAddress, std::int64_t, IpAddressHash> devices;
  std::unordered_set<IpAddress, IpAddressHash> seen;
  std::vector<std::uint64_t> hits;
  std::unordered_map<FindingKey, Finding, FindingKeyHash> findings;
  std::unordered_map<std::uint16_t, std::string_view> risky_tcp;
  std::unordered_map<std::uint16_t, std::string_view> risky_udp;
  ConformanceSummary summary;
  std::uint64_t dropped = 0;

  [[nodiscard]] std::int64_t device_of(const IpAddress& ip) const {
    auto it = devices.find(ip);
    return it == devices.end() ? 0 : it->second;
  }

  // The risky port's name ("SMB"), or nullopt.
  [[nodiscard]] std::optional<std::string_view> risky(const Flow& f) const {
    bool tcp = f.protocol == Protocol::kTcp || f.protocol == Protocol::kAny;
    bool udp = f.protocol == Protocol::kUdp || f.protocol == Protocol::kAny;
    if (auto it = risky_tcp.find(f.dst_port); tcp && it != risky_tcp.end()) return it->second;
    if (auto it = risky_udp.find(f.dst_port); udp && it != risky_udp.end()) return it->second;
    return std::nullopt;
  }

  [[nodiscard]] std::string entry_text(std::int32_t index) const {
    const AllowEntry& e = checker.entries()[static_cast<size_t>(index)];
    return fmt::format("allow-list entry {} ({} {} {} {}{})", index, to_string(e.direction),
                       e.role.empty() ? "any" : e.role, to_string(e.protocol), e.ports.to_string(),
                       e.purpose.empty() ? "" : ": " + e.purpose);
  }

  void add(FindingKind kind, const Flow& f, std::int64_t device_id, const IpAddress& device,
           const std::optional<IpAddress>& peer, AppProtocol app, std::int32_t entry,
           const std::function<std::string()>& detail) {
    std::uint16_t port = app == AppProtocol::kFtpData ? 0 : f.dst_port;
    FindingKey key{kind,
                   device,
                   peer.value_or(IpAddress{}),
                   proto_number(f.protocol),
                   port,
                   kind == FindingKind::kCleartext ? app : AppProtocol::kUnknown};
    auto it = findings.find(key);
    if (it == findings.end()) {
      if (findings.size() >= kMaxFindings) {
        ++dropped;
        return;
      }
      Finding fd;
      fd.kind = kind;
      fd.device_id = device_id;
      fd.device_ip = device;
      fd.peer_ip = peer;
      fd.protocol = f.protocol;
      fd.port = f.dst_port;
      fd.app = app;
      fd.first_us = f.first_us;
      fd.last_us = f.last_us;
      fd.entry = entry;
      fd.detail = detail();
      it = findings.emplace(key, std::move(fd)).first;
    }
    Finding& fd = it->second;
    fd.count += 1;
    fd.bytes += f.bytes;
    if (f.first_us != 0 && (fd.first_us == 0 || f.first_us < fd.first_us)) fd.first_us = f.first_us;
    fd.last_us = std::max(fd.last_us, f.last_us);
  }
};

ConformanceAnalyzer::ConformanceAnalyzer(std::vector<AllowEntry> entries,
                                         const std::vector<DeviceAddress>& devices, bool traffic)
    : state_(std::make_unique<State>(std::move(entries), traffic)) {
  state_->hits.assign(state_->checker.entries().size(), 0);
  for (const auto& d : devices) state_->devices.emplace(d.ip, d.device_id);
  for (const auto& e : state_->checker.entries()) state_->devices.emplace(e.device_ip, e.device_id);
  for (const auto& r : default_risky_ports()) {
    if (r.protocol != Protocol::kUdp) state_->risky_tcp.emplace(r.port, r.name);
    if (r.protocol != Protocol::kTcp) state_->risky_udp.emplace(r.port, r.name);
  }
}

ConformanceAnalyzer::~ConformanceAnalyzer() = default;

const AllowChecker& ConformanceAnalyzer::checker() const { return state_->checker; }

void ConformanceAnalyzer::flow(const Flow& f) {
  State& s = *state_;
  ConformanceSummary& sum = s.summary;
  ++sum.flows;
  if (f.first_us != 0 && (sum.first_us == 0 || f.first_us < sum.first_us))
    sum.first_us = f.first_us;
  sum.last_us = std::max(sum.last_us, f.last_us);
  std::int32_t entry = s.checker.match(f);
  if (entry != AllowChecker::kNoMatch) {
    ++s.hits[static_cast<size_t>(entry)];
    ++sum.allowed;
  }
  bool open_port = f.state == FlowState::kOpenPort;
  std::int64_t dst_id = s.device_of(f.dst);
  std::int64_t src_id = open_port ? 0 : s.device_of(f.src);
  if (dst_id != 0) s.seen.insert(f.dst);
  if (src_id != 0) s.seen.insert(f.src);
  // The device's side: the responder, unless only the initiator is a device.
  bool device_is_src = dst_id == 0 && src_id != 0;
  const IpAddress& device = device_is_src ? f.src : f.dst;
  std::int64_t device_id = device_is_src ? src_id : dst_id;
  std::optional<IpAddress> peer;
  if (!open_port) peer = device_is_src ? f.dst : f.src;
  bool known = dst_id != 0 || src_id != 0;
  if (!known) ++sum.unknown_hosts_flows;
  std::string_view where = known ? "" : " (hosts not in the inventory)";
  std::string proto_port = fmt::format("{}/{}", to_string(f.protocol), f.dst_port);
  std::string allowed_by = entry == AllowChecker::kNoMatch ? "" : "; " + s.entry_text(entry);

  switch (f.state) {
    case FlowState::kOpenPort:
      if (entry == AllowChecker::kNoMatch) {
        s.add(FindingKind::kUnlistedOpenPort, f, device_id, device, peer, f.app, entry, [&] {
          return known
                     ? fmt::format("{} open: no profile names this port for the device", proto_port)
                     : fmt::format("{} open on a host not in the inventory", proto_port);
        });
      }
      break;
    case FlowState::kAttempted:
    case FlowState::kRejected:
      s.add(FindingKind::kBlockedAttempt, f, device_id, device, peer, f.app, entry, [&] {
        return fmt::format("connection to {} {}{}{}", proto_port,
                           f.state == FlowState::kRejected ? "refused (RST)" : "not answered",
                           allowed_by.empty() ? "" : allowed_by + ", yet it failed", where);
      });
      break;
    case FlowState::kEstablished:
      if (!known) {
        s.add(FindingKind::kUnknownHost, f, 0, f.dst, peer, f.app, entry,
              [&] { return std::string("traffic between hosts not in the inventory"); });
      } else if (entry == AllowChecker::kNoMatch) {
        s.add(FindingKind::kUnexpectedFlow, f, device_id, device, peer, f.app, entry, [&] {
          return fmt::format("{} {} {}: no allow-list entry covers this flow", proto_port,
                             device_is_src ? "from the device to" : "to the device from",
                             peer ? peer->to_string() : "?");
        });
      }
      break;
  }
  if (f.state == FlowState::kAttempted || f.state == FlowState::kRejected) return;
  if (auto name = s.risky(f)) {
    s.add(FindingKind::kRiskyPort, f, device_id, device, peer, f.app, entry, [&] {
      return fmt::format("risky port {} ({}) {}{}{}", proto_port, *name,
                         open_port ? "open" : "reachable and in use", allowed_by, where);
    });
  }
  AppProtocol clear = is_cleartext(f.app)              ? f.app
                      : f.app == AppProtocol::kUnknown ? cleartext_by_port(f)
                                                       : AppProtocol::kUnknown;
  if (clear != AppProtocol::kUnknown) {
    s.add(FindingKind::kCleartext, f, device_id, device, peer, clear, entry, [&] {
      return fmt::format("{}{}{}{}{}", cleartext_reason(clear),
                         f.app == AppProtocol::kUnknown ? " (by port)" : "",
                         open_port ? " — service listening" : "", allowed_by, where);
    });
  }
}

ConformanceReport ConformanceAnalyzer::report() const {
  const State& s = *state_;
  ConformanceReport out;
  out.summary = s.summary;
  out.entry_hits = s.hits;
  out.findings.reserve(s.findings.size());
  for (const auto& [key, f] : s.findings) out.findings.push_back(f);
  if (s.traffic) {
    const auto& entries = s.checker.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      const AllowEntry& e = entries[i];
      if (s.hits[i] != 0 || !s.seen.contains(e.device_ip)) continue;
      Finding f;
      f.kind = FindingKind::kUnusedEntry;
      f.device_id = e.device_id;
      f.device_ip = e.device_ip;
      f.protocol = e.protocol;
      f.port = e.ports.first;
      f.entry = static_cast<std::int32_t>(i);
      f.first_us = s.summary.first_us;
      f.last_us = s.summary.last_us;
      f.detail = fmt::format("{} allowed no flow of this device over the observed period",
                             s.entry_text(static_cast<std::int32_t>(i)));
      out.findings.push_back(std::move(f));
    }
  }
  // What a security officer reads first: data in cleartext, then risky ports, then what the
  // allow-list does not explain.
  auto rank = [](FindingKind k) {
    constexpr std::array<FindingKind, 7> kOrder{
        FindingKind::kCleartext,        FindingKind::kRiskyPort,      FindingKind::kUnexpectedFlow,
        FindingKind::kUnlistedOpenPort, FindingKind::kBlockedAttempt, FindingKind::kUnknownHost,
        FindingKind::kUnusedEntry};
    return std::find(kOrder.begin(), kOrder.end(), k) - kOrder.begin();
  };
  auto key = [&](const Finding& f) {
    return std::make_tuple(rank(f.kind), f.device_ip, f.port, f.protocol, f.app, f.entry,
                           f.peer_ip.value_or(IpAddress{}));
  };
  std::sort(out.findings.begin(), out.findings.end(),
            [&](const Finding& a, const Finding& b) { return key(a) < key(b); });
  return out;
}

std::vector<ProposedIntent> propose_intents(const ConformanceReport& report) {
  std::vector<ProposedIntent> out;
  for (const auto& f : report.findings) {
    if (f.kind != FindingKind::kUnexpectedFlow || f.device_id == 0 || !f.peer_ip) continue;
    ProposedIntent p;
    p.device_id = f.device_id;
    p.device_ip = f.device_ip;
    p.peer = *f.peer_ip;
    p.protocol = f.protocol;
    p.port = f.port;
    p.cleartext = is_cleartext(f.app);
    p.flows = f.count;
    // The device is the responder unless the finding names it as the initiator.
    p.direction = f.detail.find("from the device") != std::string::npos ? Direction::kFromDevice
                                                                        : Direction::kToDevice;
    p.purpose =
        fmt::format("observed {} flow{}{} {} .. {} — to review", f.count, f.count == 1 ? "" : "s",
                    f.app == AppProtocol::kUnknown ? "" : fmt::format(" ({})", to_string(f.app)),
                    format_time_us(f.first_us), format_time_us(f.last_us));
    out.push_back(std::move(p));
  }
  return out;
}

std::string format_proposals_csv(const std::vector<ProposedIntent>& proposals) {
  auto quote = [](std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  };
  std::string out = "device_id,device_ip,direction,peer,protocol,ports,purpose,cleartext\n";
  for (const auto& p : proposals) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", p.device_id, p.device_ip.to_string(),
                       to_string(p.direction), p.peer.to_string(), to_string(p.protocol), p.port,
                       quote(p.purpose), p.cleartext ? "yes" : "no");
  }
  return out;
}

core::Result<std::int64_t> save_conformance_run(store::Store& store, const ConformanceRun& run,
                                                const std::vector<Finding>& findings,
                                                const std::vector<AllowEntry>& entries) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.lock_table("conformance_runs"));
  auto id = store.next_id("conformance_runs");
  if (!id) return tl::unexpected(id.error());
  std::array<store::Value, 6> run_row{*id,
                                      run.source,
                                      std::string(to_string(run.format)),
                                      static_cast<std::int64_t>(run.records),
                                      run.started_at,
                                      run.actor};
  VIGIE_TRY(
      store.execute("INSERT INTO conformance_runs (id, source, format, records, started_at, actor) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    run_row));
  // Ids are allocated here, as everywhere in the store (PostgreSQL has no implicit rowid).
  VIGIE_TRY(store.lock_table("conformance_findings"));
  auto next_finding = store.next_id("conformance_findings");
  if (!next_finding) return tl::unexpected(next_finding.error());
  static constexpr std::array<std::string_view, 12> kColumns{
      "id",       "run_id", "kind",   "device_id",  "device_ip", "peer_ip",
      "protocol", "port",   "detail", "first_seen", "last_seen", "count"};
  std::span<const std::string_view> columns = kColumns;
  auto inserter = store.inserter("conformance_findings", columns);
  if (!inserter) return tl::unexpected(inserter.error());
  for (const auto& f : findings) {
    std::array<store::Value, 12> row{
        (*next_finding)++,
        *id,
        std::string(to_string(f.kind)),
        f.device_id == 0 ? store::Value(nullptr) : store::Value(f.device_id),
        f.device_ip.to_string(),
        f.peer_ip ? store::Value(f.peer_ip->to_string()) : store::Value(nullptr),
        std::string(to_string(f.protocol)),
        static_cast<std::int64_t>(f.port),
        f.detail,
        f.first_us == 0 ? store::Value(nullptr) : store::Value(format_time_us(f.first_us)),
        f.last_us == 0 ? store::Value(nullptr) : store::Value(format_time_us(f.last_us)),
        static_cast<std::int64_t>(f.count)};
    VIGIE_TRY((*inserter)->add(row));
  }
  VIGIE_TRY((*inserter)->finish());
  nlohmann::json details{{"source", run.source},
                         {"format", to_string(run.format)},
                         {"records", run.records},
                         {"findings", findings.size()},
                         {"allow_entries", entries.size()}};
  audit::Entry entry{run.actor, "netpolicy.conformance.run", fmt::format("conformance_run:{}", *id),
                     "cli", details.dump()};
  auto audited = audit::append(store, entry, run.started_at);
  if (!audited) return tl::unexpected(audited.error());
  VIGIE_TRY(tx->commit());
  return *id;
}

}  // namespace vigie::netpolicy
