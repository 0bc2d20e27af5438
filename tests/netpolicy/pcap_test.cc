// Capture reader: crafted captures (pcap through pcap_dump, and pcapng), VLAN tags, IPv6, TCP
// states, FTP data channels, VNC with and without TLS, bad files with their positions, and a
// real capture of loopback traffic made by tcpdump, checked against tshark.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "vigie/netpolicy/pcap.h"
#include "vigie/netpolicy/pcap_writer.h"

namespace vigie::netpolicy {
namespace {

namespace fs = std::filesystem;

struct Collect : FlowSink {
  std::vector<Flow> flows;
  void flow(const Flow& f) override { flows.push_back(f); }
  // The flow whose responder port is `port`.
  [[nodiscard]] const Flow* to_port(std::uint16_t port) const {
    auto it =
        std::find_if(flows.begin(), flows.end(), [&](const Flow& f) { return f.dst_port == port; });
    return it == flows.end() ? nullptr : &*it;
  }
};

IpAddress ip(const char* text) { return *parse_ip(text); }

PacketEnds ends(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                std::vector<std::uint16_t> vlans = {}) {
  return {ip(src), ip(dst), sport, dport, std::move(vlans)};
}

// An FTP session in both modes on VLAN 110: passive (PASV then EPSV) and active (PORT), each
// data connection on an ephemeral port; plus a refused and an unanswered connection, VNC in
// cleartext and over VeNCrypt, and one IPv6 HTTP request, untagged.
void write_hospital_capture(PcapWriter& w) {
  std::int64_t t = 1700000000000000;
  const char* pc = "10.1.110.5";
  const char* ftp = "10.1.150.20";
  std::vector<std::uint16_t> vlan{110};
  // Control connection, then its data connections (the control connection stays open).
  PacketEnds ctl = ends(pc, 50001, ftp, 21, vlan);
  w.tcp(ctl, kTcpSyn, {}, t += 10);
  w.tcp(ctl.reversed(), kTcpSyn | kTcpAck, {}, t += 10);
  w.tcp(ctl, kTcpAck, {}, t += 10);
  w.tcp(ctl.reversed(), kTcpPsh | kTcpAck, "220 Essenta FTP ready\r\n", t += 10);
  w.tcp(ctl, kTcpPsh | kTcpAck, "USER service\r\n", t += 10);
  w.tcp(ctl, kTcpPsh | kTcpAck, "PASV\r\n", t += 10);
  w.tcp(ctl.reversed(), kTcpPsh | kTcpAck, "227 Entering Passive Mode (10,1,150,20,195,80)\r\n",
        t += 10);
  w.tcp_session(ends(pc, 50002, ftp, 50000, vlan), {{false, std::string(1400, 'D')}}, t);
  w.tcp(ctl, kTcpPsh | kTcpAck, "PORT 10,1,110,5,200,10\r\n", t += 10);
  w.tcp(ctl.reversed(), kTcpPsh | kTcpAck, "200 PORT command successful\r\n", t += 10);
  w.tcp_session(ends(ftp, 20, pc, 51210, vlan), {{true, "STUDY-1.dcm"}}, t);
  w.tcp(ctl, kTcpPsh | kTcpAck, "EPSV\r\n", t += 10);
  w.tcp(ctl.reversed(), kTcpPsh | kTcpAck, "229 Entering Extended Passive Mode (|||40000|)\r\n",
        t += 10);
  w.tcp_session(ends(pc, 50003, ftp, 40000, vlan), {{false, "listing"}}, t);
  w.tcp(ctl, kTcpFin | kTcpAck, {}, t += 10);
  w.tcp(ctl.reversed(), kTcpFin | kTcpAck, {}, t += 10);
  w.tcp(ctl, kTcpAck, {}, t += 10);
  // Refused (RST to the SYN) and unanswered (SYN alone, retried), QinQ-tagged.
  PacketEnds smb = ends("10.2.0.7", 50010, pc, 445, {200, 110});
  w.tcp(smb, kTcpSyn, {}, t += 10);
  w.tcp(smb.reversed(), kTcpRst | kTcpAck, {}, t += 10);
  PacketEnds rdp = ends("10.2.0.7", 50011, pc, 3389, {200, 110});
  w.tcp(rdp, kTcpSyn, {}, t += 10);
  w.tcp(rdp, kTcpSyn, {}, t += 1000000);
  // VNC: the RFB banner in cleartext; then a session that chooses VeNCrypt (19).
  w.tcp_session(ends("10.3.0.9", 50020, pc, 5900),
                {{false, "RFB 003.008\n"},
                 {true, "RFB 003.008\n"},
                 {false, std::string("\x01\x02", 2)},
                 {true, std::string("\x02", 1)}},
                t);
  w.tcp_session(ends("10.3.0.9", 50021, pc, 5901),
                {{false, "RFB 003.008\n"},
                 {true, "RFB 003.008\n"},
                 {false, std::string("\x01\x13", 2)},
                 {true, std::string("\x13", 1)}},
                t);
  w.tcp_session(
      ends("2001:db8::5", 50030, "2001:db8::80", 80),
      {{true, "GET /worklist HTTP/1.1\r\nHost: ris\r\n\r\n"}, {false, "HTTP/1.1 200 OK\r\n"}}, t);
  w.udp(ends(pc, 40000, "10.9.0.1", 514, vlan), "<13>Essenta: exam done", t += 10);
}

class PcapFormatTest : public ::testing::TestWithParam<CaptureFormat> {};

TEST_P(PcapFormatTest, FlowsStatesVlansAndApplicationsAreRecognised) {
  testing::TempDir dir;
  auto path = dir / "hospital.cap";
  auto writer = PcapWriter::create(path, GetParam());
  ASSERT_TRUE(writer) << writer.error().to_string();
  write_hospital_capture(*writer);
  ASSERT_TRUE(writer->close());
  Collect sink;
  auto stats = read_pcap(path, sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->flows, sink.flows.size());
  ASSERT_EQ(sink.flows.size(), 10u);

  const Flow* control = sink.to_port(21);
  ASSERT_NE(control, nullptr);
  EXPECT_EQ(control->app, AppProtocol::kFtp);
  EXPECT_EQ(control->state, FlowState::kEstablished);
  EXPECT_EQ(control->src, ip("10.1.110.5"));
  EXPECT_EQ(control->vlan, 110);

  const Flow* passive = sink.to_port(50000);
  ASSERT_NE(passive, nullptr);
  EXPECT_EQ(passive->app, AppProtocol::kFtpData);
  EXPECT_EQ(passive->src, ip("10.1.110.5"));
  EXPECT_EQ(passive->bytes, 1400u);
  const Flow* active = sink.to_port(51210);
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->app, AppProtocol::kFtpData);
  EXPECT_EQ(active->src, ip("10.1.150.20"));  // active mode: the server connects from port 20
  EXPECT_EQ(active->src_port, 20);
  const Flow* extended = sink.to_port(40000);
  ASSERT_NE(extended, nullptr);
  EXPECT_EQ(extended->protocol, Protocol::kTcp);
  EXPECT_EQ(extended->app, AppProtocol::kFtpData);

  const Flow* smb = sink.to_port(445);
  ASSERT_NE(smb, nullptr);
  EXPECT_EQ(smb->state, FlowState::kRejected);
  EXPECT_EQ(smb->vlan, 200);  // the outer tag of QinQ
  const Flow* rdp = sink.to_port(3389);
  ASSERT_NE(rdp, nullptr);
  EXPECT_EQ(rdp->state, FlowState::kAttempted);
  EXPECT_EQ(rdp->packets, 2u);
  EXPECT_EQ(rdp->last_us - rdp->first_us, 1000000);

  EXPECT_EQ(sink.to_port(5900)->app, AppProtocol::kVnc);
  EXPECT_EQ(sink.to_port(5901)->app, AppProtocol::kVncTls);
  const Flow* http = sink.to_port(80);
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->app, AppProtocol::kHttp);
  EXPECT_FALSE(http->src.is_v4());
  EXPECT_EQ(http->src, ip("2001:db8::5"));
  const Flow* syslog = sink.to_port(514);
  ASSERT_NE(syslog, nullptr);
  EXPECT_EQ(syslog->protocol, Protocol::kUdp);
  EXPECT_EQ(syslog->state, FlowState::kEstablished);
}

INSTANTIATE_TEST_SUITE_P(Formats, PcapFormatTest,
                         ::testing::Values(CaptureFormat::kPcap, CaptureFormat::kPcapng),
                         [](const auto& info) {
                           return info.param == CaptureFormat::kPcap ? "pcap" : "pcapng";
                         });

TEST(PcapTest, TruncatedRecordIsRefusedWithPacketNumberAndOffset) {
  testing::TempDir dir;
  auto path = dir / "cut.pcap";
  auto writer = PcapWriter::create(path, CaptureFormat::kPcap);
  ASSERT_TRUE(writer);
  PacketEnds e = ends("10.0.0.1", 40000, "10.0.0.2", 80);
  writer->tcp(e, kTcpSyn, {}, 1000000);                       // 54-byte frame
  writer->tcp(e.reversed(), kTcpSyn | kTcpAck, {}, 2000000);  // 54-byte frame
  writer->tcp(e, kTcpAck | kTcpPsh, "GET / HTTP/1.0\r\n\r\n", 3000000);
  ASSERT_TRUE(writer->close());
  fs::resize_file(path, fs::file_size(path) - 10);
  Collect sink;
  auto stats = read_pcap(path, sink);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where,
            fmt::format("{}: packet 3 at byte offset {}", path.string(), 24 + 2 * (16 + 54)));
  EXPECT_NE(stats.error().message.find("unreadable packet record"), std::string::npos);
}

TEST(PcapTest, NotACaptureIsRefusedAtOffsetZero) {
  testing::TempDir dir;
  auto path = dir / "notes.txt";
  testing::write_file(path, "this is not a capture, just some text long enough\n");
  Collect sink;
  auto stats = read_pcap(path, sink);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where, path.string() + ": byte offset 0");
  EXPECT_NE(stats.error().message.find("not a pcap or pcapng capture"), std::string::npos);
}

TEST(PcapTest, UnsupportedLinkTypeIsRefused) {
  testing::TempDir dir;
  auto path = dir / "wifi.pcap";
  {
    std::unique_ptr<pcap_t, void (*)(pcap_t*)> dead(pcap_open_dead(DLT_IEEE802_11, 65535),
                                                    pcap_close);
    std::unique_ptr<pcap_dumper_t, void (*)(pcap_dumper_t*)> dumper(
        pcap_dump_open(dead.get(), path.c_str()), pcap_dump_close);
    ASSERT_TRUE(dumper);
  }
  Collect sink;
  auto stats = read_pcap(path, sink);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("link type 105"), std::string::npos);
}

TEST(PcapTest, TooManyOpenFlowsIsRefusedInsteadOfGrowingWithoutBound) {
  testing::TempDir dir;
  auto path = dir / "scan.pcap";
  auto writer = PcapWriter::create(path, CaptureFormat::kPcap);
  ASSERT_TRUE(writer);
  for (std::uint16_t port = 1; port <= 5; ++port) {
    writer->tcp(ends("10.0.0.1", 40000, "10.0.0.2", port), kTcpSyn, {}, 1000000 + port);
  }
  ASSERT_TRUE(writer->close());
  Collect sink;
  PcapOptions options;
  options.max_open_flows = 4;
  auto stats = read_pcap(path, sink, options);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where,
            fmt::format("{}: packet 5 at byte offset {}", path.string(), 24 + 4 * (16 + 54)));
  EXPECT_NE(stats.error().message.find("more than 4 flows open at once"), std::string::npos);
}

TEST(PcapTest, ShortAndNonIpFramesAreSkippedNotFatal) {
  testing::TempDir dir;
  auto path = dir / "mixed.pcap";
  auto writer = PcapWriter::create(path, CaptureFormat::kPcap);
  ASSERT_TRUE(writer);
  writer->raw(std::string(20, '\x01'), 1000000);  // ARP-sized garbage
  std::string arp(42, '\0');
  arp[12] = '\x08';
  arp[13] = '\x06';
  writer->raw(arp, 1000001);
  writer->udp(ends("10.0.0.1", 5353, "224.0.0.251", 5353), "q", 1000002);
  ASSERT_TRUE(writer->close());
  Collect sink;
  auto stats = read_pcap(path, sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->records, 3u);
  EXPECT_EQ(stats->skipped, 2u);
  ASSERT_EQ(sink.flows.size(), 1u);
  EXPECT_EQ(sink.flows[0].dst_port, 5353);
}

// A real FTP exchange (passive mode) and a refused connection on the loopback interface of a
// private network namespace, captured by tcpdump; tshark reads the same file.
constexpr const char* kExchange = R"PY(
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 21)); srv.listen(1)
data = socket.socket(); data.bind(("127.0.0.1", 0)); data.listen(1)
dport = data.getsockname()[1]
cli = socket.create_connection(("127.0.0.1", 21))
conn, _ = srv.accept()
conn.sendall(b"220 ready\r\n"); cli.recv(100)
cli.sendall(b"USER service\r\n"); conn.recv(100)
conn.sendall(b"331 password\r\n"); cli.recv(100)
cli.sendall(b"PASV\r\n"); conn.recv(100)
conn.sendall(("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n" % (dport >> 8, dport & 255)).encode())
reply = cli.recv(100).decode()
dc = socket.create_connection(("127.0.0.1", dport))
ds, _ = data.accept()
ds.sendall(b"x" * 5000); ds.close()
got = 0
while True:
    b = dc.recv(65536)
    if not b: break
    got += len(b)
dc.close()
cli.sendall(b"QUIT\r\n"); conn.recv(100); conn.close(); cli.close()
try:
    socket.create_connection(("127.0.0.1", 9))
except ConnectionRefusedError:
    pass
print(dport)
)PY";

TEST(PcapTest, RealLoopbackCaptureByTcpdumpGivesTheFtpDataChannel) {
  if (geteuid() != 0) GTEST_SKIP() << "capturing in a network namespace needs root";
  testing::TempDir dir;
  auto cap = dir / "lo.pcap";
  auto py = dir / "exchange.py";
  testing::write_file(py, kExchange);
  auto script = dir / "capture.sh";
  // tcpdump says "listening on" once its socket is open: the exchange starts only then. The
  // exchange ends with the refused connection; tcpdump is stopped once that RST is in the file.
  testing::write_file(script, R"SH(set -eu
cap=$1; py=$2; dir=$3
ip link set lo up
mkfifo "$dir/err"
tcpdump -Z root -U -n -i lo -w "$cap" tcp 2>"$dir/err" &
pid=$!
exec 3<"$dir/err"
read -r ready <&3
cat <&3 >/dev/null &
python3 "$py" > "$dir/port"
for i in $(seq 1 500); do
  if tcpdump -n -r "$cap" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | grep -q .; then break; fi
  sleep 0.01
done
kill "$pid"; wait "$pid" || true
)SH");
  std::string cmd = fmt::format("unshare -n sh {} {} {} {} >{} 2>&1", script.string(), cap.string(),
                                py.string(), dir.path().string(), (dir / "log").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << std::ifstream(dir / "log").rdbuf();
  int data_port = 0;
  std::ifstream(dir / "port") >> data_port;
  ASSERT_GT(data_port, 0);

  Collect sink;
  auto stats = read_pcap(cap, sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  ASSERT_EQ(sink.flows.size(), 3u);
  const Flow* control = sink.to_port(21);
  ASSERT_NE(control, nullptr);
  EXPECT_EQ(control->app, AppProtocol::kFtp);
  EXPECT_EQ(control->state, FlowState::kEstablished);
  const Flow* data = sink.to_port(static_cast<std::uint16_t>(data_port));
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->app, AppProtocol::kFtpData);
  EXPECT_EQ(data->state, FlowState::kEstablished);
  EXPECT_EQ(data->bytes, 5000u);
  const Flow* refused = sink.to_port(9);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->state, FlowState::kRejected);

  // tshark sees the same three TCP conversations.
  auto conv = dir / "conv.txt";
  std::string tshark =
      fmt::format("tshark -r {} -q -z conv,tcp > {} 2>/dev/null", cap.string(), conv.string());
  ASSERT_EQ(std::system(tshark.c_str()), 0);
  std::ifstream in(conv);
  std::string line;
  int conversations = 0;
  while (std::getline(in, line)) {
    if (line.find("<->") != std::string::npos) ++conversations;
  }
  EXPECT_EQ(conversations, 3);
}

}  // namespace
}  // namespace vigie::netpolicy
