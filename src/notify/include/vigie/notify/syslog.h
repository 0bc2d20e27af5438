// Syslog: RFC 5424 messages to a collector over UDP (RFC 5426) or TCP with octet-counting
// framing (RFC 6587 3.4.1), or to the local syslog socket (/dev/log) in the format syslog(3)
// writes there, which journald and rsyslog's imuxsock parse. The PRI is facility * 8 +
// severity; structured data carries the notice's kind, object and id.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/notice.h"

namespace vigie::notify {

using core::Result;
using core::Status;

struct SyslogTarget {
  enum class Transport { kUdp, kTcp, kUnix };
  Transport transport = Transport::kUdp;
  std::string host;  // udp, tcp
  std::uint16_t port = 514;
  std::string path;  // unix
};

// "udp://HOST[:PORT]", "tcp://HOST[:PORT]" (IPv6 as [::1]), "local" (/dev/log), "unix:PATH".
Result<SyslogTarget> parse_syslog_target(std::string_view text);
// "daemon" -> 3, "local0" -> 16... (RFC 5424 table 1).
Result<int> parse_facility(std::string_view name);

// SD-ID of Vigie's structured data: name@enterprise number. 32473 is the number RFC 5612
// reserves for examples; a registered number replaces it when Vigie gets one.
inline constexpr std::string_view kSdId = "vigie@32473";

struct SyslogOptions {
  SyslogTarget target;
  int facility = 3;      // daemon
  std::string hostname;  // empty: this host's name
  std::string app_name = "vigie";
  std::string procid;  // empty: this process's id
  std::chrono::milliseconds timeout{10000};
};

// The RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG, at most
// `max_bytes` long (MSG is cut on a UTF-8 boundary).
std::string format_rfc5424(const SyslogOptions& options, const Notice& notice, core::TimePoint at,
                           size_t max_bytes);
// The local form: <PRI>Mmm dd hh:mm:ss APP-NAME[PROCID]: [kind object notice] MSG (UTC).
std::string format_local(const SyslogOptions& options, const Notice& notice, core::TimePoint at,
                         size_t max_bytes);

// Largest message sent: RFC 5426 asks every receiver to take 2048 octets over UDP; TCP and the
// local socket take 8192 here.
inline constexpr size_t kMaxUdpMessage = 2048;
inline constexpr size_t kMaxStreamMessage = 8192;

// The syslog channel of the outbox. A TCP connection is kept across notices and opened again
// when the collector closed it.
class SyslogChannel final : public Channel {
 public:
  SyslogChannel(SyslogOptions options, const core::Clock& clock);
  ~SyslogChannel() override;
  SyslogChannel(const SyslogChannel&) = delete;
  SyslogChannel& operator=(const SyslogChannel&) = delete;
  Attempt deliver(const Notice& notice) override;

  // Sends one already formatted message (the tests' and `notify test`'s way in).
  Status send(std::string_view message);

 private:
  SyslogOptions options_;
  const core::Clock& clock_;
  int tcp_fd_ = -1;
};

}  // namespace vigie::notify
