// Zeek conn.log reader: the fixture in TSV and JSON, columns by name, states, bad input.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"
#include "vigie/netpolicy/zeek.h"

namespace vigie::netpolicy {
namespace {

struct Collect : FlowSink {
  std::vector<Flow> flows;
  void flow(const Flow& f) override { flows.push_back(f); }
};

IpAddress ip(const char* text) { return *parse_ip(text); }

std::string fixture_text() {
  std::ifstream in(testing::fixture("scans/conn.log"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fixture's five records, as Zeek's JSON writer prints them.
constexpr const char* kFixtureJson =
    R"({"ts":1329843175.736107,"uid":"arKYeMETxOg","id.orig_h":"141.142.220.235","id.orig_p":37604,"id.resp_h":"199.233.217.249","id.resp_p":56666,"proto":"tcp","service":"ftp-data","duration":0.112432,"orig_bytes":0,"resp_bytes":342,"conn_state":"SF","missed_bytes":0,"history":"ShAdfFa","orig_pkts":4,"orig_ip_bytes":216,"resp_pkts":4,"resp_ip_bytes":562,"tunnel_parents":[]}
{"ts":1329843179.871641,"uid":"k6kgXLOoSKl","id.orig_h":"141.142.220.235","id.orig_p":59378,"id.resp_h":"199.233.217.249","id.resp_p":56667,"proto":"tcp","service":"ftp-data","duration":0.111218,"orig_bytes":0,"resp_bytes":77,"conn_state":"SF","orig_pkts":4,"resp_pkts":4}
{"ts":1329843194.151526,"uid":"nQcgTWjvg4c","id.orig_h":"199.233.217.249","id.orig_p":61920,"id.resp_h":"141.142.220.235","id.resp_p":33582,"proto":"tcp","service":"ftp-data","duration":0.056211,"orig_bytes":342,"resp_bytes":0,"conn_state":"SF","orig_pkts":5,"resp_pkts":3}
{"ts":1329843197.783443,"uid":"j4u32Pc5bif","id.orig_h":"199.233.217.249","id.orig_p":61918,"id.resp_h":"141.142.220.235","id.resp_p":37835,"proto":"tcp","service":"ftp-data","duration":0.056005,"orig_bytes":77,"resp_bytes":0,"conn_state":"SF","orig_pkts":5,"resp_pkts":3}

{"ts":1329843161.968492,"uid":"UWkUyAuUGXf","id.orig_h":"141.142.220.235","id.orig_p":50003,"id.resp_h":"199.233.217.249","id.resp_p":21,"proto":"tcp","service":"ftp","duration":38.055625,"orig_bytes":180,"resp_bytes":3146,"conn_state":"SF","local_orig":null,"orig_pkts":38,"resp_pkts":25}
)";

void expect_fixture_flows(const std::vector<Flow>& flows) {
  ASSERT_EQ(flows.size(), 5u);
  const Flow& first = flows[0];
  EXPECT_EQ(first.src, ip("141.142.220.235"));
  EXPECT_EQ(first.dst, ip("199.233.217.249"));
  EXPECT_EQ(first.src_port, 37604);
  EXPECT_EQ(first.dst_port, 56666);
  EXPECT_EQ(first.protocol, Protocol::kTcp);
  EXPECT_EQ(first.state, FlowState::kEstablished);
  EXPECT_EQ(first.app, AppProtocol::kFtpData);
  EXPECT_EQ(first.bytes, 342u);
  EXPECT_EQ(first.packets, 8u);
  EXPECT_EQ(first.first_us, 1329843175736107);
  EXPECT_EQ(first.last_us, 1329843175736107 + 112432);
  EXPECT_EQ(flows[2].src, ip("199.233.217.249"));  // active mode: the server connects
  EXPECT_EQ(flows[2].dst_port, 33582);
  EXPECT_EQ(flows[4].app, AppProtocol::kFtp);
  EXPECT_EQ(flows[4].dst_port, 21);
  EXPECT_EQ(flows[4].bytes, 180u + 3146u);
}

TEST(ZeekTest, FixtureTsvGivesTheFtpSessionAndItsDataChannels) {
  Collect sink;
  auto stats = read_zeek_conn(testing::fixture("scans/conn.log"), sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->records, 5u);
  expect_fixture_flows(sink.flows);
}

TEST(ZeekTest, FixtureJsonLinesGiveTheSameFlows) {
  Collect sink;
  auto stats = read_zeek_conn(kFixtureJson, "conn.json", sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  expect_fixture_flows(sink.flows);
}

TEST(ZeekTest, ColumnsAreFoundByNameWithTheDeclaredSeparatorAndUnsetField) {
  std::string log =
      "#separator \\x7c\n#unset_field|?\n#empty_field|(none)\n#path|conn\n"
      "#fields|proto|id.resp_p|id.resp_h|id.orig_p|id.orig_h|conn_state|service|vlan\n"
      "#types|enum|port|addr|port|addr|string|string|int\n"
      "udp|514|10.1.2.3|40000|10.1.9.9|S0|?|110\n"
      "tcp|445|fe80::1|50000|fe80::2|REJ|(none)|?\n";
  Collect sink;
  auto stats = read_zeek_conn(log, "pipe.log", sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  ASSERT_EQ(sink.flows.size(), 2u);
  EXPECT_EQ(sink.flows[0].protocol, Protocol::kUdp);
  EXPECT_EQ(sink.flows[0].dst, ip("10.1.2.3"));
  EXPECT_EQ(sink.flows[0].src_port, 40000);
  EXPECT_EQ(sink.flows[0].state, FlowState::kAttempted);
  EXPECT_EQ(sink.flows[0].app, AppProtocol::kUnknown);
  EXPECT_EQ(sink.flows[0].vlan, 110);
  EXPECT_EQ(sink.flows[1].dst, ip("fe80::1"));
  EXPECT_EQ(sink.flows[1].state, FlowState::kRejected);
  EXPECT_FALSE(sink.flows[1].vlan.has_value());
  EXPECT_EQ(sink.flows[1].first_us, 0);  // no ts column
}

struct BadLog {
  const char* name;
  std::string text;
  const char* where;
  const char* reason;
};

class ZeekBadInputTest : public ::testing::TestWithParam<BadLog> {};

const std::string kHeader =
    "#separator "
    "\\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n";

TEST_P(ZeekBadInputTest, IsRefusedWithItsPosition) {
  Collect sink;
  auto stats = read_zeek_conn(GetParam().text, "bad.log", sink);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where, GetParam().where);
  EXPECT_NE(stats.error().message.find(GetParam().reason), std::string::npos)
      << stats.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ZeekBadInputTest,
    ::testing::Values(
        BadLog{"address", kHeader + "1.0\t10.0.0.1\t1\t10.0.0.300\t2\ttcp\tSF\n",
               "bad.log:3 column 'id.resp_h'", "'10.0.0.300' is not an IP address"},
        BadLog{"port",
               kHeader + "1.0\t10.0.0.1\t1\t10.0.0.3\t2\ttcp\tSF\n1.0\t10.0.0.1\t70000\t10.0.0."
                         "3\t2\ttcp\tSF\n",
               "bad.log:4 column 'id.orig_p'", "not a port number"},
        BadLog{"columns", kHeader + "1.0\t10.0.0.1\t1\n", "bad.log:3",
               "3 columns, #fields names 7"},
        BadLog{"state", kHeader + "1.0\t10.0.0.1\t1\t10.0.0.3\t2\ttcp\tXX\n",
               "bad.log:3 column 'conn_state'", "conn_state"},
        BadLog{"time", kHeader + "yesterday\t10.0.0.1\t1\t10.0.0.3\t2\ttcp\tSF\n",
               "bad.log:3 column 'ts'", "not a time"},
        BadLog{"proto", kHeader + "1.0\t10.0.0.1\t1\t10.0.0.3\t2\tsctp\tSF\n",
               "bad.log:3 column 'proto'", "tcp, udp or icmp"},
        BadLog{"required", kHeader + "1.0\t10.0.0.1\t-\t10.0.0.3\t2\ttcp\tSF\n",
               "bad.log:3 column 'id.orig_p'", "required"},
        BadLog{"no fields", "#separator \\x09\n1.0\t10.0.0.1\n", "bad.log:2",
               "record before the #fields header"},
        BadLog{"missing column", "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tproto\n",
               "bad.log:1", "no 'id.resp_p' column"},
        BadLog{"other log", "#separator \\x09\n#path\tdns\n", "bad.log:2", "a 'dns' log"},
        BadLog{"types", kHeader + "#types\ttime\taddr\n", "bad.log:3", "#types names 2 columns"},
        BadLog{
            "json",
            std::string(
                R"({"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"tcp"})") +
                "\n{\"ts\": 1.0,\n",
            "bad.log:2", "malformed JSON"},
        BadLog{
            "json type",
            R"({"id.orig_h":"10.0.0.1","id.orig_p":[1],"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"tcp"})",
            "bad.log:1 column 'id.orig_p'", "a string or a number"},
        BadLog{"not zeek", "vendor,product\n", "bad.log:1", "not a Zeek conn.log"},
        BadLog{"long line", kHeader + std::string(kMaxZeekLine + 1, 'x'), "bad.log:3",
               "line longer than"},
        BadLog{"empty", "", "bad.log", "empty file"}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n) {
        if (c == ' ') c = '_';
      }
      return n;
    });

TEST(ZeekTest, LargeFileIsStreamedAcrossReadChunks) {
  testing::TempDir dir;
  auto path = dir / "big.log";
  std::string text = kHeader;
  constexpr int kLines = 30000;  // about 1.5 MiB: records straddle the 1 MiB read chunk
  for (int i = 0; i < kLines; ++i) {
    text += fmt::format("{}.5\t10.0.{}.{}\t{}\t10.9.0.1\t443\ttcp\tSF\n", 1700000000 + i, i / 250,
                        i % 250, 1024 + i);
  }
  testing::write_file(path, text);
  Collect sink;
  auto stats = read_zeek_conn(path, sink);
  ASSERT_TRUE(stats) << stats.error().to_string();
  ASSERT_EQ(sink.flows.size(), static_cast<size_t>(kLines));
  EXPECT_EQ(stats->bytes, text.size());
  EXPECT_EQ(sink.flows.back().src_port, 1024 + kLines - 1);
  EXPECT_EQ(sink.flows.back().first_us, (1700000000LL + kLines - 1) * 1000000 + 500000);
}

TEST(ZeekTest, BadLineInAFileNamesTheFileAndLine) {
  testing::TempDir dir;
  auto path = dir / "conn.log";
  testing::write_file(path, fixture_text() + "1.0\t-\n");
  Collect sink;
  auto stats = read_zeek_conn(path, sink);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where, path.string() + ":15");
}

}  // namespace
}  // namespace vigie::netpolicy
