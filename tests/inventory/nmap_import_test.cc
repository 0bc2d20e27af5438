#include "import_test_support.h"

namespace vigie::inventory {
namespace {

class NmapImportTest : public InventoryTest {};

constexpr const char* kHospitalScan = R"(<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap -sV -oX scan.xml 10.1.110.0/24" start="1700000000">
<host starttime="1700000100" endtime="1700000200"><status state="up" reason="arp-response"/>
<address addr="10.1.110.5" addrtype="ipv4"/>
<address addr="00:1B:63:84:45:E6" addrtype="mac" vendor="Siemens"/>
<hostnames><hostname name="arcadis-1.chu.local" type="PTR"/></hostnames>
<ports><extraports state="closed" count="995"/>
<port protocol="tcp" portid="139"><state state="open" reason="syn-ack"/><service name="netbios-ssn"/></port>
<port protocol="tcp" portid="445"><state state="open" reason="syn-ack"/><service name="microsoft-ds" product="Microsoft Windows 7 microsoft-ds"/></port>
<port protocol="tcp" portid="3389"><state state="filtered" reason="no-response"/></port>
</ports>
</host>
<host><status state="up"/>
<address addr="10.1.110.77" addrtype="ipv4"/>
<address addr="08:00:27:AA:BB:CC" addrtype="mac" vendor="Oracle VirtualBox virtual NIC"/>
<ports><port protocol="tcp" portid="21"><state state="open"/><service name="ftp"/></port></ports>
<os><osmatch name="Microsoft Windows XP SP3" accuracy="96"/></os>
</host>
<host><status state="down"/><address addr="10.1.110.99" addrtype="ipv4"/></host>
</nmaprun>
)";

TEST_P(NmapImportTest, KnownDevicesGetPortsUnknownHostsBecomeUnidentified) {
  ASSERT_TRUE(
      import_text("inv.csv",
                  "vendor,product,serial_number,ip\nSiemens,Arcadis Varic Gen2,14999,10.1.110.5\n")
          .ok());
  auto r = import_text("scan.xml", kHospitalScan, ImportFormat::kNmap);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.summary.records, 1u);  // one new device; the known one is updated in place
  EXPECT_EQ(r.summary.ports, 3u);    // 139, 445 and 21: filtered ports are not open
  EXPECT_EQ(count(), 2);

  auto known = get_device(*store_, 1);
  ASSERT_TRUE(known);
  ASSERT_EQ(known->open_ports.size(), 2u);
  EXPECT_EQ(known->open_ports[0].port, 139);
  EXPECT_EQ(known->open_ports[1].port, 445);
  EXPECT_EQ(known->open_ports[1].service_product, "Microsoft Windows 7 microsoft-ds");
  EXPECT_EQ(known->open_ports[0].seen_at, "2023-11-14T22:15:00Z");
  ASSERT_EQ(known->interfaces.size(), 1u);
  EXPECT_EQ(known->interfaces[0].mac, "00:1b:63:84:45:e6");
  EXPECT_EQ(known->interfaces[0].hostname, "arcadis-1.chu.local");

  auto unknown = get_device(*store_, 2);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->identified);
  EXPECT_EQ(unknown->vendor, "Oracle VirtualBox virtual NIC");
  EXPECT_EQ(unknown->os, "Microsoft Windows XP SP3");
  ASSERT_EQ(unknown->open_ports.size(), 1u);
  EXPECT_EQ(unknown->open_ports[0].port, 21);
}

TEST_P(NmapImportTest, RescanReplacesThePortsOfAnInterface) {
  ASSERT_TRUE(import_text("scan.xml", kHospitalScan, ImportFormat::kNmap).ok());
  std::string later = kHospitalScan;
  later.replace(
      later.find(R"(<port protocol="tcp" portid="139">)"),
      std::string(
          R"(<port protocol="tcp" portid="139"><state state="open" reason="syn-ack"/><service name="netbios-ssn"/></port>)")
          .size(),
      "");
  auto r = import_text("scan2.xml", later, ImportFormat::kNmap);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("open_ports"), 2);
}

TEST_P(NmapImportTest, ReadsNmapsOwnTestScans) {
  for (const char* f : {"scans/simple.xml", "scans/complex.xml"}) {
    SCOPED_TRACE(f);
    auto r = import_devices(*store_, vigie::testing::fixture(f), ImportFormat::kNmap, {});
    ASSERT_TRUE(r.ok()) << errors_of(r);
  }
  auto d = all();
  ASSERT_EQ(d.size(), 1u);  // both scans are of scanme.nmap.org
  auto full = get_device(*store_, d[0].id);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->interfaces[0].hostname, "scanme.nmap.org");
  std::vector<int> ports;
  for (const auto& p : full->open_ports) ports.push_back(p.port);
  EXPECT_EQ(ports, (std::vector<int>{22, 53, 80, 53}));
  EXPECT_EQ(full->open_ports[3].protocol, "udp");
}

TEST_P(NmapImportTest, MalformedXmlIsRefusedWithLineAndColumn) {
  std::string truncated = std::string(kHospitalScan).substr(0, 700);
  auto r = import_text("broken.xml", truncated, ImportFormat::kNmap);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.front().message.find("malformed XML"), std::string::npos);
  EXPECT_NE(r.errors.front().where.find("broken.xml:"), std::string::npos);
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(count("open_ports"), 0);
}

TEST_P(NmapImportTest, BadPortIsRefusedNamingTheElement) {
  std::string bad = kHospitalScan;
  bad.replace(bad.find("portid=\"21\""), 11, "portid=\"99999\"");
  auto r = import_text("bad.xml", bad, ImportFormat::kNmap);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.errors.front().where.ends_with(":16 <port>")) << r.errors.front().where;
  EXPECT_EQ(count(), 0);
}

TEST_P(NmapImportTest, EntityDeclarationsAreRefused) {
  auto r = import_text(
      "evil.xml", R"(<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaa">]><nmaprun>&a;</nmaprun>)",
      ImportFormat::kNmap);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.front().message.find("entity"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, NmapImportTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::inventory
