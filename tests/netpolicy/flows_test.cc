// Flow vocabulary: FTP announces, format detection, Zeek service names.
#include <gtest/gtest.h>

#include "vigie/netpolicy/flows.h"
#include "vigie/netpolicy/ftp.h"

namespace vigie::netpolicy {
namespace {

IpAddress ip(const char* text) { return *parse_ip(text); }

TEST(FtpAnnounceTest, PortAndEprtNameTheClientsDataAddress) {
  auto port = parse_ftp_client_line("PORT 10,1,2,3,195,80");
  ASSERT_TRUE(port);
  EXPECT_TRUE(port->active);
  EXPECT_EQ(*port->ip, ip("10.1.2.3"));
  EXPECT_EQ(port->port, 195 * 256 + 80);
  auto eprt = parse_ftp_client_line("eprt |2|2001:db8::7|6446|");
  ASSERT_TRUE(eprt);
  EXPECT_EQ(*eprt->ip, ip("2001:db8::7"));
  EXPECT_EQ(eprt->port, 6446);
  EXPECT_TRUE(parse_ftp_client_line("EPRT !1!10.0.0.1!21!").has_value());
}

TEST(FtpAnnounceTest, PassiveRepliesNameTheServersDataAddress) {
  auto pasv = parse_ftp_server_line("227 Entering Passive Mode (192,168,1,2,4,1).");
  ASSERT_TRUE(pasv);
  EXPECT_FALSE(pasv->active);
  EXPECT_EQ(*pasv->ip, ip("192.168.1.2"));
  EXPECT_EQ(pasv->port, 1025);
  auto bare = parse_ftp_server_line("227 Passive 1 ok =192,168,1,2,4,2");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 1026);
  auto epsv = parse_ftp_server_line("229 Entering Extended Passive Mode (|||40000|)");
  ASSERT_TRUE(epsv);
  EXPECT_FALSE(epsv->ip.has_value());
  EXPECT_EQ(epsv->port, 40000);
}

TEST(FtpAnnounceTest, MalformedAnnouncesAreIgnored) {
  for (const char* line :
       {"PORT 10,1,2,3,195", "PORT 10,1,2,300,1,1", "PORT 1,2,3,4,5,6,7", "EPRT |3|10.0.0.1|21|",
        "EPRT |1|fe80::1|21|", "EPRT |1|10.0.0.1|70000|", "USER anonymous", "PORT"}) {
    EXPECT_FALSE(parse_ftp_client_line(line)) << line;
  }
  for (const char* line : {"227 no numbers", "229 Entering (|||x|)", "229 (||)", "200 PORT ok"}) {
    EXPECT_FALSE(parse_ftp_server_line(line)) << line;
  }
}

TEST(FlowFormatTest, DetectedFromTheFirstBytes) {
  EXPECT_EQ(detect_flow_format(std::string_view("\xd4\xc3\xb2\xa1\x02\x00", 6)), FlowFormat::kPcap);
  EXPECT_EQ(detect_flow_format(std::string_view("\x0a\x0d\x0d\x0a", 4)), FlowFormat::kPcap);
  EXPECT_EQ(detect_flow_format("<?xml version=\"1.0\"?><nmaprun>"), FlowFormat::kNmap);
  EXPECT_EQ(detect_flow_format("#separator \\x09\n#set_separator\t,"), FlowFormat::kZeek);
  EXPECT_EQ(detect_flow_format("\n{\"ts\":1.0}"), FlowFormat::kZeek);
  EXPECT_FALSE(detect_flow_format("vendor,product\n"));
  EXPECT_FALSE(detect_flow_format(""));
}

TEST(FlowFormatTest, ZeekServiceListsNameTheOuterProtocol) {
  EXPECT_EQ(parse_zeek_service("ftp-data"), AppProtocol::kFtpData);
  EXPECT_EQ(parse_zeek_service("ssl,http"), AppProtocol::kTls);
  EXPECT_EQ(parse_zeek_service("http,ssl"), AppProtocol::kTls);
  EXPECT_EQ(parse_zeek_service("rfb"), AppProtocol::kVnc);
  EXPECT_EQ(parse_zeek_service("-"), AppProtocol::kUnknown);
  EXPECT_EQ(parse_zeek_service("modbus"), AppProtocol::kOther);
  EXPECT_TRUE(is_cleartext(AppProtocol::kFtpData));
  EXPECT_FALSE(is_cleartext(AppProtocol::kVncTls));
}

}  // namespace
}  // namespace vigie::netpolicy
