// The compiled allow-list, the findings drawn from flows and scans, proposals, and runs stored
// on both back-ends.
#include "vigie/netpolicy/conformance.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>

#include "test_support.h"
#include "vigie/inventory/import.h"
#include "vigie/netpolicy/pcap_writer.h"
#include "vigie/netpolicy/zeek.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {
namespace {

IpAddress ip(const char* text) { return *parse_ip(text); }

AllowEntry entry(const char* device, Direction d, const std::vector<const char*>& peers,
                 Protocol proto, std::uint16_t first, std::uint16_t last, const char* purpose,
                 std::int64_t device_id = 1) {
  AllowEntry e;
  e.device_id = device_id;
  e.device_ip = ip(device);
  e.direction = d;
  for (const char* p : peers) e.peers.push_back(*parse_prefix(p));
  e.protocol = proto;
  e.ports = {first, last};
  e.purpose = purpose;
  e.role = peers.empty() ? "" : "pacs";
  return e;
}

Flow flow(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
          Protocol proto = Protocol::kTcp, FlowState state = FlowState::kEstablished) {
  Flow f;
  f.src = ip(src);
  f.dst = ip(dst);
  f.src_port = sport;
  f.dst_port = dport;
  f.protocol = proto;
  f.state = state;
  f.first_us = 1700000000000000;
  f.last_us = 1700000001000000;
  f.packets = 4;
  f.bytes = 100;
  return f;
}

std::vector<AllowEntry> modality_entries() {
  return {
      entry("10.1.110.5", Direction::kToDevice, {"10.1.150.0/24"}, Protocol::kTcp, 104, 104,
            "DICOM from the PACS"),
      entry("10.1.110.5", Direction::kToDevice, {}, Protocol::kTcp, 21, 21, "FTP for the reader"),
      entry("10.1.110.5", Direction::kFromDevice, {"10.9.0.1"}, Protocol::kUdp, 514, 514, "syslog"),
      entry("10.1.110.5", Direction::kToDevice, {"10.1.150.0/24"}, Protocol::kAny, 137, 139,
            "NetBIOS from the PACS"),
      entry("10.1.110.5", Direction::kToDevice, {"10.1.150.7"}, Protocol::kTcp, 100, 200,
            "wider, later"),
      entry("fe80::5", Direction::kToDevice, {"fe80::/10"}, Protocol::kTcp, 22, 22, "ssh", 2),
  };
}

TEST(AllowCheckerTest, NamesTheFirstEntryThatAllowsAFlow) {
  AllowChecker checker(modality_entries());
  EXPECT_EQ(checker.match(flow("10.1.150.7", 40000, "10.1.110.5", 104)), 0);  // first, not 4
  EXPECT_EQ(checker.match(flow("10.1.150.7", 40000, "10.1.110.5", 150)), 4);
  EXPECT_EQ(checker.match(flow("10.2.0.9", 40000, "10.1.110.5", 104)), AllowChecker::kNoMatch);
  EXPECT_EQ(checker.match(flow("10.2.0.9", 40000, "10.1.110.5", 21)), 1);  // any peer
  EXPECT_EQ(checker.match(flow("10.1.110.5", 40000, "10.9.0.1", 514, Protocol::kUdp)), 2);
  EXPECT_EQ(checker.match(flow("10.1.110.5", 40000, "10.9.0.1", 514)), AllowChecker::kNoMatch);
  EXPECT_EQ(checker.match(flow("10.1.110.5", 40000, "10.9.0.2", 514, Protocol::kUdp)),
            AllowChecker::kNoMatch);
  // The direction matters: syslog is allowed from the device, not to it.
  EXPECT_EQ(checker.match(flow("10.9.0.1", 40000, "10.1.110.5", 514, Protocol::kUdp)),
            AllowChecker::kNoMatch);
  EXPECT_EQ(checker.match(flow("10.1.150.7", 137, "10.1.110.5", 138, Protocol::kUdp)), 3);
  EXPECT_EQ(checker.match(flow("10.1.150.7", 137, "10.1.110.5", 140, Protocol::kUdp)),
            AllowChecker::kNoMatch);
  EXPECT_EQ(checker.match(flow("fe80::1", 40000, "fe80::5", 22)), 5);
  EXPECT_EQ(checker.match(flow("2001:db8::1", 40000, "fe80::5", 22)), AllowChecker::kNoMatch);
  EXPECT_TRUE(checker.has_device(ip("fe80::5")));
  EXPECT_FALSE(checker.has_device(ip("10.1.150.7")));
}

TEST(AllowCheckerTest, OpenPortMatchesWhateverThePeer) {
  AllowChecker checker(modality_entries());
  Flow open;
  open.dst = ip("10.1.110.5");
  open.dst_port = 104;
  open.state = FlowState::kOpenPort;
  EXPECT_EQ(checker.match(open), 0);
  open.dst_port = 445;
  EXPECT_EQ(checker.match(open), AllowChecker::kNoMatch);
}

TEST(AllowCheckerTest, ThousandsOfDevicesAnswerLikeAScanOfTheirEntries) {
  std::mt19937 rng(7);
  std::vector<AllowEntry> entries;
  std::unordered_map<IpAddress, std::vector<size_t>, IpAddressHash> by_device;
  for (std::uint32_t d = 0; d < 2000; ++d) {
    IpAddress device = IpAddress::v4(0x0a000000 + d * 3);
    for (std::uint16_t i = 0; i < 20; ++i) {
      AllowEntry e;
      e.device_ip = device;
      e.direction = i % 4 == 0 ? Direction::kFromDevice : Direction::kToDevice;
      e.protocol = i % 5 == 0 ? Protocol::kUdp : Protocol::kTcp;
      auto port = static_cast<std::uint16_t>(rng() % 100);
      e.ports = {port, static_cast<std::uint16_t>(port + rng() % 3)};
      // No peer (any), one, or up to nine: beyond what an exact slot holds inline; a few
      // of address 0 or IPv6, which are never held inline either.
      size_t peers = i % 3 == 0 ? 0 : (i % 3 == 1 ? 1 : rng() % 10);
      for (size_t p = 0; p < peers; ++p) {
        switch (rng() % 12) {
          case 0:
            e.peers.push_back(IpPrefix{IpAddress::v4(0), 96 + 8});
            break;
          case 1:
            e.peers.push_back(IpPrefix{ip("fe80::"), 10});
            break;
          default:
            e.peers.push_back(IpPrefix{IpAddress::v4(0x0a640000 + (rng() % 4) * 256), 120});
        }
      }
      by_device[device].push_back(entries.size());
      entries.push_back(e);
    }
  }
  AllowChecker checker(entries);
  // The definition, entry by entry, over the entries of both ends.
  auto reference = [&](const Flow& f) {
    std::int32_t best = AllowChecker::kNoMatch;
    for (const IpAddress* end : {&f.dst, &f.src}) {
      auto it = by_device.find(*end);
      if (it == by_device.end()) continue;
      for (size_t i : it->second) {
        const AllowEntry& e = entries[i];
        bool to = e.direction == Direction::kToDevice;
        if ((to ? f.dst : f.src) != e.device_ip || e.protocol != f.protocol ||
            !e.ports.contains(f.dst_port)) {
          continue;
        }
        const IpAddress& peer = to ? f.src : f.dst;
        if (e.peers.empty() || std::any_of(e.peers.begin(), e.peers.end(),
                                           [&](const IpPrefix& p) { return p.contains(peer); })) {
          if (best == AllowChecker::kNoMatch || static_cast<std::int32_t>(i) < best) {
            best = static_cast<std::int32_t>(i);
          }
          break;
        }
      }
    }
    return best;
  };
  int matched = 0;
  std::vector<Flow> all;
  std::vector<std::int32_t> expected_all;
  for (int n = 0; n < 50000; ++n) {
    Flow f;
    IpAddress device = IpAddress::v4(0x0a000000 + (rng() % 6100));  // some are not devices
    IpAddress peer = rng() % 50 == 0   ? ip("fe80::7")
                     : rng() % 50 == 0 ? IpAddress::v4(rng() % 4)  // in 0.0.0.0/8
                                       : IpAddress::v4(0x0a640000 + (rng() % 5) * 256 + rng() % 4);
    bool to = rng() % 2 == 0;
    f.src = to ? peer : device;
    f.dst = to ? device : peer;
    f.protocol = rng() % 5 == 0 ? Protocol::kUdp : Protocol::kTcp;
    f.dst_port = static_cast<std::uint16_t>(rng() % 103);
    std::int32_t expected = reference(f);
    ASSERT_EQ(checker.match(f), expected) << n;
    if (expected != AllowChecker::kNoMatch) ++matched;
    all.push_back(f);
    expected_all.push_back(expected);
  }
  EXPECT_GT(matched, 500);
  // The batch form answers the same.
  std::vector<std::int32_t> batch(all.size(), -2);
  checker.match(all, batch);
  EXPECT_EQ(batch, expected_all);  // the sample exercises matches, not only misses
}

struct Collect : FlowSink {
  std::vector<Flow> flows;
  void flow(const Flow& f) override { flows.push_back(f); }
};

std::vector<const Finding*> of_kind(const ConformanceReport& r, FindingKind k) {
  std::vector<const Finding*> out;
  for (const auto& f : r.findings) {
    if (f.kind == k) out.push_back(&f);
  }
  return out;
}

TEST(ConformanceTest, FixtureConnLogIsFlaggedAsCleartextFtpBetweenUnknownHosts) {
  ConformanceAnalyzer analyzer({}, {}, true);
  auto stats = read_zeek_conn(testing::fixture("scans/conn.log"), analyzer);
  ASSERT_TRUE(stats) << stats.error().to_string();
  auto report = analyzer.report();
  EXPECT_EQ(report.summary.flows, 5u);
  EXPECT_EQ(report.summary.unknown_hosts_flows, 5u);
  auto clear = of_kind(report, FindingKind::kCleartext);
  // The control connection, the passive data channels (to the server) and the active ones
  // (from the server, to the client).
  ASSERT_EQ(clear.size(), 3u);
  std::uint64_t flows = 0;
  for (const Finding* f : clear) {
    EXPECT_NE(f->detail.find("hosts not in the inventory"), std::string::npos) << f->detail;
    EXPECT_EQ(f->device_id, 0);
    flows += f->count;
  }
  EXPECT_EQ(flows, 5u);
  auto control = std::find_if(clear.begin(), clear.end(),
                              [](const Finding* f) { return f->app == AppProtocol::kFtp; });
  ASSERT_NE(control, clear.end());
  EXPECT_EQ((*control)->port, 21);
  EXPECT_EQ((*control)->device_ip, ip("199.233.217.249"));
  EXPECT_EQ(*(*control)->peer_ip, ip("141.142.220.235"));
  EXPECT_NE((*control)->detail.find("FTP control channel"), std::string::npos);
  auto data = std::find_if(clear.begin(), clear.end(), [](const Finding* f) {
    return f->app == AppProtocol::kFtpData && f->device_ip == ip("141.142.220.235");
  });
  ASSERT_NE(data, clear.end());
  EXPECT_EQ((*data)->count, 2u);
  EXPECT_EQ((*data)->bytes, 342u + 77u);
  EXPECT_EQ(format_time_us((*data)->first_us), "2012-02-21T16:53:14.151526Z");
  // FTP on 21 is a risky port too; the traffic itself is between unknown hosts.
  EXPECT_EQ(of_kind(report, FindingKind::kRiskyPort).size(), 1u);
  // One per service between the two hosts: FTP, passive data, active data.
  EXPECT_EQ(of_kind(report, FindingKind::kUnknownHost).size(), 3u);
  EXPECT_TRUE(of_kind(report, FindingKind::kUnexpectedFlow).empty());
}

TEST(ConformanceTest, FlowsOfADeviceAreCheckedAgainstItsEntries) {
  std::vector<DeviceAddress> devices(2);
  devices[0].device_id = 1;
  devices[0].ip = ip("10.1.110.5");
  devices[1].device_id = 9;
  devices[1].ip = ip("10.1.110.9");  // a device with no entry at all
  ConformanceAnalyzer analyzer(modality_entries(), devices, true);
  analyzer.flow(flow("10.1.150.7", 40000, "10.1.110.5", 104));              // allowed
  analyzer.flow(flow("10.1.150.7", 40001, "10.1.110.5", 104));              // allowed
  analyzer.flow(flow("10.2.0.9", 40002, "10.1.110.5", 104));                // unexpected peer
  analyzer.flow(flow("10.2.0.9", 40003, "10.1.110.5", 445));                // unexpected, risky
  analyzer.flow(flow("10.1.110.5", 40004, "8.8.8.8", 53, Protocol::kUdp));  // unexpected out
  analyzer.flow(flow("10.2.0.9", 40005, "10.1.110.5", 3389, Protocol::kTcp, FlowState::kRejected));
  analyzer.flow(flow("10.2.0.9", 40006, "10.1.110.9", 23));  // unexpected, telnet
  auto report = analyzer.report();
  EXPECT_EQ(report.summary.flows, 7u);
  EXPECT_EQ(report.summary.allowed, 2u);
  EXPECT_EQ(report.entry_hits[0], 2u);

  auto unexpected = of_kind(report, FindingKind::kUnexpectedFlow);
  ASSERT_EQ(unexpected.size(), 4u);
  auto out = std::find_if(unexpected.begin(), unexpected.end(),
                          [](const Finding* f) { return f->port == 53; });
  ASSERT_NE(out, unexpected.end());
  EXPECT_EQ((*out)->device_ip, ip("10.1.110.5"));  // the device is the initiator here
  EXPECT_EQ(*(*out)->peer_ip, ip("8.8.8.8"));
  EXPECT_NE((*out)->detail.find("from the device"), std::string::npos);

  auto blocked = of_kind(report, FindingKind::kBlockedAttempt);
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_EQ(blocked[0]->port, 3389);
  EXPECT_NE(blocked[0]->detail.find("refused"), std::string::npos);

  auto risky = of_kind(report, FindingKind::kRiskyPort);
  ASSERT_EQ(risky.size(), 2u);     // 445 and 23 in use; the refused 3389 reached nothing
  EXPECT_EQ(risky[0]->port, 445);  // sorted by device address first
  EXPECT_NE(risky[0]->detail.find("(SMB)"), std::string::npos) << risky[0]->detail;
  EXPECT_EQ(risky[1]->port, 23);
  // Cleartext comes first in a report.
  EXPECT_EQ(report.findings.front().kind, FindingKind::kCleartext);
  auto clear = of_kind(report, FindingKind::kCleartext);
  ASSERT_EQ(clear.size(), 1u);
  EXPECT_EQ(clear[0]->app, AppProtocol::kTelnet);
  EXPECT_NE(clear[0]->detail.find("(by port)"), std::string::npos);

  // Entries 1-4 of the observed device allowed nothing; the IPv6 device was not observed.
  auto unused = of_kind(report, FindingKind::kUnusedEntry);
  ASSERT_EQ(unused.size(), 4u);
  for (const Finding* f : unused) {
    EXPECT_EQ(f->device_ip, ip("10.1.110.5"));
    EXPECT_NE(f->entry, 0);
  }

  auto proposals = propose_intents(report);
  ASSERT_EQ(proposals.size(), 4u);
  std::string csv = format_proposals_csv(proposals);
  EXPECT_TRUE(
      csv.starts_with("device_id,device_ip,direction,peer,protocol,ports,purpose,cleartext\n"));
  EXPECT_NE(csv.find("1,10.1.110.5,from-device,8.8.8.8,udp,53,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("9,10.1.110.9,to-device,10.2.0.9,tcp,23,"), std::string::npos) << csv;
}

TEST(ConformanceTest, ScansReportOpenPortsNoProfileNamesButNoUnusedEntries) {
  std::vector<AllowEntry> entries{
      entry("64.13.134.52", Direction::kToDevice, {"10.0.0.0/8"}, Protocol::kTcp, 22, 22, "ssh")};
  std::vector<DeviceAddress> devices(1);
  devices[0].device_id = 1;
  devices[0].ip = ip("64.13.134.52");
  ConformanceAnalyzer analyzer(entries, devices, false);
  auto stats = read_nmap_flows(testing::fixture("scans/complex.xml"), analyzer);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->records, 1u);
  EXPECT_EQ(stats->flows, 4u);  // 22, 53/tcp, 80, 53/udp are open
  auto report = analyzer.report();
  auto unlisted = of_kind(report, FindingKind::kUnlistedOpenPort);
  ASSERT_EQ(unlisted.size(), 3u);
  EXPECT_EQ(unlisted[0]->port, 53);
  EXPECT_EQ(unlisted[2]->port, 80);
  EXPECT_EQ(unlisted[0]->first_us, 1247267911000000);
  auto clear = of_kind(report, FindingKind::kCleartext);
  ASSERT_EQ(clear.size(), 1u);  // http listening
  EXPECT_EQ(clear[0]->port, 80);
  EXPECT_NE(clear[0]->detail.find("service listening"), std::string::npos);
  EXPECT_TRUE(of_kind(report, FindingKind::kUnusedEntry).empty());
  EXPECT_EQ(report.entry_hits[0], 1u);
}

TEST(ConformanceTest, BadScanIsRefusedWithItsElement) {
  testing::TempDir dir;
  auto path = dir / "scan.xml";
  testing::write_file(path,
                      "<?xml version=\"1.0\"?>\n<nmaprun>\n<host><status state=\"up\"/>\n"
                      "<address addr=\"10.0.0.300\" addrtype=\"ipv4\"/>\n</host></nmaprun>\n");
  ConformanceAnalyzer analyzer({}, {}, false);
  auto stats = read_nmap_flows(path, analyzer);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().where, path.string() + ":4 <address>");
}

class ConformanceStoreTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceStoreTest, RunAndFindingsAreStoredTogetherWithAnAuditEntry) {
  testing::TempDir dir;
  auto store = testing::open_fresh_store(GetParam(), dir);
  ASSERT_NE(store, nullptr);
  auto csv = dir / "devices.csv";
  testing::write_file(csv,
                      "vendor,product,serial_number,site,zone,ip,status\n"
                      "Philips,Essenta DR Compact,1,CHU,Imagerie,10.1.110.30,in-service\n");
  ASSERT_TRUE(inventory::import_devices(*store, csv, inventory::ImportFormat::kCsv, {}).ok());
  auto devices = load_device_addresses(*store);
  ASSERT_TRUE(devices) << devices.error().to_string();
  ASSERT_EQ(devices->size(), 1u);

  ConformanceAnalyzer analyzer({}, *devices, true);
  ASSERT_TRUE(read_zeek_conn(testing::fixture("scans/conn.log"), analyzer));
  analyzer.flow(flow("10.2.0.9", 40000, "10.1.110.30", 21));  // the Essenta, over FTP
  auto report = analyzer.report();
  ConformanceRun run{"conn.log", FlowFormat::kZeek, 6, "2026-11-25T17:00:00Z", "tester"};
  auto id = save_conformance_run(*store, run, report.findings, {});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(store->query_int("SELECT COUNT(*) FROM conformance_runs").value_or(-1), 1);
  EXPECT_EQ(store
                ->query_int("SELECT COUNT(*) FROM conformance_findings WHERE run_id = ?",
                            std::vector<store::Value>{*id})
                .value_or(-1),
            static_cast<std::int64_t>(report.findings.size()));
  EXPECT_EQ(store
                ->query_int("SELECT COUNT(*) FROM conformance_findings WHERE kind = "
                            "'cleartext' AND device_id = ? AND port = 21",
                            std::vector<store::Value>{devices->front().device_id})
                .value_or(-1),
            1);
  auto rows = store->query(
      "SELECT first_seen, count FROM conformance_findings WHERE kind = 'cleartext' AND "
      "device_id IS NULL AND port = 21");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "2012-02-21T16:52:41.968492Z");
  EXPECT_EQ(store
                ->query_int("SELECT COUNT(*) FROM audit_log WHERE action = "
                            "'netpolicy.conformance.run'")
                .value_or(-1),
            1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceStoreTest, ::testing::ValuesIn(testing::backends()),
                         [](const auto& info) { return info.param; });

// The command line on the demo hospital.
class ConformanceCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(run("init --demo").code, 0); }

  struct Outcome {
    int code = -1;
    std::string out;
  };
  Outcome run(const std::string& args) {
    std::string cmd = fmt::format("{}/vigie --home {} {} 2>{}", VIGIE_BIN_DIR,
                                  (dir_ / "home").string(), args, (dir_ / "stderr").string());
    Outcome o;
    std::FILE* p = popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): the program under test
    if (p == nullptr) return o;
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
    int status = pclose(p);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
  }
  std::string err() {
    std::ifstream in(dir_ / "stderr");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  testing::TempDir dir_;
};

TEST_F(ConformanceCliTest, FixtureConnLogIsFlaggedAsCleartextFtp) {
  auto o = run(fmt::format("conformance {} --json", testing::fixture("scans/conn.log").string()));
  ASSERT_EQ(o.code, 0) << err();
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["format"], "zeek");
  EXPECT_EQ(j["flows"], 5);
  EXPECT_EQ(j["flows_between_unknown_hosts"], 5);
  bool ftp = false;
  for (const auto& f : j["findings"]) {
    if (f["kind"] == "cleartext" && f["app"] == "ftp" && f["port"] == 21) {
      ftp = true;
      EXPECT_TRUE(f["device_id"].is_null());
      EXPECT_NE(f["detail"].get<std::string>().find("hosts not in the inventory"),
                std::string::npos);
    }
  }
  EXPECT_TRUE(ftp) << o.out;
  EXPECT_EQ(j["findings"][0]["kind"], "cleartext");
}

TEST_F(ConformanceCliTest, CaptureOfTheDemoEssentaProposesButNeverAcceptsIntents) {
  auto cap = dir_ / "essenta.pcapng";
  auto w = PcapWriter::create(cap, CaptureFormat::kPcapng);
  ASSERT_TRUE(w);
  std::int64_t t = 1700000000000000;
  PacketEnds ctl{ip("10.1.110.200"), ip("10.1.110.59"), 50000, 21, {110}};
  w->tcp_session(ctl,
                 {{false, "220 ready\r\n"},
                  {true, "PASV\r\n"},
                  {false, "227 Entering Passive Mode (10,1,110,59,100,1)\r\n"}},
                 t);
  w->tcp_session({ip("10.1.110.200"), ip("10.1.110.59"), 50001, 25601, {110}},
                 {{false, "image bytes"}}, t);
  ASSERT_TRUE(w->close());
  auto profiles_before = run("conformance " + cap.string() + " --json --propose");
  ASSERT_EQ(profiles_before.code, 0) << err();
  auto j = nlohmann::json::parse(profiles_before.out);
  EXPECT_EQ(j["format"], "pcap");
  int cleartext = 0;
  for (const auto& f : j["findings"]) {
    if (f["kind"] != "cleartext") continue;
    ++cleartext;
    EXPECT_EQ(f["device_ip"], "10.1.110.59");
    EXPECT_FALSE(f["device_id"].is_null());
  }
  EXPECT_EQ(cleartext, 2);  // control channel and the data channel on 25601
  ASSERT_FALSE(j["proposals"].empty());
  EXPECT_EQ(j["proposals"][0]["direction"], "to-device");
  EXPECT_EQ(j["proposals"][0]["device_ip"], "10.1.110.59");
  // The text form prints the port-table rows; nothing was added to any profile.
  auto csv = run("conformance " + cap.string() + " --propose");
  ASSERT_EQ(csv.code, 0) << err();
  EXPECT_TRUE(csv.out.starts_with("device_id,device_ip,direction,peer,protocol,ports"));
  EXPECT_NE(csv.out.find(",10.1.110.59,to-device,10.1.110.200,tcp,21,"), std::string::npos)
      << csv.out;
  auto profiles = run("conformance " + cap.string() + " --json");
  EXPECT_EQ(nlohmann::json::parse(profiles.out)["allow_entries"], j["allow_entries"]);
}

TEST_F(ConformanceCliTest, BadInputIsRefusedWithItsPositionAndNothingIsStored) {
  auto bad = dir_ / "conn.log";
  testing::write_file(bad,
                      "#fields\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
                      "10.0.0.1\t1\t10.0.0.2\t2\ttcp\n10.0.0.1\t1\tnot-an-ip\t2\ttcp\n");
  auto o = run("conformance " + bad.string());
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(err().find(bad.string() + ":3 column 'id.resp_h': 'not-an-ip' is not an IP address"),
            std::string::npos)
      << err();
  auto unknown = run("conformance " + (dir_ / "stderr").string());
  EXPECT_EQ(unknown.code, 2);
  // The next run that succeeds is the first one stored.
  auto ok =
      run(fmt::format("conformance {} --json", testing::fixture("scans/simple.xml").string()));
  ASSERT_EQ(ok.code, 0) << err();
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["run_id"], 1);
  EXPECT_EQ(j["format"], "nmap");
  ASSERT_EQ(j["findings"].size(), 1u);
  EXPECT_EQ(j["findings"][0]["kind"], "unlisted-open-port");
  EXPECT_EQ(j["findings"][0]["port"], 22);
}

}  // namespace
}  // namespace vigie::netpolicy
