// Syslog to sockets the test listens on, as a collector would: the exact RFC 5424 bytes over
// UDP, RFC 6587 octet-counting frames over TCP (reconnecting when the collector closed), and
// the syslog(3) form on a local datagram socket.
#include "vigie/notify/syslog.h"

#include <gtest/gtest.h>

#include "notify_test_support.h"

namespace vigie::notify {
namespace {

using testing::Listener;

const core::TimePoint kAt = core::parse_utc("2026-11-26T01:02:03.045Z").value();

Notice alert() {
  Notice n;
  n.id = 42;
  n.kind = "backup.stale";
  n.severity = Severity::kWarning;
  n.object = "system:12";
  n.subject = "PACS: last good backup is 3 days old";
  n.body = "RPO 24 h.\nLast: 2026-11-23.";
  n.channel = ChannelKind::kSyslog;
  return n;
}

SyslogOptions options(SyslogTarget::Transport transport, std::uint16_t port) {
  SyslogOptions o;
  o.target.transport = transport;
  o.target.host = "127.0.0.1";
  o.target.port = port;
  o.facility = 16;  // local0
  o.hostname = "vigie-host";
  o.procid = "4242";
  return o;
}

const std::string kExpected =
    "<132>1 2026-11-26T01:02:03.045Z vigie-host vigie 4242 backup.stale "
    "[vigie@32473 kind=\"backup.stale\" object=\"system:12\" notice=\"42\"] "
    "\xEF\xBB\xBFPACS: last good backup is 3 days old - RPO 24 h. Last: 2026-11-23.";

TEST(Syslog, UdpDatagramIsExactlyTheRfc5424Message) {
  Listener collector(SOCK_DGRAM);
  core::ManualClock clock(kAt);
  SyslogChannel channel(options(SyslogTarget::Transport::kUdp, collector.port()), clock);
  auto attempt = channel.deliver(alert());
  ASSERT_EQ(attempt.outcome, Attempt::Outcome::kDelivered) << attempt.detail;
  EXPECT_EQ(collector.receive(), kExpected);  // PRI 132 = local0 (16) * 8 + warning (4)
}

TEST(Syslog, PriIsFacilityTimesEightPlusSeverity) {
  struct Case {
    int facility;
    Severity severity;
    std::string pri;
  };
  for (const auto& c : {Case{0, Severity::kCritical, "<2>"}, Case{3, Severity::kError, "<27>"},
                        Case{4, Severity::kNotice, "<37>"}, Case{23, Severity::kInfo, "<190>"}}) {
    auto o = options(SyslogTarget::Transport::kUdp, 514);
    o.facility = c.facility;
    Notice n = alert();
    n.severity = c.severity;
    EXPECT_TRUE(format_rfc5424(o, n, kAt, 2048).starts_with(c.pri + "1 ")) << c.pri;
  }
}

TEST(Syslog, StructuredDataValuesAreEscapedAndMessageIsCutOnUtf8Boundary) {
  auto o = options(SyslogTarget::Transport::kUdp, 514);
  Notice n = alert();
  n.object = R"(share "x\y" [a])";
  n.body = std::string(3000, 'e') + "é";
  const std::string m = format_rfc5424(o, n, kAt, 200);
  EXPECT_NE(m.find(R"(object="share \"x\\y\" [a\]")"), std::string::npos) << m;
  EXPECT_LE(m.size(), 200u);

  n.body.clear();
  n.subject = "ééééé";  // 10 bytes: cut inside the third character
  const std::string head = format_rfc5424(o, n, kAt, 0);
  const std::string cut = format_rfc5424(o, n, kAt, head.size() + 5);
  EXPECT_EQ(cut.substr(head.size()), "éé");
}

TEST(Syslog, TcpUsesOctetCountingFramesAndReconnects) {
  Listener collector(SOCK_STREAM);
  core::ManualClock clock(kAt);
  SyslogChannel channel(options(SyslogTarget::Transport::kTcp, collector.port()), clock);
  Notice second = alert();
  second.id = 43;
  second.subject = "Restore test overdue";
  second.body.clear();
  ASSERT_EQ(channel.deliver(alert()).outcome, Attempt::Outcome::kDelivered);
  ASSERT_EQ(channel.deliver(second).outcome, Attempt::Outcome::kDelivered);

  const int conn = ::accept(collector.fd(), nullptr, nullptr);
  ASSERT_GE(conn, 0);
  const std::string m2 =
      format_rfc5424(options(SyslogTarget::Transport::kTcp, 0), second, kAt, kMaxStreamMessage);
  const std::string frames =
      std::to_string(kExpected.size()) + " " + kExpected + std::to_string(m2.size()) + " " + m2;
  EXPECT_EQ(testing::read_stream(conn, frames.size()), frames);

  // The collector restarts: the next notice goes over a new connection.
  ::close(conn);
  ASSERT_EQ(channel.deliver(alert()).outcome, Attempt::Outcome::kDelivered);
  const int again = ::accept(collector.fd(), nullptr, nullptr);
  ASSERT_GE(again, 0);
  const std::string frame = std::to_string(kExpected.size()) + " " + kExpected;
  EXPECT_EQ(testing::read_stream(again, frame.size()), frame);
  ::close(again);
}

TEST(Syslog, UnreachableTcpCollectorIsARetry) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // bound, not listening: refused
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  core::ManualClock clock(kAt);
  SyslogChannel channel(options(SyslogTarget::Transport::kTcp, ntohs(a.sin_port)), clock);
  auto attempt = channel.deliver(alert());
  ::close(fd);
  EXPECT_EQ(attempt.outcome, Attempt::Outcome::kRetry);
  EXPECT_NE(attempt.detail.find("cannot connect"), std::string::npos) << attempt.detail;
}

TEST(Syslog, LocalSocketGetsTheSyslog3Form) {
  vigie::testing::TempDir dir;
  const std::string path = (dir / "log").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  core::ManualClock clock(kAt);
  SyslogOptions o = options(SyslogTarget::Transport::kUnix, 0);
  o.target = parse_syslog_target("unix:" + path).value();
  SyslogChannel channel(o, clock);
  ASSERT_EQ(channel.deliver(alert()).outcome, Attempt::Outcome::kDelivered);
  std::array<char, 4096> buf{};
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf.data(), static_cast<size_t>(n)),
            "<132>Nov 26 01:02:03 vigie[4242]: [backup.stale system:12 notice=42] PACS: last "
            "good backup is 3 days old - RPO 24 h. Last: 2026-11-23.");
}

TEST(Syslog, TargetsAndFacilitiesParse) {
  auto udp = parse_syslog_target("udp://127.0.0.1:5514");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->transport, SyslogTarget::Transport::kUdp);
  EXPECT_EQ(udp->host, "127.0.0.1");
  EXPECT_EQ(udp->port, 5514);
  auto tcp = parse_syslog_target("tcp://[::1]");
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->host, "::1");
  EXPECT_EQ(tcp->port, 514);
  auto local = parse_syslog_target("local");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->path, "/dev/log");
  for (const char* bad : {"syslog.example:514", "udp://", "udp://h:0", "udp://h:70000",
                          "tcp://h:51x", "tcp://[::1", "unix:"}) {
    EXPECT_FALSE(parse_syslog_target(bad)) << bad;
  }
  EXPECT_EQ(parse_facility("daemon").value(), 3);
  EXPECT_EQ(parse_facility("local7").value(), 23);
  EXPECT_FALSE(parse_facility("local8"));
}

}  // namespace
}  // namespace vigie::notify
