// Parsing the FTP announces of data channels (RFC 959 PORT/PASV, RFC 2428 EPRT/EPSV).
#include "vigie/netpolicy/ftp.h"

#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace vigie::netpolicy {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<unsigned> number(std::string_view text, unsigned max) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > max) {
    return std::nullopt;
  }
  return value;
}

// "h1,h2,h3,h4,p1,p2" at the start of `text`: the run of digits, commas and spaces there,
// which must hold exactly six numbers.
std::optional<FtpDataAnnounce> six_numbers(std::string_view text, bool active) {
  size_t run = text.find_first_not_of("0123456789, ");
  text = text.substr(0, run);
  std::array<unsigned, 6> v{};
  for (size_t field = 0; field < v.size(); ++field) {
    size_t comma = text.find(',');
    bool last = field + 1 == v.size();
    if ((comma == std::string_view::npos) != last) return std::nullopt;
    auto n = number(text.substr(0, comma), 255);
    if (!n) return std::nullopt;
    v[field] = *n;
    if (!last) text.remove_prefix(comma + 1);
  }
  FtpDataAnnounce out;
  out.active = active;
  out.ip = IpAddress::v4((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]);
  out.port = static_cast<std::uint16_t>((v[4] << 8) | v[5]);
  return out;
}

}  // namespace

std::optional<FtpDataAnnounce> parse_ftp_client_line(std::string_view line) {
  if (starts_with_nocase(line, "PORT ")) return six_numbers(line.substr(5), true);
  if (!starts_with_nocase(line, "EPRT ")) return std::nullopt;
  // EPRT <d><family><d><address><d><port><d>, the delimiter chosen by the client.
  std::string_view rest = line.substr(5);
  if (rest.size() < 7) return std::nullopt;
  char d = rest.front();
  if (d < 33 || d > 126 || std::isdigit(static_cast<unsigned char>(d))) return std::nullopt;
  std::array<std::string_view, 3> parts;
  size_t pos = 1;
  for (auto& part : parts) {
    size_t next = rest.find(d, pos);
    if (next == std::string_view::npos) return std::nullopt;
    part = rest.substr(pos, next - pos);
    pos = next + 1;
  }
  if (parts[0] != "1" && parts[0] != "2") return std::nullopt;
  auto ip = parse_ip(parts[1]);
  auto port = number(parts[2], 65535);
  if (!ip || !port || ip->is_v4() != (parts[0] == "1")) return std::nullopt;
  return FtpDataAnnounce{true, *ip, static_cast<std::uint16_t>(*port)};
}

std::optional<FtpDataAnnounce> parse_ftp_server_line(std::string_view line) {
  if (line.starts_with("227")) {
    // The numbers follow the text; some servers omit the parentheses.
    size_t i = 3;
    while (i < line.size()) {
      size_t open = line.find_first_of("0123456789", i);
      if (open == std::string_view::npos) return std::nullopt;
      if (auto a = six_numbers(line.substr(open), false)) return a;
      i = line.find_first_not_of("0123456789", open);
      if (i == std::string_view::npos) return std::nullopt;
    }
    return std::nullopt;
  }
  if (!line.starts_with("229")) return std::nullopt;
  size_t open = line.find('(');
  size_t close = line.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos || close - open < 6) {
    return std::nullopt;
  }
  std::string_view inside = line.substr(open + 1, close - open - 1);
  char d = inside.front();
  if (inside.size() < 5 || inside[1] != d || inside[2] != d || inside.back() != d) {
    return std::nullopt;
  }
  auto port = number(inside.substr(3, inside.size() - 4), 65535);
  if (!port) return std::nullopt;
  return FtpDataAnnounce{false, std::nullopt, static_cast<std::uint16_t>(*port)};
}

}  // namespace vigie::netpolicy
