// Observed traffic as the conformance check sees it: one Flow per connection (or per open port
// a scan found), whatever the source — an nmap scan, a Zeek conn.log or a packet capture. The
// readers (zeek.h, pcap.h, nmap_flows.h) turn their input into flows and hand them to a sink
// one at a time, so that files of any size are read in bounded memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"
#include "vigie/netpolicy/model.h"

namespace vigie::netpolicy {

// What became of a connection.
enum class FlowState : std::uint8_t {
  kEstablished,  // the responder answered (TCP handshake completed, UDP or mid-stream traffic)
  kAttempted,    // the initiator tried and nothing answered (SYN without SYN-ACK, Zeek S0)
  kRejected,     // the responder refused (RST to a SYN, Zeek REJ)
  kOpenPort,     // a scan saw the port open; `src` is unknown (unspecified address)
};
std::string_view to_string(FlowState s);  // "established", "attempted", "rejected", "open-port"

// The application protocol a reader recognised (Zeek's service, or the payload of a capture).
enum class AppProtocol : std::uint8_t {
  kUnknown,
  kFtp,      // FTP control channel
  kFtpData,  // an FTP data channel announced by PORT/PASV/EPRT/EPSV
  kTelnet,
  kVnc,     // RFB whose handshake is on the wire without TLS
  kVncTls,  // RFB that chose a TLS security type (VeNCrypt, TLS)
  kHttp,
  kTls,
  kSsh,
  kDicom,
  kSmb,
  kRdp,
  kDns,
  kOther,  // a service the reader named that none of the above is
};
std::string_view to_string(AppProtocol p);  // "ftp", "ftp-data", "telnet", "vnc"...
// Zeek's service names ("ftp-data", "http", "ssl", "rfb"...); a comma-separated list gives
// the most telling one (TLS wins over what runs inside it). kUnknown for "" and "-".
AppProtocol parse_zeek_service(std::string_view text);
// Whether the protocol carries its data unencrypted.
bool is_cleartext(AppProtocol p);

// One connection. `src` is the initiator (originator), `dst` the responder; ports are 0 for
// protocols without ports. Times are microseconds since the Unix epoch (0 when unknown).
struct Flow {
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  Protocol protocol = Protocol::kTcp;
  FlowState state = FlowState::kEstablished;
  AppProtocol app = AppProtocol::kUnknown;
  std::optional<std::uint16_t> vlan;  // the outer 802.1Q tag, when there is one
  std::uint64_t bytes = 0;            // payload bytes, both directions
  std::uint64_t packets = 0;          // both directions
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
};

// Receives flows from a reader, one at a time. A reader calls nothing else on it.
class FlowSink {
 public:
  virtual ~FlowSink() = default;
  virtual void flow(const Flow& flow) = 0;
};

// The input formats the conformance check reads.
enum class FlowFormat { kNmap, kZeek, kPcap };
std::string_view to_string(FlowFormat f);  // "nmap", "zeek", "pcap"
std::optional<FlowFormat> parse_flow_format(std::string_view text);
// From the first bytes of a file: pcap/pcapng magic numbers, "<?xml"/"<nmaprun", Zeek's
// "#separator" header or a JSON object. nullopt when none fits.
std::optional<FlowFormat> detect_flow_format(std::string_view head);

// What a reader read.
struct ReadStats {
  std::uint64_t records = 0;  // hosts (nmap), log lines (Zeek), packets (pcap)
  std::uint64_t flows = 0;    // flows handed to the sink
  std::uint64_t bytes = 0;    // bytes of the file read (pcap: bytes of the packets on the wire)
  std::uint64_t skipped = 0;  // records that carry no flow (pcap: non-IP frames, fragments)
};

// The open ports of every host an nmap XML scan found up, as kOpenPort flows. Errors name the
// file, line and element.
core::Result<ReadStats> read_nmap_flows(const std::filesystem::path& path, FlowSink& sink);

// Reads `path` in `format` (read_nmap_flows, read_zeek_conn, read_pcap). On error the sink may
// have received some flows already: the caller stores nothing.
core::Result<ReadStats> read_flows(const std::filesystem::path& path, FlowFormat format,
                                   FlowSink& sink);
// The format of a file, from its first bytes; kUsage naming the file when none fits.
core::Result<FlowFormat> detect_file_format(const std::filesystem::path& path);

}  // namespace vigie::netpolicy
