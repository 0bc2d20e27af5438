// Builds the test bed's ruleset with the real generator from an allow-list written as data
// (tests/e2e/nft_testbed_allow.txt): the Essenta DR intents bound to the test bed's addresses.
//
//   nft_testbed_ruleset FILE nft|json      the ruleset on stdout, warnings on stderr
//
// FILE lines (blank and '#' lines skipped):
//   zone NAME VLAN NETWORK...
//   profile ID NAME
//   entry DEVICE_ID DEVICE_IP to-device|from-device ROLE PEER,PEER|- PROTOCOL PORTS PROFILE_ID
//         INTENT PURPOSE...
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "vigie/netpolicy/nft.h"

namespace np = vigie::netpolicy;

namespace {

bool fail(int line, const std::string& why) {
  std::cerr << "nft_testbed_ruleset: line " << line << ": " << why << "\n";
  return false;
}

bool read_zone(std::istringstream& in, np::NftInput& out, int line) {
  int vlan = 0;
  std::string network;
  if (!(in >> out.zone.name >> vlan)) return fail(line, "zone NAME VLAN NETWORK...");
  out.zone.vlan = vlan;
  out.zone.kind = np::ZoneKind::kMedical;
  while (in >> network) {
    auto p = np::parse_prefix(network);
    if (!p) return fail(line, "bad network " + network);
    out.zone.networks.push_back(*p);
  }
  return true;
}

bool read_entry(std::istringstream& in, np::NftInput& out, int line) {
  np::AllowEntry e;
  std::string ip;
  std::string direction;
  std::string peers;
  std::string protocol;
  std::string ports;
  if (!(in >> e.device_id >> ip >> direction >> e.role >> peers >> protocol >> ports >>
        e.profile_id >> e.intent_index)) {
    return fail(line, "entry: missing fields");
  }
  std::getline(in >> std::ws, e.purpose);
  auto addr = np::parse_ip(ip);
  auto dir = np::parse_direction(direction);
  auto proto = np::parse_protocol(protocol);
  auto ranges = np::parse_ports(ports);
  if (!addr || !dir || !proto || !ranges) return fail(line, "entry: bad address, direction...");
  e.device_ip = *addr;
  e.direction = *dir;
  e.protocol = *proto;
  std::istringstream peer_list(peers == "-" ? std::string() : peers);
  for (std::string p; std::getline(peer_list, p, ',');) {
    auto prefix = np::parse_prefix(p);
    if (!prefix) return fail(line, "bad peer " + p);
    e.peers.push_back(*prefix);
  }
  for (const auto& r : *ranges) {
    e.ports = r;
    out.entries.push_back(e);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[2]) != "nft" && std::string(argv[2]) != "json")) {
    std::cerr << "usage: nft_testbed_ruleset FILE nft|json\n";
    return 2;
  }
  std::ifstream file(argv[1]);
  if (!file) {
    std::cerr << "nft_testbed_ruleset: cannot read " << argv[1] << "\n";
    return 2;
  }
  np::NftInput input;
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    ++number;
    std::istringstream in(line);
    std::string kind;
    if (!(in >> kind) || kind.starts_with("#")) continue;
    bool ok = true;
    if (kind == "zone") {
      ok = read_zone(in, input, number);
    } else if (kind == "profile") {
      std::int64_t id = 0;
      std::string name;
      ok = static_cast<bool>(in >> id >> name) || fail(number, "profile ID NAME");
      input.profile_names[id] = name;
    } else if (kind == "entry") {
      ok = read_entry(in, input, number);
    } else {
      ok = fail(number, "unknown line kind " + kind);
    }
    if (!ok) return 1;
  }
  auto ruleset = np::build_ruleset(input);
  if (!ruleset) {
    std::cerr << "nft_testbed_ruleset: " << ruleset.error().to_string() << "\n";
    return 1;
  }
  for (const auto& w : ruleset->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << (std::string(argv[2]) == "json" ? np::render_json(*ruleset)
                                               : np::render_nft(*ruleset));
  return 0;
}
