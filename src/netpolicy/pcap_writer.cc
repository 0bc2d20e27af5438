// Synthetic captures: frames built byte by byte, written by libpcap (pcap) or as pcapng blocks.
#include "vigie/netpolicy/pcap_writer.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "vigie/core/file.h"

namespace vigie::netpolicy {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}
// Little-endian, for pcapng blocks (written in this machine's order with a byte-order magic).
void le32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
void le16(std::string& out, std::uint16_t v) {
  char b[2];
  std::memcpy(b, &v, 2);
  out.append(b, 2);
}

std::uint16_t checksum(std::string_view data) {
  std::uint32_t sum = 0;
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    sum += (static_cast<std::uint8_t>(data[i]) << 8) | static_cast<std::uint8_t>(data[i + 1]);
  }
  if (data.size() % 2 != 0) sum += static_cast<std::uint8_t>(data.back()) << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::string frame(const PacketEnds& e, std::uint8_t proto, std::string_view l4) {
  std::string out;
  out.append("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);  // dst, src MAC
  for (std::uint16_t vlan : e.vlans) {
    put16(out, out.size() == 12 && e.vlans.size() > 1 ? 0x88a8 : 0x8100);
    put16(out, vlan & 0x0fff);
  }
  bool v4 = e.src.is_v4() && e.dst.is_v4();
  put16(out, v4 ? 0x0800 : 0x86dd);
  if (v4) {
    std::string ip;
    ip.append("\x45\x00", 2);
    put16(ip, static_cast<std::uint16_t>(20 + l4.size()));
    ip.append("\x00\x01\x40\x00\x40", 5);  // id 1, DF, TTL 64
    ip.push_back(static_cast<char>(proto));
    ip.append("\x00\x00", 2);
    put32(ip, e.src.v4_value());
    put32(ip, e.dst.v4_value());
    std::uint16_t sum = checksum(ip);
    ip[10] = static_cast<char>(sum >> 8);
    ip[11] = static_cast<char>(sum & 0xff);
    out += ip;
  } else {
    out.append("\x60\x00\x00\x00", 4);
    put16(out, static_cast<std::uint16_t>(l4.size()));
    out.push_back(static_cast<char>(proto));
    out.push_back(64);
    out.append(reinterpret_cast<const char*>(e.src.bytes.data()), 16);
    out.append(reinterpret_cast<const char*>(e.dst.bytes.data()), 16);
  }
  out += l4;
  return out;
}

}  // namespace

struct PcapWriter::Impl {
  CaptureFormat format = CaptureFormat::kPcap;
  std::unique_ptr<pcap_t, PcapCloser> dead;
  std::unique_ptr<pcap_dumper_t, DumperCloser> dumper;
  core::FilePtr pcapng;
  std::filesystem::path path;
  std::uint64_t bytes = 0;
  std::uint32_t seq = 1000;
  std::string block;  // reused

  void write(std::string_view data, std::int64_t at_us) {
    bytes += data.size();
    if (format == CaptureFormat::kPcap) {
      pcap_pkthdr h{};
      h.ts.tv_sec = at_us / 1000000;
      h.ts.tv_usec = static_cast<suseconds_t>(at_us % 1000000);
      h.caplen = h.len = static_cast<bpf_u_int32>(data.size());
      pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &h,
                reinterpret_cast<const u_char*>(data.data()));
      return;
    }
    // Enhanced Packet Block, interface 0, microsecond timestamps.
    size_t padded = (data.size() + 3) & ~size_t{3};
    auto total = static_cast<std::uint32_t>(32 + padded);
    block.clear();
    le32(block, 6);
    le32(block, total);
    le32(block, 0);
    auto ts = static_cast<std::uint64_t>(at_us);
    le32(block, static_cast<std::uint32_t>(ts >> 32));
    le32(block, static_cast<std::uint32_t>(ts & 0xffffffff));
    le32(block, static_cast<std::uint32_t>(data.size()));
    le32(block, static_cast<std::uint32_t>(data.size()));
    block.append(data);
    block.append(padded - data.size(), '\0');
    le32(block, total);
    std::fwrite(block.data(), 1, block.size(), pcapng.get());
  }
};

PcapWriter::PcapWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PcapWriter::PcapWriter(PcapWriter&&) noexcept = default;
PcapWriter& PcapWriter::operator=(PcapWriter&&) noexcept = default;
PcapWriter::~PcapWriter() = default;

core::Result<PcapWriter> PcapWriter::create(const std::filesystem::path& path,
                                            CaptureFormat format) {
  auto impl = std::make_unique<Impl>();
  impl->format = format;
  impl->path = path;
  if (format == CaptureFormat::kPcap) {
    impl->dead.reset(pcap_open_dead(DLT_EN10MB, 65535));
    if (!impl->dead) return core::fail(core::ErrorCode::kInternal, "pcap_open_dead failed");
    impl->dumper.reset(pcap_dump_open(impl->dead.get(), path.c_str()));
    if (!impl->dumper) {
      return core::fail(core::ErrorCode::kIo, pcap_geterr(impl->dead.get()), path.string());
    }
    return PcapWriter(std::move(impl));
  }
  impl->pcapng = core::open_file(path, "wb");
  if (!impl->pcapng) {
    return core::fail(core::ErrorCode::kIo, fmt::format("cannot create: {}", std::strerror(errno)),
                      path.string());
  }
  std::string head;
  // Section Header Block (version 1.0, section length unknown), then one Ethernet interface.
  le32(head, 0x0A0D0D0A);
  le32(head, 28);
  le32(head, 0x1A2B3C4D);
  le16(head, 1);
  le16(head, 0);
  le32(head, 0xffffffff);
  le32(head, 0xffffffff);
  le32(head, 28);
  le32(head, 1);
  le32(head, 20);
  le16(head, 1);  // LINKTYPE_ETHERNET
  le16(head, 0);
  le32(head, 65535);
  le32(head, 20);
  std::fwrite(head.data(), 1, head.size(), impl->pcapng.get());
  return PcapWriter(std::move(impl));
}

void PcapWriter::tcp(const PacketEnds& ends, std::uint8_t flags, std::string_view payload,
                     std::int64_t at_us) {
  std::string l4;
  put16(l4, ends.src_port);
  put16(l4, ends.dst_port);
  put32(l4, impl_->seq);
  put32(l4, (flags & kTcpAck) != 0 ? impl_->seq + 1 : 0);
  impl_->seq += static_cast<std::uint32_t>(payload.size()) + 1;
  l4.push_back(0x50);  // 20-byte header
  l4.push_back(static_cast<char>(flags));
  put16(l4, 65535);
  l4.append("\x00\x00\x00\x00", 4);  // checksum (not checked by readers of captures), urgent
  l4.append(payload);
  impl_->write(frame(ends, 6, l4), at_us);
}

void PcapWriter::udp(const PacketEnds& ends, std::string_view payload, std::int64_t at_us) {
  std::string l4;
  put16(l4, ends.src_port);
  put16(l4, ends.dst_port);
  put16(l4, static_cast<std::uint16_t>(8 + payload.size()));
  put16(l4, 0);
  l4.append(payload);
  impl_->write(frame(ends, 17, l4), at_us);
}

void PcapWriter::tcp_session(const PacketEnds& client,
                             const std::vector<std::pair<bool, std::string>>& messages,
                             std::int64_t& at_us) {
  PacketEnds server = client.reversed();
  tcp(client, kTcpSyn, {}, at_us += 10);
  tcp(server, kTcpSyn | kTcpAck, {}, at_us += 10);
  tcp(client, kTcpAck, {}, at_us += 10);
  for (const auto& [from_client, text] : messages) {
    tcp(from_client ? client : server, kTcpPsh | kTcpAck, text, at_us += 10);
    tcp(from_client ? server : client, kTcpAck, {}, at_us += 10);
  }
  tcp(client, kTcpFin | kTcpAck, {}, at_us += 10);
  tcp(server, kTcpFin | kTcpAck, {}, at_us += 10);
  tcp(client, kTcpAck, {}, at_us += 10);
}

void PcapWriter::raw(std::string_view data, std::int64_t at_us) { impl_->write(data, at_us); }

core::Status PcapWriter::close() {
  if (impl_->format == CaptureFormat::kPcap) {
    if (pcap_dump_flush(impl_->dumper.get()) != 0) {
      return core::fail(core::ErrorCode::kIo, "cannot write the capture", impl_->path.string());
    }
    impl_->dumper.reset();
    return {};
  }
  std::FILE* f = impl_->pcapng.get();
  bool ok = std::fflush(f) == 0 && std::ferror(f) == 0;
  impl_->pcapng.reset();
  if (!ok)
    return core::fail(core::ErrorCode::kIo, "cannot write the capture", impl_->path.string());
  return {};
}

std::uint64_t PcapWriter::bytes_written() const { return impl_->bytes; }

}  // namespace vigie::netpolicy
