// The compiled allow-list and the conformance findings.
#include "vigie/netpolicy/conformance.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include <sys/mman.h>

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

// MurmurHash3's finaliser.
std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

// Over both words: the table takes the low bits, and an IPv4 address sits in the high half
// of `lo` (the low half is the constant ::ffff prefix).
std::uint64_t mix(Words w) { return mix64(w.lo ^ std::rotl(w.hi, 32)); }

// The address of an IPv4-mapped address (its last four bytes, as loaded from memory), or
// nullopt for IPv6.
std::optional<std::uint32_t> v4_word(Words w) {
  if (w.hi != 0 || (w.lo & 0xffffffffULL) != 0xffff0000ULL) return std::nullopt;
  return static_cast<std::uint32_t>(w.lo >> 32);
}

// Hot-path key of a rule for one TCP or UDP port of an IPv4 device: 0 is never a key (the
// protocol is 6 or 17).
std::uint64_t exact_key(std::uint32_t device4, bool to_device, std::uint8_t proto,
                        std::uint16_t port) {
  return (std::uint64_t{device4} << 32) | (std::uint64_t{port} << 16) |
         (std::uint64_t{proto} << 8) | (to_device ? 1U : 0U);
}

// A value-initialised array of T for a hot random-access table, in transparent huge pages where
// the kernel allows them: at 4 KiB pages a lookup into megabytes also misses the TLB.
template <class T>
class HugeArray {
 public:
  static constexpr size_t kHuge = size_t{2} << 20;  // the huge page size on x86-64
  HugeArray() = default;
  explicit HugeArray(size_t n) : size_(n) {
    static_assert(std::is_trivially_destructible_v<T>);
    size_t bytes = std::max<size_t>((n * sizeof(T) + kHuge - 1) / kHuge * kHuge, kHuge);
    data_.reset(static_cast<T*>(::operator new (bytes, std::align_val_t{kHuge})));
    (void)madvise(data_.get(), bytes, MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
    std::uninitialized_value_construct_n(data_.get(), n);
  }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete (p, std::align_val_t{kHuge}); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace

// Two tables. Most entries name one TCP or UDP port of an IPv4 device: they are found by
// (device, direction, protocol, port) in one probe of `exact`, whose 64-byte slot also holds
// the first entry and up to six IPv4 peer prefixes, so a flow usually costs one cache miss
// (in a huge page: no TLB miss), which the batch form fetches ahead.
// The other entries (port ranges, any protocol, ICMP, IPv6 devices, or peers that do not fit
// in a slot) are scanned per device from `slots`, as an ordered list. Small bitmaps answer
// "not a device" and "no scanned entries" for most addresses without touching a table.
struct AllowChecker::Compiled {
  struct Slot {  // 32 bytes: two per cache line
    Words key;
    std::uint32_t begin = 0;
    std::uint16_t to_count = 0;
    std::uint16_t from_count = 0;
    std::uint32_t used = 0;
    std::uint32_t unused_padding = 0;
  };
  static constexpr std::uint32_t kNoMore = 0xffffffffU;
  static constexpr size_t kInlinePeers = 6;
  struct alignas(64) ExactSlot {    // one cache line
    std::uint64_t key = 0;          // exact_key(); 0: empty
    std::int32_t entry = kNoMatch;  // the first entry, when its peers fit in `peers`
    std::uint32_t more = kNoMore;   // the next entries in `chain`, up to one with kNoMatch
    // The first entry's peers, (peer & mask) == addr, the last one repeated to fill the
    // slot; mask 0 and addr 0 when it allows any peer.
    struct V4Prefix {
      std::uint32_t addr = 0;
      std::uint32_t mask = 0;
    };
    std::array<V4Prefix, kInlinePeers> peers{};
  };
  static_assert(sizeof(ExactSlot) == 64);
  static constexpr std::uint64_t kFilterBits = 1 << 18;  // 32 KiB
  std::vector<AllowEntry> entries;
  std::vector<Slot> slots;
  std::uint64_t mask = 0;
  std::vector<std::uint64_t> filter = std::vector<std::uint64_t>(kFilterBits / 64);
  std::vector<std::uint64_t> scanned_filter = std::vector<std::uint64_t>(kFilterBits / 64);
  std::vector<Rule> rules;
  std::vector<PeerPrefix> prefixes;
  HugeArray<ExactSlot> exact;
  std::uint64_t exact_mask = 0;
  std::vector<Rule> chain;

  static std::uint64_t filter_bit(std::uint64_t hash) { return (hash >> 40) & (kFilterBits - 1); }
  static void set_bit(std::vector<std::uint64_t>& bits, std::uint64_t hash) {
    std::uint64_t bit = filter_bit(hash);
    bits[bit / 64] |= std::uint64_t{1} << (bit % 64);
  }
  static bool test_bit(const std::vector<std::uint64_t>& bits, std::uint64_t hash) {
    std::uint64_t bit = filter_bit(hash);
    return ((bits[bit / 64] >> (bit % 64)) & 1) != 0;
  }

  [[nodiscard]] bool maybe(std::uint64_t hash) const noexcept { return test_bit(filter, hash); }

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

  [[nodiscard]] const ExactSlot* find_exact(std::uint64_t key) const noexcept {
    if (exact.empty()) return nullptr;
    for (std::uint64_t i = mix64(key) & exact_mask;; i = (i + 1) & exact_mask) {
      const ExactSlot& s = exact[i];
      if (s.key == key) return &s;
      if (s.key == 0) return nullptr;
    }
  }

  void prefetch(const Flow& flow, Words w, std::uint64_t hash, bool to_device) const noexcept {
    if (!maybe(hash)) return;
    if (auto d4 = v4_word(w); d4 && !exact.empty()) {
      std::uint8_t proto = proto_number(flow.protocol);
      __builtin_prefetch(
          &exact[mix64(exact_key(*d4, to_device, proto, flow.dst_port)) & exact_mask]);
    }
    if (test_bit(scanned_filter, hash)) __builtin_prefetch(&slots[hash & mask]);
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

  // The first entry of `device`'s side (to it, or from it) allowing the flow: from the exact
  // table, then from the scanned entries; the lower index wins.
  [[nodiscard]] std::int32_t side(Words device, std::uint64_t hash, bool to_device,
                                  std::uint8_t proto, std::uint16_t port,
                                  const Words* peer) const noexcept {
    if (!maybe(hash)) return kNoMatch;
    std::int32_t best = kNoMatch;
    auto d4 = v4_word(device);
    if (d4 && (proto == 6 || proto == 17)) {
      if (const ExactSlot* e = find_exact(exact_key(*d4, to_device, proto, port))) {
        best = first_exact(*e, peer);
      }
    }
    if (!test_bit(scanned_filter, hash)) return best;
    if (const Slot* s = find(device, hash)) {
      std::uint32_t begin = to_device ? s->begin : s->begin + s->to_count;
      std::uint32_t count = to_device ? s->to_count : s->from_count;
      std::int32_t m = first(begin, begin + count, proto, port, peer);
      if (m != kNoMatch && (best == kNoMatch || m < best)) best = m;
    }
    return best;
  }

  [[nodiscard]] std::int32_t first_exact(const ExactSlot& e, const Words* peer) const noexcept {
    if (e.entry != kNoMatch) {
      if (peer == nullptr) return e.entry;
      // An IPv6 peer is held only by "any peer" (no slot holds a prefix of address 0 else).
      std::uint32_t p4 = v4_word(*peer).value_or(0);
      bool held = false;
      for (const auto& p : e.peers) held |= (p4 & p.mask) == p.addr;
      if (held) return e.entry;
    }
    if (e.more == kNoMore) return kNoMatch;
    for (std::uint32_t i = e.more; chain[i].entry != kNoMatch; ++i) {
      if (peer == nullptr || peer_in(chain[i], *peer)) return chain[i].entry;
    }
    return kNoMatch;
  }

  [[nodiscard]] std::int32_t match(const Flow& flow, Words dst, std::uint64_t dst_hash, Words src,
                                   std::uint64_t src_hash) const noexcept {
    std::uint8_t proto = flow.protocol == Protocol::kAny ? 255 : proto_number(flow.protocol);
    if (flow.state == FlowState::kOpenPort) {
      return side(dst, dst_hash, true, proto, flow.dst_port, nullptr);
    }
    std::int32_t best = side(dst, dst_hash, true, proto, flow.dst_port, &src);
    std::int32_t m = side(src, src_hash, false, proto, flow.dst_port, &dst);
    if (m != kNoMatch && (best == kNoMatch || m < best)) best = m;
    return best;
  }

  Rule compile_rule(std::int32_t index) {
    const AllowEntry& e = entries[static_cast<size_t>(index)];
    Rule r;
    r.first = e.ports.first;
    r.last = e.ports.last;
    r.proto = proto_number(e.protocol);
    r.peer_begin = static_cast<std::uint32_t>(prefixes.size());
    for (const auto& p : e.peers) prefixes.push_back(compile_prefix(p));
    r.peer_end = static_cast<std::uint32_t>(prefixes.size());
    r.entry = index;
    return r;
  }

  // The entry's peers as IPv4 prefixes of non-zero address, in an exact slot, if they fit.
  static bool inline_peers(const AllowEntry& e, ExactSlot& slot) {
    if (e.peers.empty()) return true;  // any peer: mask 0, address 0
    if (e.peers.size() > kInlinePeers) return false;
    for (size_t i = 0; i < kInlinePeers; ++i) {
      const IpPrefix& p = e.peers[std::min(i, e.peers.size() - 1)];
      PeerPrefix c = compile_prefix(p);
      auto addr = v4_word(words(p.address));
      if (!addr || p.length < 96 || (c.address.lo >> 32) == 0) return false;
      slot.peers[i] = {static_cast<std::uint32_t>(c.address.lo >> 32),
                       static_cast<std::uint32_t>(c.mask.lo >> 32)};
    }
    return true;
  }

  void add_exact(std::uint64_t key, const std::vector<std::int32_t>& list) {
    std::uint64_t i = mix64(key) & exact_mask;
    while (exact[i].key != 0) i = (i + 1) & exact_mask;
    ExactSlot& slot = exact[i];
    slot.key = key;
    size_t rest = 0;
    if (inline_peers(entries[static_cast<size_t>(list.front())], slot)) {
      slot.entry = list.front();
      rest = 1;
    } else {
      slot.peers = {};
    }
    if (rest == list.size()) return;
    slot.more = static_cast<std::uint32_t>(chain.size());
    for (size_t k = rest; k < list.size(); ++k) chain.push_back(compile_rule(list[k]));
    Rule end;
    end.entry = kNoMatch;
    chain.push_back(end);
  }
};

AllowChecker::AllowChecker(std::vector<AllowEntry> entries)
    : compiled_(std::make_unique<Compiled>()) {
  Compiled& c = *compiled_;
  c.entries = std::move(entries);
  // Entry indices in entry order: per exact key, and per device and direction for the rest.
  std::unordered_map<IpAddress, std::array<std::vector<std::int32_t>, 2>, IpAddressHash> by_device;
  std::unordered_map<std::uint64_t, std::vector<std::int32_t>> by_key;
  for (size_t i = 0; i < c.entries.size(); ++i) {
    const AllowEntry& e = c.entries[i];
    bool to = e.direction == Direction::kToDevice;
    auto& lists = by_device[e.device_ip];  // every device has a slot (has_device())
    auto d4 = v4_word(words(e.device_ip));
    bool one_port = e.ports.first == e.ports.last &&
                    (e.protocol == Protocol::kTcp || e.protocol == Protocol::kUdp);
    if (d4 && one_port) {
      by_key[exact_key(*d4, to, proto_number(e.protocol), e.ports.first)].push_back(
          static_cast<std::int32_t>(i));
    } else {
      lists[to ? 0 : 1].push_back(static_cast<std::int32_t>(i));
    }
  }
  size_t exact_capacity = std::bit_ceil(std::max<size_t>(16, by_key.size() * 2));
  c.exact = HugeArray<Compiled::ExactSlot>(exact_capacity);
  c.exact_mask = exact_capacity - 1;
  for (const auto& [key, list] : by_key) c.add_exact(key, list);

  size_t capacity = std::bit_ceil(std::max<size_t>(16, by_device.size() * 2));
  c.slots.resize(capacity);
  c.mask = capacity - 1;
  for (const auto& [ip, lists] : by_device) {
    Words w = words(ip);
    std::uint64_t hash = mix(w);
    Compiled::set_bit(c.filter, hash);
    if (!lists[0].empty() || !lists[1].empty()) Compiled::set_bit(c.scanned_filter, hash);
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
        c.rules.push_back(c.compile_rule(lists[static_cast<size_t>(dir)][k]));
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
  // The table lookups miss the caches: the slots of the flow kAhead places ahead are fetched
  // while the current one is matched (a memory latency is worth about that many matches).
  constexpr size_t kAhead = 32;
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
    c.prefetch(flows[i], keys[k], hashes[k], true);
    if (flows[i].state != FlowState::kOpenPort) {
      c.prefetch(flows[i], keys[k + 1], hashes[k + 1], false);
    }
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
  // Flows are matched in batches (AllowChecker's batch form overlaps their table lookups).
  static constexpr size_t kBatch = 1024;
  std::vector<Flow> pending;
  std::vector<std::int32_t> matched = std::vector<std::int32_t>(kBatch);

  void flush();
  void analyze(const Flow& f, std::int32_t entry);

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
  state_->pending.reserve(State::kBatch);
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
  s.pending.push_back(f);
  if (s.pending.size() == State::kBatch) s.flush();
}

void ConformanceAnalyzer::State::flush() {
  checker.match(pending, matched);
  for (size_t i = 0; i < pending.size(); ++i) analyze(pending[i], matched[i]);
  pending.clear();
}

void ConformanceAnalyzer::State::analyze(const Flow& f, std::int32_t entry) {
  State& s = *this;
  ConformanceSummary& sum = s.summary;
  ++sum.flows;
  if (f.first_us != 0 && (sum.first_us == 0 || f.first_us < sum.first_us))
    sum.first_us = f.first_us;
  sum.last_us = std::max(sum.last_us, f.last_us);
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
  // Texts of new findings only: most flows add to a finding already made.
  auto proto_port = [&] { return fmt::format("{}/{}", to_string(f.protocol), f.dst_port); };
  auto allowed_by = [&] {
    return entry == AllowChecker::kNoMatch ? std::string() : "; " + s.entry_text(entry);
  };

  switch (f.state) {
    case FlowState::kOpenPort:
      if (entry == AllowChecker::kNoMatch) {
        s.add(FindingKind::kUnlistedOpenPort, f, device_id, device, peer, f.app, entry, [&] {
          return known ? fmt::format("{} open: no profile names this port for the device",
                                     proto_port())
                       : fmt::format("{} open on a host not in the inventory", proto_port());
        });
      }
      break;
    case FlowState::kAttempted:
    case FlowState::kRejected:
      s.add(FindingKind::kBlockedAttempt, f, device_id, device, peer, f.app, entry, [&] {
        std::string by = allowed_by();
        return fmt::format("connection to {} {}{}{}", proto_port(),
                           f.state == FlowState::kRejected ? "refused (RST)" : "not answered",
                           by.empty() ? "" : by + ", yet it failed", where);
      });
      break;
    case FlowState::kEstablished:
      if (!known) {
        s.add(FindingKind::kUnknownHost, f, 0, f.dst, peer, f.app, entry,
              [&] { return std::string("traffic between hosts not in the inventory"); });
      } else if (entry == AllowChecker::kNoMatch) {
        s.add(FindingKind::kUnexpectedFlow, f, device_id, device, peer, f.app, entry, [&] {
          return fmt::format("{} {} {}: no allow-list entry covers this flow", proto_port(),
                             device_is_src ? "from the device to" : "to the device from",
                             peer ? peer->to_string() : "?");
        });
      }
      break;
  }
  if (f.state == FlowState::kAttempted || f.state == FlowState::kRejected) return;
  if (auto name = s.risky(f)) {
    s.add(FindingKind::kRiskyPort, f, device_id, device, peer, f.app, entry, [&] {
      return fmt::format("risky port {} ({}) {}{}{}", proto_port(), *name,
                         open_port ? "open" : "reachable and in use", allowed_by(), where);
    });
  }
  AppProtocol clear = is_cleartext(f.app)              ? f.app
                      : f.app == AppProtocol::kUnknown ? cleartext_by_port(f)
                                                       : AppProtocol::kUnknown;
  if (clear != AppProtocol::kUnknown) {
    s.add(FindingKind::kCleartext, f, device_id, device, peer, clear, entry, [&] {
      return fmt::format("{}{}{}{}{}", cleartext_reason(clear),
                         f.app == AppProtocol::kUnknown ? " (by port)" : "",
                         open_port ? " — service listening" : "", allowed_by(), where);
    });
  }
}

ConformanceReport ConformanceAnalyzer::report() const {
  state_->flush();  // the flows still waiting for a batch
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
