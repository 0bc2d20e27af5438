// Vendors' port tables as device communication profiles: the CSV and YAML forms a hospital
// types from a vendor's letter or manual (docs/netpolicy-formats.md), read into one Profile
// with the provenance of every row, and the profiles Vigie ships (data/profiles/).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/model.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {

// Reads a port table. The file name is given in errors ("file:line column 'ports': reason"
// for CSV, "file:line:column key 'ports': reason" for YAML) and is the provenance document
// of rows that name none. Nothing is returned unless every row is valid.
Result<Profile> read_port_table_csv(const std::filesystem::path& path);
Result<Profile> read_port_table_yaml(std::string_view text, std::string_view file);

// The profile as the YAML form reads it back (same intents, same provenance). Deterministic.
std::string write_port_table_yaml(const Profile& profile);

// Whether traffic on these ports is cleartext by default: FTP (20, 21), Telnet (23), HTTP (80)
// or VNC (5900) named as a port or a range of fewer than 1024 ports (">1023" is not a claim
// about port 5900).
bool default_cleartext(Protocol protocol, const std::vector<PortRange>& ports);

// Parses a peer as the tables write it: "pacs" (a role: letters, digits, '-'), "10.1.2.0/24"
// or an address, "pacs.example.org" or "dns:host" (a DNS name), "any", "local-networks",
// "same-manufacturer", "my-controller", "manufacturer:DOMAIN", "controller:URI". The reason
// on refusal.
Result<Peer> parse_peer(std::string_view text);
// The inverse of parse_peer.
std::string format_peer(const Peer& peer);

// A profile name from vendor and product: "philips-essenta-dr-compact".
std::string profile_slug(std::string_view vendor, std::string_view product);

// The profiles shipped in data/profiles/ (compiled in), read with their provenance.
Result<std::vector<Profile>> shipped_profiles();
// Saves every shipped profile (replacing profiles of the same name) in one transaction;
// returns how many. For `vigie init --demo`.
Result<size_t> save_shipped_profiles(store::Store& store, const Actor& actor);

}  // namespace vigie::netpolicy
