// Reading an nmap XML scan (-oX) host by host, streamed through expat in fixed-size chunks so
// that a scan of any size is read in constant memory. The inventory import and the network
// policy's conformance check both read scans through it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/inventory/model.h"

namespace vigie::inventory {

// One <host> that nmap found up, with its open ports.
struct ScannedHost {
  size_t line = 0;  // line of the <host> element
  std::string ipv4;
  std::string ipv6;
  std::string mac;
  std::string mac_vendor;
  std::string hostname;
  std::string os;
  std::string seen_at;          // the host's starttime, ISO 8601 UTC; empty when absent
  std::vector<OpenPort> ports;  // ports whose state starts with "open" (ip and seen_at set)
};

// Each callback returns false to stop reading. A bad element or malformed XML is passed to
// on_error with file:line <element> (or file:line:column) and the reason.
struct NmapHandlers {
  std::function<bool(ScannedHost& host)> on_host;
  std::function<bool(core::Error error)> on_error;
};

// Reads `path`, calling on_host for every host that is up and has an IP address.
void read_nmap(const std::filesystem::path& path, const NmapHandlers& handlers);

}  // namespace vigie::inventory
