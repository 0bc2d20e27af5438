// The network-policy data as stored: profiles, zones with their kind and networks, the
// addresses a site binds to each role, and the allow-list that results for the devices of a
// zone. Writers run inside the caller's transaction and write an audit entry for each change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"
#include "vigie/netpolicy/model.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {

// Who makes a change and when (ISO 8601 UTC), for the audit log.
struct Actor {
  std::string name;
  std::string origin = "cli";
  std::string at;
};

// Profiles -------------------------------------------------------------------------------

// Stores `profile` (format "table" or "mud"), replacing a profile of the same name; sets
// profile.id. Call inside a transaction.
Status save_profile(store::Store& store, Profile& profile, std::string_view format,
                    const Actor& actor);
Result<std::vector<Profile>> load_profiles(store::Store& store);
Result<std::optional<Profile>> find_profile(store::Store& store, std::string_view name);

// Zones ----------------------------------------------------------------------------------

// Every zone of the inventory with its kind (stored, else guessed from its name: "Imagerie",
// "Biomédical" are medical, "Bureautique" office...) and networks (stored, else the /24s of
// its devices' addresses).
Result<std::vector<Zone>> load_zones(store::Store& store);
// "site/zone" or a zone name unique across sites.
Result<Zone> find_zone(store::Store& store, std::string_view name);
// Creates a zone that has no device of the inventory (a DMZ, the Internet, a vendor's
// network) so that rules and exposure can name it. Returns its id.
Result<std::int64_t> create_zone(store::Store& store, std::int64_t site_id, std::string_view name,
                                 ZoneKind kind, const std::vector<IpPrefix>& networks,
                                 const Actor& actor);
Status set_zone_kind(store::Store& store, std::int64_t zone_id, ZoneKind kind, const Actor& actor);
Status set_zone_networks(store::Store& store, std::int64_t zone_id,
                         const std::vector<IpPrefix>& networks, const Actor& actor);

// Devices' addresses ---------------------------------------------------------------------

struct DeviceAddress {
  std::int64_t device_id = 0;
  IpAddress ip;
  std::int64_t zone_id = 0;  // 0 when the device has no zone
  std::int64_t site_id = 0;
  std::string vendor_norm;
  std::string product_norm;
  std::string software_version;
};
// Every interface address of every device that is on the network (not decommissioned,
// sold or disconnected).
Result<std::vector<DeviceAddress>> load_device_addresses(store::Store& store);

// Site roles -----------------------------------------------------------------------------

// Binds `address` (an address, a prefix or a DNS name) to `role` at a site.
Status bind_role(store::Store& store, std::int64_t site_id, std::string_view role,
                 std::string_view address, const Actor& actor);
Status unbind_role(store::Store& store, std::int64_t site_id, std::string_view role,
                   std::string_view address, const Actor& actor);
// role -> the prefixes it stands for at the site: bound prefixes plus every address a bound
// DNS name has resolved to and that has not expired.
Result<std::map<std::string, std::vector<IpPrefix>>> role_addresses(store::Store& store,
                                                                    std::int64_t site_id);
// Binds every row of a CSV file with the columns site, role, address (all or nothing inside
// the caller's transaction; errors name file:line). Returns the number of rows.
Result<size_t> import_roles_csv(store::Store& store, const std::filesystem::path& path,
                                const Actor& actor);
// The same at a given time (ISO 8601 UTC), for tests and replays.
Result<std::map<std::string, std::vector<IpPrefix>>> role_addresses_at(store::Store& store,
                                                                       std::int64_t site_id,
                                                                       std::string_view now);

// The allow-list -------------------------------------------------------------------------

struct AllowListScope {
  std::optional<std::int64_t> zone_id;  // only devices of this zone; every device otherwise
};
// Binds each matching profile's intents to each device address in scope. Peers that the
// site has not bound are left out and reported in `unbound` (deny by default: an intent
// without an address allows nothing).
struct AllowList {
  std::vector<AllowEntry> entries;
  std::vector<std::string> unbound;  // "device 12: role 'pacs' has no address at site 1"
};
Result<AllowList> load_allow_list(store::Store& store, const AllowListScope& scope);

}  // namespace vigie::netpolicy
