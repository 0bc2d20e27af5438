// Vendors' port tables in CSV and YAML: rows into intents, the letters' own column styles,
// cleartext by default, peers, and refusals that name file, line (and column) and reason.
#include "vigie/netpolicy/port_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace vigie::netpolicy {
namespace {

using testing::TempDir;

Result<Profile> read_csv_text(const TempDir& dir, const std::string& text) {
  auto path = dir / "table.csv";
  testing::write_file(path, text);
  return read_port_table_csv(path);
}

TEST(PortTableCsv, ReadsRowsWithProvenanceAndDefaults) {
  TempDir dir;
  auto p = read_csv_text(dir,
                         "vendor,product,direction,peer,protocol,ports,purpose,row,quote\n"
                         "Acme,Scanner 3,to-device,pacs,TCP,\"80, 4440\",Web,Annex row 1,80 TCP\n"
                         "Acme,Scanner 3,from-device,10.1.2.0/24,TCP&UDP,137-139,SMB,,\n");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->name, "acme-scanner-3");
  EXPECT_EQ(p->vendor, "Acme");
  EXPECT_EQ(p->source, (dir / "table.csv").string());
  ASSERT_EQ(p->intents.size(), 3U);
  const Intent& web = p->intents[0];
  EXPECT_EQ(web.direction, Direction::kToDevice);
  EXPECT_EQ(web.peer, (Peer{PeerKind::kRole, "pacs"}));
  EXPECT_EQ(format_ports(web.ports), "80,4440");
  EXPECT_TRUE(web.cleartext);  // HTTP 80
  EXPECT_EQ(web.provenance.locator, "Annex row 1");
  EXPECT_EQ(web.provenance.quote, "80 TCP");
  EXPECT_EQ(web.provenance.document, (dir / "table.csv").string());
  EXPECT_EQ(p->intents[1].protocol, Protocol::kTcp);
  EXPECT_EQ(p->intents[2].protocol, Protocol::kUdp);
  EXPECT_EQ(p->intents[2].peer, (Peer{PeerKind::kCidr, "10.1.2.0/24"}));
  EXPECT_FALSE(p->intents[2].cleartext);
  // Without a quote column value the row is kept as it was written.
  EXPECT_EQ(p->intents[1].provenance.locator, "line 3");
  EXPECT_EQ(p->intents[1].provenance.quote,
            "Acme,Scanner 3,from-device,10.1.2.0/24,TCP&UDP,137-139,SMB,,");
}

TEST(PortTableCsv, AcceptsTheLettersInboundOutboundColumns) {
  TempDir dir;
  auto p = read_csv_text(dir,
                         "Vendor;Product;Inbound;OutBound;Peer;Protocol;Ports;Usage purpose\n"
                         "Philips;Essenta;Y;N;pacs;TCP;3010;DICOM\n"
                         "Philips;Essenta;Y;Y;ntp;UDP;123;time\n"
                         "Philips;Essenta;;y;syslog;udp;514;audit\n");
  // "Usage purpose" is not a column name: refused, position of the header cell.
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().where, (dir / "table.csv").string() + ":1:column 8");
  p = read_csv_text(dir,
                    "Vendor;Product;Inbound;OutBound;Peer;Protocol;Ports;Purpose\n"
                    "Philips;Essenta;Y;N;pacs;TCP;3010;DICOM\n"
                    "Philips;Essenta;Y;Y;ntp;UDP;123;time\n"
                    "Philips;Essenta;;y;syslog;udp;514;audit\n");
  ASSERT_TRUE(p) << p.error().to_string();
  ASSERT_EQ(p->intents.size(), 4U);
  EXPECT_EQ(p->intents[0].direction, Direction::kToDevice);
  EXPECT_EQ(p->intents[1].direction, Direction::kToDevice);
  EXPECT_EQ(p->intents[2].direction, Direction::kFromDevice);
  EXPECT_EQ(p->intents[3].direction, Direction::kFromDevice);
  EXPECT_EQ(p->intents[3].peer.value, "syslog");
}

struct BadCsv {
  const char* name;
  const char* rows;   // after the header
  const char* where;  // after the file name
  const char* reason;
};

TEST(PortTableCsv, RefusesBadRowsNamingLineColumnAndReason) {
  const std::vector<BadCsv> cases = {
      {"bad port", "Acme,X,to-device,pacs,TCP,80;90000,a\n", ":2:column 6",
       "column 'ports': '90000' is not a port or a port range"},
      {"bad protocol", "Acme,X,to-device,pacs,SCTP,80,a\n", ":2:column 5",
       "column 'protocol': 'SCTP' is not TCP, UDP, ICMP, any or TCP&UDP"},
      {"bad direction", "Acme,X,sideways,pacs,TCP,80,a\n", ":2:column 3",
       "column 'direction': 'sideways' is not to-device"},
      {"bad peer", "Acme,X,to-device,pa cs!,TCP,80,a\n", ":2:column 4", "column 'peer': 'pa cs!'"},
      {"missing peer", "Acme,X,to-device,,TCP,80,a\n", ":2", "column 'peer' is missing"},
      {"missing ports", "Acme,X,to-device,pacs,TCP,,a\n", ":2", "column 'ports' is missing"},
      {"vendor differs", "Acme,X,to-device,pacs,TCP,80,a\nOther,X,to-device,pacs,TCP,81,b\n",
       ":3:column 1", "column 'vendor': 'Other' differs from 'Acme'"},
      {"short row", "Acme,X,to-device,pacs,TCP\n", ":2",
       "expected 7 fields as in the header, found 5"},
      {"no rows", "", ":2", "no rows after the header"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    auto p = read_csv_text(
        dir, std::string("vendor,product,direction,peer,protocol,ports,purpose\n") + c.rows);
    ASSERT_FALSE(p) << c.name;
    EXPECT_EQ(p.error().where, (dir / "table.csv").string() + c.where) << c.name;
    EXPECT_NE(p.error().message.find(c.reason), std::string::npos)
        << c.name << ": " << p.error().message;
  }
}

constexpr const char* kYaml = R"(name: acme-x
vendor: Acme
product: X
versions: "vers:generic/<3.0"
document: Acme manual, table 4
intents:
  - direction: to-device
    peer: vendor-remote-service
    protocol: TCP
    ports: "5900"
    purpose: VNC
    row: table 4 row 1
    quote: "5900 TCP VNC"
  - outbound: Y
    peer: ntp.example.org
    protocol: UDP
    ports: [123]
  - direction: from-device
    peer: my-controller
    protocol: TCP
    ports: ">1023"
    source_ports: "1024-2047"
    cleartext: yes
)";

TEST(PortTableYaml, ReadsRowsWithProvenance) {
  auto p = read_port_table_yaml(kYaml, "acme.yaml");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->name, "acme-x");
  EXPECT_EQ(p->versions, "vers:generic/<3.0");
  EXPECT_EQ(p->source, "Acme manual, table 4");
  ASSERT_EQ(p->intents.size(), 3U);
  EXPECT_TRUE(p->intents[0].cleartext);  // VNC
  EXPECT_EQ(p->intents[0].provenance.document, "Acme manual, table 4");
  EXPECT_EQ(p->intents[0].provenance.locator, "table 4 row 1");
  EXPECT_EQ(p->intents[1].peer, (Peer{PeerKind::kDnsName, "ntp.example.org"}));
  EXPECT_EQ(p->intents[1].direction, Direction::kFromDevice);
  EXPECT_EQ(p->intents[1].provenance.locator, "row 2");
  EXPECT_EQ(p->intents[2].peer.kind, PeerKind::kMyController);
  EXPECT_EQ(format_ports(p->intents[2].ports), "1024-65535");
  EXPECT_EQ(format_ports(p->intents[2].source_ports), "1024-2047");
  EXPECT_TRUE(p->intents[2].cleartext);  // given, not derived
}

TEST(PortTableYaml, WrittenProfileReadsBackTheSame) {
  auto p = read_port_table_yaml(kYaml, "acme.yaml");
  ASSERT_TRUE(p);
  const std::string text = write_port_table_yaml(*p);
  auto again = read_port_table_yaml(text, "again.yaml");
  ASSERT_TRUE(again) << again.error().to_string() << "\n" << text;
  EXPECT_EQ(write_port_table_yaml(*again), text);
  ASSERT_EQ(again->intents.size(), p->intents.size());
  for (size_t i = 0; i < p->intents.size(); ++i) {
    const Intent& a = p->intents[i];
    const Intent& b = again->intents[i];
    EXPECT_EQ(a.direction, b.direction);
    EXPECT_EQ(a.peer, b.peer);
    EXPECT_EQ(a.protocol, b.protocol);
    EXPECT_EQ(a.ports, b.ports);
    EXPECT_EQ(a.source_ports, b.source_ports);
    EXPECT_EQ(a.purpose, b.purpose);
    EXPECT_EQ(a.cleartext, b.cleartext);
    EXPECT_EQ(a.provenance.document, b.provenance.document);
    EXPECT_EQ(a.provenance.locator, b.provenance.locator);
    EXPECT_EQ(a.provenance.quote, b.provenance.quote);
  }
}

struct BadYaml {
  const char* name;
  const char* text;
  const char* where;
  const char* reason;
};

TEST(PortTableYaml, RefusesBadInputNamingLineColumnKeyAndReason) {
  const std::vector<BadYaml> cases = {
      {"bad port",
       "vendor: A\nproduct: B\nintents:\n  - direction: to-device\n    peer: pacs\n"
       "    protocol: TCP\n    ports: \"80, x\"\n",
       "t.yaml:7:12", "key 'ports': 'x' is not a port or a port range"},
      {"unknown key",
       "vendor: A\nproduct: B\nintents:\n  - direction: to-device\n    peer: pacs\n"
       "    protocol: TCP\n    port: 80\n",
       "t.yaml:7:5", "key 'port': unknown key"},
      {"duplicate key", "vendor: A\nvendor: B\nproduct: B\nintents: []\n", "t.yaml:2:1",
       "key 'vendor': appears twice"},
      {"no vendor",
       "product: B\nintents:\n  - {direction: to-device, peer: a, protocol: tcp, "
       "ports: any}\n",
       "t.yaml:1:1", "key 'vendor' is missing"},
      {"no intents", "vendor: A\nproduct: B\n", "t.yaml:1:1", "key 'intents' is missing"},
      {"mapping value", "vendor: {a: 1}\nproduct: B\nintents: []\n", "t.yaml:1:9",
       "key 'vendor': expected a value, found a mapping"},
      {"malformed", "vendor: A\nproduct: [B\n", "t.yaml:", "malformed YAML"},
      {"not a mapping", "- a\n- b\n", "t.yaml:1:1", "the document must be a mapping"},
      {"bad versions", "vendor: A\nproduct: B\nversions: 1.0\nintents: []\n", "t.yaml:3:11",
       "key 'versions': a version range is a vers string"},
      {"too deep",
       "vendor: "
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
       "t.yaml:1:1", "nested deeper than 32 levels"},
      {"invalid utf-8", "vendor: \xff\n", "t.yaml:1:9", "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto p = read_port_table_yaml(c.text, "t.yaml");
    ASSERT_FALSE(p) << c.name;
    EXPECT_TRUE(p.error().where.starts_with(c.where)) << c.name << ": " << p.error().where;
    EXPECT_NE(p.error().message.find(c.reason), std::string::npos)
        << c.name << ": " << p.error().message;
  }
}

TEST(PortTableYaml, BracketsInQuotedValuesAreNotNesting) {
  const std::string brackets(40, '[');
  const std::string text = "vendor: 'A''s " + brackets + "'\nproduct: \"B \\\" " + brackets +
                           "\"\nintents:\n  - {direction: to-device, peer: pacs, protocol: tcp, "
                           "ports: '80', purpose: \"x [\"}\n";
  auto p = read_port_table_yaml(text, "t.yaml");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->vendor, "A's " + brackets);
  EXPECT_EQ(p->product, "B \" " + brackets);
  auto again = read_port_table_yaml(write_port_table_yaml(*p), "again.yaml");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->vendor, p->vendor);
}

TEST(PortTable, CleartextByDefaultForFtpTelnetHttpVnc) {
  struct Case {
    Protocol protocol;
    const char* ports;
    bool cleartext;
  };
  const std::vector<Case> cases = {
      {Protocol::kTcp, "21", true},     {Protocol::kTcp, "20-21", true},
      {Protocol::kTcp, "23", true},     {Protocol::kTcp, "80, 4440", true},
      {Protocol::kTcp, "5900", true},   {Protocol::kTcp, "443", false},
      {Protocol::kTcp, ">1023", false}, {Protocol::kUdp, "21", false},
      {Protocol::kTcp, "104", false},
  };
  for (const auto& c : cases) {
    auto ports = parse_ports(c.ports);
    ASSERT_TRUE(ports);
    EXPECT_EQ(default_cleartext(c.protocol, *ports), c.cleartext) << c.ports;
  }
}

TEST(PortTable, PeersParseAndFormatBack) {
  struct Case {
    const char* text;
    PeerKind kind;
    const char* value;
    const char* formatted;
  };
  const std::vector<Case> cases = {
      {"PACS", PeerKind::kRole, "pacs", "pacs"},
      {"vendor-remote-service", PeerKind::kRole, "vendor-remote-service", "vendor-remote-service"},
      {"10.1.2.0/24", PeerKind::kCidr, "10.1.2.0/24", "10.1.2.0/24"},
      {"10.1.2.3", PeerKind::kCidr, "10.1.2.3", "10.1.2.3"},
      {"2001:db8::/32", PeerKind::kCidr, "2001:db8::/32", "2001:db8::/32"},
      {"pacs.example.org", PeerKind::kDnsName, "pacs.example.org", "pacs.example.org"},
      {"dns:pacs", PeerKind::kDnsName, "pacs", "dns:pacs"},
      {"local-networks", PeerKind::kLocalNetworks, "", "local-networks"},
      {"same-manufacturer", PeerKind::kSameManufacturer, "", "same-manufacturer"},
      {"my-controller", PeerKind::kMyController, "", "my-controller"},
      {"manufacturer:philips.com", PeerKind::kManufacturer, "philips.com",
       "manufacturer:philips.com"},
      {"controller:urn:ietf:params:mud:ntp", PeerKind::kController, "urn:ietf:params:mud:ntp",
       "controller:urn:ietf:params:mud:ntp"},
      {"any", PeerKind::kAny, "", "any"},
      // Prefixed when the bare value would read as something else.
      {"role:any", PeerKind::kRole, "any", "role:any"},
      {"dns:10.1.2.3", PeerKind::kDnsName, "10.1.2.3", "dns:10.1.2.3"},
  };
  for (const auto& c : cases) {
    auto peer = parse_peer(c.text);
    ASSERT_TRUE(peer) << c.text << ": " << peer.error().message;
    EXPECT_EQ(peer->kind, c.kind) << c.text;
    EXPECT_EQ(peer->value, c.value) << c.text;
    EXPECT_EQ(format_peer(*peer), c.formatted) << c.text;
  }
  for (const char* bad : {"", "pa cs", "10.1.2.3/16", "-pacs", "manufacturer:", "a..b"}) {
    EXPECT_FALSE(parse_peer(bad)) << bad;
  }
}

TEST(PortTable, SlugFromVendorAndProduct) {
  EXPECT_EQ(profile_slug("Philips", "Essenta DR Compact"), "philips-essenta-dr-compact");
  EXPECT_EQ(profile_slug(" Siemens Healthineers ", "MAGNETOM (VE11)"),
            "siemens-healthineers-magnetom-ve11");
}

}  // namespace
}  // namespace vigie::netpolicy
