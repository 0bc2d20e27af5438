// Packet captures (pcap and pcapng, through libpcap) assembled into flows: Ethernet (and Linux
// cooked, raw IP), 802.1Q / QinQ tags, IPv4 and IPv6, TCP and UDP. TCP handshakes give the
// state (SYN without SYN-ACK is an attempt, RST to a SYN a refusal); FTP control connections
// are read for PORT/PASV/EPRT/EPSV so that their data connections, on ephemeral ports, are
// known as ftp-data; the first payload bytes name HTTP, TLS, SSH and VNC (RFB, with the TLS
// security types told apart).
#pragma once

#include <cstdio>
#include <filesystem>
#include <string_view>

#include "vigie/core/file.h"
#include "vigie/core/result.h"
#include "vigie/netpolicy/flows.h"

namespace vigie::netpolicy {

struct PcapOptions {
  // Most flows open at once; beyond it the capture is refused (bounded memory). Closed TCP
  // connections are handed to the sink as soon as they end.
  size_t max_open_flows = 1 << 22;
};

// Reads a capture file. Errors name the file, the packet number and its byte offset.
core::Result<ReadStats> read_pcap(const std::filesystem::path& path, FlowSink& sink,
                                  const PcapOptions& options = {});
// The same from an open stream (e.g. fmemopen), which libpcap takes over and closes.
core::Result<ReadStats> read_pcap(core::FilePtr stream, std::string_view name, FlowSink& sink,
                                  const PcapOptions& options = {});

}  // namespace vigie::netpolicy
