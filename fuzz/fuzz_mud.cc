// The MUD reader and the YAML port-table reader on arbitrary bytes (YAML reads JSON too, so
// each input feeds both): never crash; what is read is written back and read again to the
// same intents (MUD) or the same text (YAML).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/netpolicy/mud.h"
#include "vigie/netpolicy/port_table.h"

namespace {

using namespace vigie::netpolicy;

std::vector<std::string> flows(const Profile& p) {
  std::vector<std::string> out;
  for (const auto& i : p.intents) {
    out.push_back(std::string(to_string(i.direction)) + " " + format_peer(i.peer) + " " +
                  std::string(to_string(i.protocol)) + " " + format_ports(i.ports) + " " +
                  format_ports(i.source_ports) + " " + i.purpose + (i.cleartext ? " c" : ""));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_mud(std::string_view text) {
  auto read = read_mud(text, "fuzz.json");
  if (!read) return;
  auto written = write_mud(read->profile, "2026-01-01T00:00:00Z");
  if (!written) std::abort();  // anything read must be writable
  auto again = read_mud(*written, "again.json");
  if (!again || flows(again->profile) != flows(read->profile)) std::abort();
}

void check_yaml(std::string_view text) {
  auto read = read_port_table_yaml(text, "fuzz.yaml");
  if (!read) return;
  const std::string written = write_port_table_yaml(*read);
  auto again = read_port_table_yaml(written, "again.yaml");
  if (!again || write_port_table_yaml(*again) != written) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_mud(text);
  check_yaml(text);
  return 0;
}
