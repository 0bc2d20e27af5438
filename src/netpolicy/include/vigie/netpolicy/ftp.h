// FTP data channels: the control connection announces, in cleartext, the address and port the
// data connection will use (PORT/EPRT from the client for active mode, 227/229 replies to
// PASV/EPSV for passive mode). The capture reader uses these to recognise a data connection on
// an ephemeral port as ftp-data.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "vigie/netpolicy/ip.h"

namespace vigie::netpolicy {

struct FtpDataAnnounce {
  bool active = false;          // PORT/EPRT: the server will connect to ip:port
  std::optional<IpAddress> ip;  // absent for EPSV (the control connection's server address)
  std::uint16_t port = 0;
};

// A client command line (without CRLF): "PORT h1,h2,h3,h4,p1,p2" or "EPRT |1|ip|port|"
// (any delimiter, family 1 or 2). nullopt for any other line or a malformed announce.
std::optional<FtpDataAnnounce> parse_ftp_client_line(std::string_view line);
// A server reply line: "227 ... (h1,h2,h3,h4,p1,p2)" (parentheses optional) or
// "229 ... (|||port|)". nullopt otherwise.
std::optional<FtpDataAnnounce> parse_ftp_server_line(std::string_view line);

}  // namespace vigie::netpolicy
