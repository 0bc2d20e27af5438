#include "vigie/notify/syslog.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "net_internal.h"
#include "vigie/notify/outbox.h"

namespace vigie::notify {
namespace {

using core::ErrorCode;

constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

// A header field of RFC 5424: printable ASCII without spaces, at most `max`; "-" when empty.
std::string header_field(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 33 && u <= 126 ? c : '_';
  }
  return out.empty() ? "-" : out;
}

// PARAM-VALUE: '"', '\' and ']' escaped (RFC 5424 6.3.3).
std::string param_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// One line: control characters (line breaks included) become spaces.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  return out;
}

std::string message_text(const Notice& notice) {
  return notice.body.empty() ? one_line(notice.subject)
                             : one_line(notice.subject) + " - " + one_line(notice.body);
}

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

int pri(const SyslogOptions& options, const Notice& notice) {
  return options.facility * 8 + syslog_severity(notice.severity);
}

std::string procid(const SyslogOptions& options) {
  return options.procid.empty() ? std::to_string(::getpid()) : options.procid;
}

std::string hostname(const SyslogOptions& options) {
  return options.hostname.empty() ? internal::host_name() : options.hostname;
}

Status send_unix(const std::string& path, std::string_view message) {
  internal::Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return core::fail(ErrorCode::kIo, fmt::format("socket: {}", std::strerror(errno)));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return core::fail(ErrorCode::kUsage, "socket path too long", path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("cannot send to the syslog socket: {}", std::strerror(errno)),
                      path);
  }
  return {};
}

// True when the collector closed the connection (or sent something it should not have).
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  std::array<char, 256> buf{};
  return ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) <= 0 || (p.revents & POLLHUP) != 0;
}

}  // namespace

Result<SyslogTarget> parse_syslog_target(std::string_view text) {
  SyslogTarget t;
  if (text == "local") {
    t.transport = SyslogTarget::Transport::kUnix;
    t.path = "/dev/log";
    return t;
  }
  if (text.starts_with("unix:")) {
    t.transport = SyslogTarget::Transport::kUnix;
    t.path = std::string(text.substr(5));
    if (t.path.empty()) return core::fail(ErrorCode::kInvalidInput, "empty socket path", "unix:");
    return t;
  }
  std::string_view rest;
  if (text.starts_with("udp://")) {
    t.transport = SyslogTarget::Transport::kUdp;
    rest = text.substr(6);
  } else if (text.starts_with("tcp://")) {
    t.transport = SyslogTarget::Transport::kTcp;
    rest = text.substr(6);
  } else {
    return core::fail(ErrorCode::kInvalidInput,
                      "expected udp://HOST:PORT, tcp://HOST:PORT, local or unix:PATH",
                      std::string(text));
  }
  std::string_view port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return core::fail(ErrorCode::kInvalidInput, "unclosed '[' in the address", std::string(text));
    }
    t.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(":"))
      port = rest.substr(1);
    else if (!rest.empty()) {
      return core::fail(ErrorCode::kInvalidInput, "unexpected text after ']'", std::string(text));
    }
  } else {
    auto colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (t.host.empty() || t.host.find('/') != std::string::npos) {
    return core::fail(ErrorCode::kInvalidInput, "no host", std::string(text));
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return core::fail(ErrorCode::kInvalidInput, "the port must be 1 to 65535", std::string(text));
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  return t;
}

Result<int> parse_facility(std::string_view name) {
  for (size_t i = 0; i < kFacilities.size(); ++i) {
    if (kFacilities.at(i) == name) return static_cast<int>(i);
  }
  return core::fail(ErrorCode::kInvalidInput, "unknown syslog facility", std::string(name));
}

std::string format_rfc5424(const SyslogOptions& options, const Notice& notice, core::TimePoint at,
                           size_t max_bytes) {
  std::string out =
      fmt::format("<{}>1 {} {} {} {} {} [{} kind=\"{}\" object=\"{}\" notice=\"{}\"] \xEF\xBB\xBF",
                  pri(options, notice), stamp(at), header_field(hostname(options), 255),
                  header_field(options.app_name, 48), header_field(procid(options), 128),
                  header_field(notice.kind, 32), kSdId, param_value(notice.kind),
                  param_value(notice.object), notice.id);
  const std::string msg = message_text(notice);
  const size_t room = max_bytes > out.size() ? max_bytes - out.size() : 0;
  out += cut_utf8(msg, room);
  return out;
}

std::string format_local(const SyslogOptions& options, const Notice& notice, core::TimePoint at,
                         size_t max_bytes) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::seconds>(at - day));
  std::string out = fmt::format(
      "<{}>{} {:>2} {:02}:{:02}:{:02} {}[{}]: [{} {} notice={}] ", pri(options, notice),
      kMonths.at(static_cast<unsigned>(ymd.month()) - 1), static_cast<unsigned>(ymd.day()),
      hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
      header_field(options.app_name, 48), header_field(procid(options), 128),
      header_field(notice.kind, 32), header_field(notice.object, 200), notice.id);
  const std::string msg = message_text(notice);
  const size_t room = max_bytes > out.size() ? max_bytes - out.size() : 0;
  out += cut_utf8(msg, room);
  return out;
}

SyslogChannel::SyslogChannel(SyslogOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

SyslogChannel::~SyslogChannel() {
  if (tcp_fd_ >= 0) ::close(tcp_fd_);
}

Status SyslogChannel::send(std::string_view message) {
  const SyslogTarget& t = options_.target;
  switch (t.transport) {
    case SyslogTarget::Transport::kUnix:
      return send_unix(t.path, message);
    case SyslogTarget::Transport::kUdp: {
      auto fd = internal::connect_udp(t.host, t.port);
      if (!fd) return tl::unexpected(fd.error());
      if (::send(fd->get(), message.data(), message.size(), MSG_NOSIGNAL) < 0) {
        return core::fail(
            ErrorCode::kUnavailable,
            fmt::format("cannot send to {}:{} over UDP: {}", t.host, t.port, std::strerror(errno)));
      }
      return {};
    }
    case SyslogTarget::Transport::kTcp: {
      if (tcp_fd_ >= 0 && closed_by_peer(tcp_fd_)) {
        ::close(tcp_fd_);
        tcp_fd_ = -1;
      }
      if (tcp_fd_ < 0) {
        auto fd = internal::connect_tcp(t.host, t.port, options_.timeout);
        if (!fd) return tl::unexpected(fd.error());
        tcp_fd_ = fd->release();
      }
      // RFC 6587 3.4.1 octet counting: "MSG-LEN SP SYSLOG-MSG".
      auto sent = internal::send_all(tcp_fd_, fmt::format("{} {}", message.size(), message),
                                     options_.timeout);
      if (!sent) {
        ::close(tcp_fd_);
        tcp_fd_ = -1;
      }
      return sent;
    }
  }
  return core::fail(ErrorCode::kInternal, "unknown syslog transport");
}

Attempt SyslogChannel::deliver(const Notice& notice) {
  const auto now = clock_.now();
  std::string message;
  switch (options_.target.transport) {
    case SyslogTarget::Transport::kUnix:
      message = format_local(options_, notice, now, kMaxStreamMessage);
      break;
    case SyslogTarget::Transport::kUdp:
      message = format_rfc5424(options_, notice, now, kMaxUdpMessage);
      break;
    case SyslogTarget::Transport::kTcp:
      message = format_rfc5424(options_, notice, now, kMaxStreamMessage);
      break;
  }
  auto sent = send(message);
  if (!sent) return {Attempt::Outcome::kRetry, sent.error().to_string()};
  return {Attempt::Outcome::kDelivered, fmt::format("{} bytes", message.size())};
}

}  // namespace vigie::notify
