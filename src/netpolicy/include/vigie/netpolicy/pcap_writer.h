// Writing captures of synthetic traffic: Ethernet frames (optionally 802.1Q/QinQ tagged) with
// IPv4/IPv6 and TCP/UDP, in pcap (through libpcap's pcap_dump) or pcapng. Tests build the
// captures they read with it, and the benchmark its large input; a person can use it to make a
// capture that reproduces a finding.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"

namespace vigie::netpolicy {

enum class CaptureFormat { kPcap, kPcapng };

// One direction of a conversation.
struct PacketEnds {
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::vector<std::uint16_t> vlans;  // outer tag first; empty: untagged
  [[nodiscard]] PacketEnds reversed() const { return {dst, src, dst_port, src_port, vlans}; }
};

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;

class PcapWriter {
 public:
  static core::Result<PcapWriter> create(const std::filesystem::path& path, CaptureFormat format);
  PcapWriter(PcapWriter&&) noexcept;
  PcapWriter& operator=(PcapWriter&&) noexcept;
  ~PcapWriter();

  void tcp(const PacketEnds& ends, std::uint8_t flags, std::string_view payload,
           std::int64_t at_us);
  void udp(const PacketEnds& ends, std::string_view payload, std::int64_t at_us);
  // A whole TCP connection from `client`: handshake, each message (true: from the client) one
  // segment with its ACK, then FIN both ways. Each packet 10 µs after the previous one.
  void tcp_session(const PacketEnds& client,
                   const std::vector<std::pair<bool, std::string>>& messages, std::int64_t& at_us);
  // A frame as given (no header is added), for malformed-input tests.
  void raw(std::string_view frame, std::int64_t at_us);
  // Flushes and closes; the writer cannot be used afterwards.
  core::Status close();

  [[nodiscard]] std::uint64_t bytes_written() const;

 private:
  struct Impl;
  explicit PcapWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::netpolicy
