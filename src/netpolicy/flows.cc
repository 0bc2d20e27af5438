// Flow vocabulary, format detection, and scans read as flows (through the inventory's
// streaming nmap reader).
#include "vigie/netpolicy/flows.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "vigie/core/file.h"
#include "vigie/core/time.h"
#include "vigie/inventory/nmap_scan.h"
#include "vigie/netpolicy/pcap.h"
#include "vigie/netpolicy/zeek.h"

namespace vigie::netpolicy {
namespace {

constexpr std::array<std::pair<AppProtocol, std::string_view>, 14> kAppNames{{
    {AppProtocol::kUnknown, "unknown"},
    {AppProtocol::kFtp, "ftp"},
    {AppProtocol::kFtpData, "ftp-data"},
    {AppProtocol::kTelnet, "telnet"},
    {AppProtocol::kVnc, "vnc"},
    {AppProtocol::kVncTls, "vnc-tls"},
    {AppProtocol::kHttp, "http"},
    {AppProtocol::kTls, "tls"},
    {AppProtocol::kSsh, "ssh"},
    {AppProtocol::kDicom, "dicom"},
    {AppProtocol::kSmb, "smb"},
    {AppProtocol::kRdp, "rdp"},
    {AppProtocol::kDns, "dns"},
    {AppProtocol::kOther, "other"},
}};

// Zeek's analyzer names; the rank says which wins in a list ("ssl,http" is HTTP inside TLS).
struct ZeekService {
  std::string_view name;
  AppProtocol app;
  int rank;
};
constexpr std::array<ZeekService, 16> kZeekServices{{
    {"ssl", AppProtocol::kTls, 3},
    {"dtls", AppProtocol::kTls, 3},
    {"ssh", AppProtocol::kSsh, 2},
    {"rdp", AppProtocol::kRdp, 2},
    {"rfb", AppProtocol::kVnc, 1},
    {"vnc", AppProtocol::kVnc, 1},
    {"ftp", AppProtocol::kFtp, 1},
    {"ftp-data", AppProtocol::kFtpData, 1},
    {"ftp_data", AppProtocol::kFtpData, 1},
    {"telnet", AppProtocol::kTelnet, 1},
    {"http", AppProtocol::kHttp, 1},
    {"dicom", AppProtocol::kDicom, 1},
    {"smb", AppProtocol::kSmb, 1},
    {"gssapi,smb", AppProtocol::kSmb, 1},
    {"dns", AppProtocol::kDns, 1},
    {"krb", AppProtocol::kOther, 0},
}};

}  // namespace

std::string_view to_string(FlowState s) {
  switch (s) {
    case FlowState::kEstablished:
      return "established";
    case FlowState::kAttempted:
      return "attempted";
    case FlowState::kRejected:
      return "rejected";
    case FlowState::kOpenPort:
      return "open-port";
  }
  return "established";
}

std::string_view to_string(AppProtocol p) {
  for (const auto& [app, name] : kAppNames) {
    if (app == p) return name;
  }
  return "unknown";
}

AppProtocol parse_zeek_service(std::string_view text) {
  AppProtocol best = AppProtocol::kUnknown;
  int best_rank = -1;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (name.empty() || name == "-") continue;
    AppProtocol app = AppProtocol::kOther;
    int rank = 0;
    for (const auto& s : kZeekServices) {
      if (s.name == name) {
        app = s.app;
        rank = s.rank;
        break;
      }
    }
    if (rank > best_rank) {
      best = app;
      best_rank = rank;
    }
  }
  return best;
}

bool is_cleartext(AppProtocol p) {
  switch (p) {
    case AppProtocol::kFtp:
    case AppProtocol::kFtpData:
    case AppProtocol::kTelnet:
    case AppProtocol::kVnc:
    case AppProtocol::kHttp:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(FlowFormat f) {
  switch (f) {
    case FlowFormat::kNmap:
      return "nmap";
    case FlowFormat::kZeek:
      return "zeek";
    case FlowFormat::kPcap:
      return "pcap";
  }
  return "zeek";
}

std::optional<FlowFormat> parse_flow_format(std::string_view text) {
  for (auto f : {FlowFormat::kNmap, FlowFormat::kZeek, FlowFormat::kPcap}) {
    if (to_string(f) == text) return f;
  }
  return std::nullopt;
}

std::optional<FlowFormat> detect_flow_format(std::string_view head) {
  static constexpr std::array<std::string_view, 5> kPcapMagic{
      std::string_view("\xd4\xc3\xb2\xa1", 4), std::string_view("\xa1\xb2\xc3\xd4", 4),
      std::string_view("\x4d\x3c\xb2\xa1", 4), std::string_view("\xa1\xb2\x3c\x4d", 4),
      std::string_view("\x0a\x0d\x0d\x0a", 4)};
  for (auto magic : kPcapMagic) {
    if (head.starts_with(magic)) return FlowFormat::kPcap;
  }
  if (head.starts_with("\xef\xbb\xbf")) head.remove_prefix(3);
  size_t first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  head.remove_prefix(first);
  if (head.starts_with("<?xml") || head.starts_with("<nmaprun") ||
      head.starts_with("<!DOCTYPE nmaprun")) {
    return FlowFormat::kNmap;
  }
  if (head.starts_with("#separator") || head.starts_with("#fields") || head.starts_with("{")) {
    return FlowFormat::kZeek;
  }
  return std::nullopt;
}

core::Result<ReadStats> read_nmap_flows(const std::filesystem::path& path, FlowSink& sink) {
  ReadStats stats;
  std::optional<core::Error> error;
  inventory::NmapHandlers handlers;
  handlers.on_error = [&](core::Error e) {
    error = std::move(e);
    return false;
  };
  handlers.on_host = [&](inventory::ScannedHost& host) {
    ++stats.records;
    const std::string& text = host.ipv4.empty() ? host.ipv6 : host.ipv4;
    auto ip = parse_ip(text);
    if (!ip) {
      error = core::Error{core::ErrorCode::kInvalidInput,
                          fmt::format("'{}' is not an IP address", text),
                          fmt::format("{}:{} <host>", path.string(), host.line)};
      return false;
    }
    std::int64_t at_us = 0;
    if (auto t = core::parse_utc(host.seen_at)) {
      at_us = std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
    }
    for (const auto& port : host.ports) {
      Flow f;
      f.dst = *ip;
      f.dst_port = static_cast<std::uint16_t>(port.port);
      // SCTP has no protocol of its own in the model: it is checked as "any".
      f.protocol = port.protocol == "tcp"   ? Protocol::kTcp
                   : port.protocol == "udp" ? Protocol::kUdp
                                            : Protocol::kAny;
      f.state = FlowState::kOpenPort;
      f.app = parse_zeek_service(port.service == "vnc" ? "rfb" : port.service);
      f.first_us = at_us;
      f.last_us = at_us;
      f.packets = 1;
      sink.flow(f);
      ++stats.flows;
    }
    return true;
  };
  inventory::read_nmap(path, handlers);
  if (error) return tl::unexpected(std::move(*error));
  return stats;
}

core::Result<ReadStats> read_flows(const std::filesystem::path& path, FlowFormat format,
                                   FlowSink& sink) {
  switch (format) {
    case FlowFormat::kNmap:
      return read_nmap_flows(path, sink);
    case FlowFormat::kZeek:
      return read_zeek_conn(path, sink);
    case FlowFormat::kPcap:
      return read_pcap(path, sink);
  }
  return read_zeek_conn(path, sink);
}

core::Result<FlowFormat> detect_file_format(const std::filesystem::path& path) {
  core::FilePtr file = core::open_file(path, "rb");
  if (!file) {
    return core::fail(core::ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)),
                      path.string());
  }
  std::array<char, 512> head{};
  size_t n = std::fread(head.data(), 1, head.size(), file.get());
  if (auto f = detect_flow_format(std::string_view(head.data(), n))) return *f;
  return core::fail(core::ErrorCode::kUsage,
                    "not an nmap XML scan, a Zeek conn.log or a pcap/pcapng capture (use --format)",
                    path.string());
}

}  // namespace vigie::netpolicy
