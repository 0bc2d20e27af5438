// Capture reader: libpcap hands the packets, this file decodes the headers and assembles flows.
#include "vigie/netpolicy/pcap.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>

#include "vigie/netpolicy/ftp.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

// Link types the decoder knows (values of pcap/dlt.h, spelled out for the older ones).
constexpr int kDltNull = 0;
constexpr int kDltEthernet = 1;
constexpr int kDltRaw = 12;
constexpr int kDltRawIp = 101;
constexpr int kDltLoop = 108;
constexpr int kDltLinuxSll = 113;
constexpr int kDltLinuxSll2 = 276;

constexpr std::uint16_t kNoVlan = 0xffff;
constexpr size_t kMaxFtpExpectations = 65536;
constexpr int kMaxIpv6Headers = 8;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

// One decoded packet: the transport endpoints and what it carries.
struct Packet {
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t proto = 0;  // IANA number
  std::uint16_t vlan = kNoVlan;
  std::uint8_t tcp_flags = 0;
  std::uint32_t payload_len = 0;                 // from the headers (the wire)
  std::basic_string_view<std::uint8_t> payload;  // what was captured of it
};

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kAck = 0x10;

bool decode_transport(Packet& pkt, const std::uint8_t* p, size_t len, std::uint32_t wire_len) {
  if (pkt.proto == 6) {
    if (len < 20) return false;
    size_t header = static_cast<size_t>(p[12] >> 4) * 4;
    if (header < 20 || header > len || header > wire_len) return false;
    pkt.src_port = be16(p);
    pkt.dst_port = be16(p + 2);
    pkt.tcp_flags = p[13];
    pkt.payload_len = wire_len - static_cast<std::uint32_t>(header);
    pkt.payload = {p + header, len - header};
  } else if (pkt.proto == 17) {
    if (len < 8 || wire_len < 8) return false;
    pkt.src_port = be16(p);
    pkt.dst_port = be16(p + 2);
    pkt.payload_len = wire_len - 8;
    pkt.payload = {p + 8, len - 8};
  } else if (pkt.proto == 1 || pkt.proto == 58) {
    pkt.payload_len = wire_len;
  } else {
    return false;
  }
  if (pkt.payload.size() > pkt.payload_len) pkt.payload = pkt.payload.substr(0, pkt.payload_len);
  return true;
}

bool decode_ipv4(Packet& pkt, const std::uint8_t* p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return false;
  size_t header = static_cast<size_t>(p[0] & 0x0f) * 4;
  std::uint16_t total = be16(p + 2);
  if (header < 20 || header > len || total < header) return false;
  if ((be16(p + 6) & 0x1fff) != 0) return false;  // a later fragment: no transport header
  pkt.proto = p[9];
  pkt.src = IpAddress::v4((std::uint32_t{p[12]} << 24) | (std::uint32_t{p[13]} << 16) |
                          (std::uint32_t{p[14]} << 8) | p[15]);
  pkt.dst = IpAddress::v4((std::uint32_t{p[16]} << 24) | (std::uint32_t{p[17]} << 16) |
                          (std::uint32_t{p[18]} << 8) | p[19]);
  size_t captured = std::min<size_t>(len, total);
  return decode_transport(pkt, p + header, captured - header, total - header);
}

bool decode_ipv6(Packet& pkt, const std::uint8_t* p, size_t len) {
  if (len < 40 || (p[0] >> 4) != 6) return false;
  std::uint32_t remaining = be16(p + 4);
  std::memcpy(pkt.src.bytes.data(), p + 8, 16);
  std::memcpy(pkt.dst.bytes.data(), p + 24, 16);
  std::uint8_t next = p[6];
  size_t offset = 40;
  for (int i = 0; i < kMaxIpv6Headers; ++i) {
    if (next != 0 && next != 43 && next != 44 && next != 60 && next != 51) break;
    if (offset + 8 > len) return false;
    size_t ext = next == 44   ? 8
                 : next == 51 ? (static_cast<size_t>(p[offset + 1]) + 2) * 4
                              : (static_cast<size_t>(p[offset + 1]) + 1) * 8;
    if (next == 44 && (be16(p + offset + 2) & 0xfff8) != 0) return false;  // later fragment
    if (ext > remaining || offset + ext > len) return false;
    next = p[offset];
    offset += ext;
    remaining -= static_cast<std::uint32_t>(ext);
  }
  pkt.proto = next;
  size_t captured = std::min<size_t>(len, offset + remaining);
  return decode_transport(pkt, p + offset, captured - offset, remaining);
}

bool decode_ethertype(Packet& pkt, std::uint16_t type, const std::uint8_t* p, size_t len) {
  if (type == 0x0800) return decode_ipv4(pkt, p, len);
  if (type == 0x86dd) return decode_ipv6(pkt, p, len);
  return false;
}

bool decode_ethernet(Packet& pkt, const std::uint8_t* p, size_t len) {
  if (len < 14) return false;
  std::uint16_t type = be16(p + 12);
  size_t offset = 14;
  // 802.1Q, 802.1ad (QinQ) and the old 0x9100: the outer tag is the flow's VLAN.
  while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
    if (offset + 4 > len) return false;
    if (pkt.vlan == kNoVlan) pkt.vlan = be16(p + offset) & 0x0fff;
    type = be16(p + offset + 2);
    offset += 4;
  }
  return decode_ethertype(pkt, type, p + offset, len - offset);
}

bool decode_raw(Packet& pkt, const std::uint8_t* p, size_t len) {
  if (len < 1) return false;
  return (p[0] >> 4) == 4 ? decode_ipv4(pkt, p, len) : decode_ipv6(pkt, p, len);
}

bool decode(int linktype, Packet& pkt, const std::uint8_t* p, size_t len) {
  switch (linktype) {
    case kDltEthernet:
      return decode_ethernet(pkt, p, len);
    case kDltRaw:
    case kDltRawIp:
      return decode_raw(pkt, p, len);
    case kDltNull:
    case kDltLoop:
      return len >= 4 && decode_raw(pkt, p + 4, len - 4);
    case kDltLinuxSll:
      return len >= 16 && decode_ethertype(pkt, be16(p + 14), p + 16, len - 16);
    case kDltLinuxSll2:
      return len >= 20 && decode_ethertype(pkt, be16(p), p + 20, len - 20);
    default:
      return false;
  }
}

bool supported_linktype(int linktype) {
  for (int t :
       {kDltNull, kDltEthernet, kDltRaw, kDltRawIp, kDltLoop, kDltLinuxSll, kDltLinuxSll2}) {
    if (t == linktype) return true;
  }
  return false;
}

// Both ends of a connection, smaller end first, so that both directions find one entry.
struct Key {
  IpAddress a;
  IpAddress b;
  std::uint16_t a_port = 0;
  std::uint16_t b_port = 0;
  std::uint16_t vlan = kNoVlan;
  std::uint8_t proto = 0;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const noexcept {
    IpAddressHash h;
    return h(k.a) ^ (h(k.b) * 31) ^
           (((std::size_t{k.a_port} << 32) | (std::size_t{k.b_port} << 16) | k.proto) *
            0x9E3779B97F4A7C15ULL) ^
           k.vlan;
  }
};

struct Endpoint {
  IpAddress ip;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};
struct EndpointHash {
  size_t operator()(const Endpoint& e) const noexcept {
    return IpAddressHash{}(e.ip) ^ (std::size_t{e.port} * 0x9E3779B97F4A7C15ULL);
  }
};

struct Tracked {
  Flow flow;
  bool syn = false;
  bool syn_ack = false;
  bool responder_rst = false;
  bool fin_orig = false;
  bool fin_resp = false;
  bool ftp_control = false;
  std::uint8_t orig_payloads = 0;  // payload-carrying packets seen, up to a few
  std::uint8_t resp_payloads = 0;
};

bool is_ftp_control_port(std::uint16_t port) { return port == 21; }

class Assembler {
 public:
  Assembler(FlowSink& sink, const PcapOptions& options) : sink_(sink), options_(options) {}

  // False when the table of open flows is full.
  bool packet(const Packet& pkt, std::int64_t at_us) {
    bool forward = std::tie(pkt.src, pkt.src_port) < std::tie(pkt.dst, pkt.dst_port);
    Key key{forward ? pkt.src : pkt.dst,
            forward ? pkt.dst : pkt.src,
            forward ? pkt.src_port : pkt.dst_port,
            forward ? pkt.dst_port : pkt.src_port,
            pkt.vlan,
            pkt.proto};
    auto it = flows_.find(key);
    if (it == flows_.end()) {
      // A bare ACK, FIN or RST of a connection already closed (or begun before the capture)
      // tells nothing: it would only make a one-packet ghost flow.
      if (pkt.proto == 6 && (pkt.tcp_flags & kSyn) == 0 && pkt.payload_len == 0) {
        ++stats_.skipped;
        return true;
      }
      if (flows_.size() >= options_.max_open_flows) return false;
      it = flows_.emplace(key, start(pkt, at_us)).first;
    }
    Tracked& t = it->second;
    bool from_orig = pkt.src == t.flow.src && pkt.src_port == t.flow.src_port;
    t.flow.packets += 1;
    t.flow.bytes += pkt.payload_len;
    t.flow.last_us = std::max(t.flow.last_us, at_us);
    if (pkt.proto == 6) {
      if (tcp(t, pkt, from_orig)) {
        emit(t);
        flows_.erase(it);
      }
    } else if (!pkt.payload.empty()) {
      payload(t, pkt, from_orig);
    }
    return true;
  }

  void finish() {
    for (auto& [key, t] : flows_) emit(t);
    flows_.clear();
  }

  ReadStats& stats() { return stats_; }

 private:
  Tracked start(const Packet& pkt, std::int64_t at_us) {
    Tracked t;
    Flow& f = t.flow;
    Endpoint sender{pkt.src, pkt.src_port};
    Endpoint receiver{pkt.dst, pkt.dst_port};
    // The initiator: the SYN's sender; the receiver of a SYN-ACK; else the announced end of an
    // FTP data channel is the responder; else the end on a service port (< 1024) responds.
    bool swap = false;
    auto expected = ftp_expected_.end();
    if (pkt.proto == 6 && (pkt.tcp_flags & kSyn) != 0) {
      swap = (pkt.tcp_flags & kAck) != 0;
    } else if ((expected = ftp_expected_.find(sender)) != ftp_expected_.end()) {
      swap = true;
    } else if (pkt.proto != 1 && pkt.proto != 58) {
      swap = pkt.src_port < 1024 && pkt.dst_port >= 1024;
    }
    if (swap) std::swap(sender, receiver);
    f.src = sender.ip;
    f.src_port = sender.port;
    f.dst = receiver.ip;
    f.dst_port = receiver.port;
    f.protocol = pkt.proto == 6    ? Protocol::kTcp
                 : pkt.proto == 17 ? Protocol::kUdp
                                   : Protocol::kIcmp;
    if (pkt.vlan != kNoVlan) f.vlan = pkt.vlan;
    f.first_us = f.last_us = at_us;
    if (pkt.proto == 6) {
      auto data = ftp_expected_.find(receiver);
      if (data != ftp_expected_.end()) {
        f.app = AppProtocol::kFtpData;
        ftp_expected_.erase(data);
      } else if (is_ftp_control_port(receiver.port)) {
        t.ftp_control = true;
        f.app = AppProtocol::kFtp;
      }
    }
    return t;
  }

  // Returns true when the connection has ended (RST, or FIN both ways).
  bool tcp(Tracked& t, const Packet& pkt, bool from_orig) {
    std::uint8_t flags = pkt.tcp_flags;
    if ((flags & kSyn) != 0) {
      ((flags & kAck) != 0 ? t.syn_ack : t.syn) = true;
    }
    if (!pkt.payload.empty()) payload(t, pkt, from_orig);
    if ((flags & kFin) != 0) (from_orig ? t.fin_orig : t.fin_resp) = true;
    if ((flags & kRst) != 0) {
      if (!from_orig && !t.syn_ack) t.responder_rst = true;
      return true;
    }
    return t.fin_orig && t.fin_resp;
  }

  void payload(Tracked& t, const Packet& pkt, bool from_orig) {
    std::uint8_t& seen = from_orig ? t.orig_payloads : t.resp_payloads;
    if (seen < 255) ++seen;
    std::string_view data(reinterpret_cast<const char*>(pkt.payload.data()), pkt.payload.size());
    if (t.ftp_control) return ftp_lines(t, data, from_orig);
    if (seen > 2) return;
    AppProtocol& app = t.flow.app;
    if (app == AppProtocol::kVnc) {
      // RFB 3.7+: the client's second message is the security type it chose; 18 (TLS) and 19
      // (VeNCrypt) wrap the rest of the session in TLS.
      if (from_orig && seen == 2 && data.size() == 1 && (data[0] == 18 || data[0] == 19)) {
        app = AppProtocol::kVncTls;
      }
      return;
    }
    if (app != AppProtocol::kUnknown || seen != 1) return;
    app = sniff(data);
  }

  static AppProtocol sniff(std::string_view data) {
    if (data.starts_with("RFB 0")) return AppProtocol::kVnc;
    if (data.starts_with("SSH-")) return AppProtocol::kSsh;
    if (data.size() >= 3 && data[0] == 0x16 && data[1] == 0x03) return AppProtocol::kTls;
    static constexpr std::array<std::string_view, 8> kHttp{
        "GET /", "POST /", "HEAD /", "PUT /", "DELETE /", "OPTIONS ", "HTTP/1.", "CONNECT "};
    for (auto m : kHttp) {
      if (data.starts_with(m)) return AppProtocol::kHttp;
    }
    return AppProtocol::kUnknown;
  }

  // Reads the announces of data channels in a control connection's lines. A line split
  // across two segments is not reassembled: clients and servers send each command and reply
  // in one segment.
  void ftp_lines(const Tracked& t, std::string_view data, bool from_orig) {
    while (!data.empty()) {
      size_t eol = data.find('\n');
      std::string_view line = data.substr(0, eol);
      data = eol == std::string_view::npos ? std::string_view{} : data.substr(eol + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      auto announce = from_orig ? parse_ftp_client_line(line) : parse_ftp_server_line(line);
      if (!announce) continue;
      // Active: the server connects to the client's address; passive: the client to the
      // server's (EPSV names only the port: the control connection's server address).
      IpAddress ip = announce->ip ? *announce->ip : (announce->active ? t.flow.src : t.flow.dst);
      if (ftp_expected_.size() >= kMaxFtpExpectations) ftp_expected_.clear();
      ftp_expected_.insert({Endpoint{ip, announce->port}, true});
    }
  }

  void emit(Tracked& t) {
    Flow& f = t.flow;
    if (f.protocol == Protocol::kTcp) {
      if (t.syn && !t.syn_ack) {
        f.state = t.responder_rst ? FlowState::kRejected : FlowState::kAttempted;
      } else {
        f.state = FlowState::kEstablished;
      }
      if (f.app == AppProtocol::kUnknown && f.dst_port == 23 &&
          f.state == FlowState::kEstablished) {
        f.app = AppProtocol::kTelnet;
      }
    }
    ++stats_.flows;
    sink_.flow(f);
  }

  FlowSink& sink_;
  const PcapOptions& options_;
  std::unordered_map<Key, Tracked, KeyHash> flows_;
  std::unordered_map<Endpoint, bool, EndpointHash> ftp_expected_;
  ReadStats stats_;
};

core::Result<ReadStats> read_open(PcapPtr pcap, const std::string& name, FlowSink& sink,
                                  const PcapOptions& options) {
  int linktype = pcap_datalink(pcap.get());
  if (!supported_linktype(linktype)) {
    const char* link_name = pcap_datalink_val_to_name(linktype);
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("link type {} ({}) is not supported (Ethernet, Linux cooked, "
                                  "raw IP, BSD loopback are)",
                                  linktype, link_name != nullptr ? link_name : "unknown"),
                      name);
  }
  Assembler assembler(sink, options);
  std::FILE* stream = pcap_file(pcap.get());
  std::uint64_t number = 0;
  while (true) {
    long offset = stream != nullptr ? std::ftell(stream) : -1;
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int rc = pcap_next_ex(pcap.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    ++number;
    auto where = [&] {
      return fmt::format("{}: packet {} at byte offset {}", name, number, offset);
    };
    if (rc != 1) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("unreadable packet record: {}", pcap_geterr(pcap.get())),
                        where());
    }
    ReadStats& stats = assembler.stats();
    ++stats.records;
    stats.bytes += header->len;
    Packet pkt;
    if (!decode(linktype, pkt, data, header->caplen)) {
      ++stats.skipped;
      continue;
    }
    std::int64_t at_us = std::int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
    if (!assembler.packet(pkt, at_us)) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("more than {} flows open at once", options.max_open_flows),
                        where());
    }
  }
  assembler.finish();
  return assembler.stats();
}

}  // namespace

core::Result<ReadStats> read_pcap(const std::filesystem::path& path, FlowSink& sink,
                                  const PcapOptions& options) {
  core::FilePtr file = core::open_file(path, "rb");
  if (!file) {
    return core::fail(ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)),
                      path.string());
  }
  return read_pcap(std::move(file), path.string(), sink, options);
}

core::Result<ReadStats> read_pcap(core::FilePtr stream, std::string_view name, FlowSink& sink,
                                  const PcapOptions& options) {
  std::array<char, PCAP_ERRBUF_SIZE> err{};
  // pcap_fopen_offline takes the stream over on success only.
  PcapPtr pcap(pcap_fopen_offline(stream.get(), err.data()));
  if (!pcap) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("not a pcap or pcapng capture: {}", err.data()),
                      fmt::format("{}: byte offset 0", name));
  }
  (void)stream.release();  // NOLINT(bugprone-unused-return-value): pcap_close closes it now
  return read_open(std::move(pcap), std::string(name), sink, options);
}

}  // namespace vigie::netpolicy
