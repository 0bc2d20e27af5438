// The allow-list: each device address in scope, each intent of each profile that names the
// device's product (and version), bound to the addresses its site gives the intent's peer.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "vigie/advisory/version.h"
#include "vigie/inventory/normalize.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::netpolicy {
namespace {

struct CompiledProfile {
  const Profile* profile;
  std::optional<advisory::VersionRange> range;
};

using RoleMap = std::map<std::string, std::vector<IpPrefix>>;

// The role a MUD abstraction is bound under at a site (see docs/netpolicy.md).
std::string role_of(const Peer& peer) {
  switch (peer.kind) {
    case PeerKind::kRole:
      return peer.value;
    case PeerKind::kManufacturer:
      return "manufacturer:" + peer.value;
    case PeerKind::kController:
      return "controller:" + peer.value;
    case PeerKind::kMyController:
      return "my-controller";
    case PeerKind::kDnsName:
      return "dns:" + peer.value;
    case PeerKind::kAny:
      return "any";
    case PeerKind::kCidr:
      return peer.value;
    case PeerKind::kLocalNetworks:
      return "local-networks";
    case PeerKind::kSameManufacturer:
      return "same-manufacturer";
  }
  return "?";
}

class Builder {
 public:
  Builder(store::Store& store, std::vector<Zone> zones, std::vector<DeviceAddress> devices)
      : store_(store), zones_(std::move(zones)), devices_(std::move(devices)) {
    for (const auto& d : devices_) {
      by_vendor_[{d.site_id, d.vendor_norm}].insert(IpPrefix::host(d.ip));
    }
  }

  Result<const RoleMap*> roles(std::int64_t site_id) {
    auto it = roles_.find(site_id);
    if (it != roles_.end()) return &it->second;
    auto loaded = role_addresses(store_, site_id);
    if (!loaded) return tl::unexpected(loaded.error());
    return &roles_.emplace(site_id, std::move(*loaded)).first->second;
  }

  // The prefixes a peer stands for, or nullopt when the site has not bound it.
  Result<std::optional<std::vector<IpPrefix>>> resolve(const DeviceAddress& device,
                                                       const Peer& peer) {
    using Out = std::optional<std::vector<IpPrefix>>;
    switch (peer.kind) {
      case PeerKind::kAny:
        return Out(std::vector<IpPrefix>{});
      case PeerKind::kCidr: {
        auto prefix = parse_prefix(peer.value);
        if (!prefix) return Out();
        return Out(std::vector<IpPrefix>{*prefix});
      }
      case PeerKind::kLocalNetworks: {
        std::vector<IpPrefix> local;
        for (const auto& z : zones_) {
          if (site_of_zone(z) == device.site_id) {
            local.insert(local.end(), z.networks.begin(), z.networks.end());
          }
        }
        if (local.empty()) return Out();
        return Out(std::move(local));
      }
      case PeerKind::kSameManufacturer: {
        const auto& same = by_vendor_[{device.site_id, device.vendor_norm}];
        std::vector<IpPrefix> others;
        for (const auto& p : same) {
          if (p.address != device.ip) others.push_back(p);
        }
        if (others.empty()) return Out();
        return Out(std::move(others));
      }
      case PeerKind::kRole:
      case PeerKind::kDnsName:
      case PeerKind::kManufacturer:
      case PeerKind::kController:
      case PeerKind::kMyController:
        break;
    }
    auto site_roles = roles(device.site_id);
    if (!site_roles) return tl::unexpected(site_roles.error());
    auto role = (*site_roles)->find(role_of(peer));
    if (role == (*site_roles)->end() && peer.kind == PeerKind::kDnsName) {
      role = (*site_roles)->find(peer.value);
    }
    if (role == (*site_roles)->end() || role->second.empty()) return Out();
    return Out(role->second);
  }

  [[nodiscard]] const std::vector<DeviceAddress>& devices() const { return devices_; }

 private:
  std::int64_t site_of_zone(const Zone& z) {
    auto it = zone_sites_.find(z.id);
    if (it != zone_sites_.end()) return it->second;
    for (const auto& d : devices_) {
      if (d.zone_id == z.id) return zone_sites_[z.id] = d.site_id;
    }
    const store::Value params[] = {z.id};
    auto site = store_.query_int("SELECT site_id FROM zones WHERE id = ?", params);
    return zone_sites_[z.id] = site.value_or(0);
  }

  store::Store& store_;
  std::vector<Zone> zones_;
  std::vector<DeviceAddress> devices_;
  std::map<std::int64_t, RoleMap> roles_;
  std::map<std::pair<std::int64_t, std::string>, std::set<IpPrefix>> by_vendor_;
  std::unordered_map<std::int64_t, std::int64_t> zone_sites_;
};

}  // namespace

Result<AllowList> load_allow_list(store::Store& store, const AllowListScope& scope) {
  auto profiles = load_profiles(store);
  if (!profiles) return tl::unexpected(profiles.error());
  std::map<std::pair<std::string, std::string>, std::vector<CompiledProfile>> by_product;
  for (const auto& p : *profiles) {
    CompiledProfile compiled{&p, std::nullopt};
    if (!p.versions.empty()) {
      auto range = advisory::parse_vers(p.versions);
      if (!range) return tl::unexpected(range.error());
      compiled.range = std::move(*range);
    }
    const std::string vendor = inventory::normalize_vendor(p.vendor);
    by_product[{vendor, inventory::normalize_product(vendor, p.product)}].push_back(
        std::move(compiled));
  }
  auto zones = load_zones(store);
  if (!zones) return tl::unexpected(zones.error());
  auto devices = load_device_addresses(store);
  if (!devices) return tl::unexpected(devices.error());
  Builder builder(store, std::move(*zones), std::move(*devices));

  AllowList list;
  std::set<std::string> unbound;
  for (const auto& device : builder.devices()) {
    if (scope.zone_id && device.zone_id != *scope.zone_id) continue;
    auto candidates = by_product.find({device.vendor_norm, device.product_norm});
    if (candidates == by_product.end()) continue;
    for (const auto& [profile, range] : candidates->second) {
      if (range) {
        // A device whose version is unknown gets the profile: its traffic is the vendor's
        // whatever the version, and leaving it out would cut the device off.
        auto inside = device.software_version.empty()
                          ? Result<bool>(true)
                          : advisory::contains(*range, device.software_version);
        if (inside && !*inside) continue;
      }
      for (size_t i = 0; i < profile->intents.size(); ++i) {
        const Intent& intent = profile->intents[i];
        auto peers = builder.resolve(device, intent.peer);
        if (!peers) return tl::unexpected(peers.error());
        if (!*peers) {
          unbound.insert(fmt::format(
              "device {}: {} '{}' of profile '{}' has no address at its site", device.device_id,
              to_string(intent.peer.kind), intent.peer.value, profile->name));
          continue;
        }
        const std::vector<PortRange> all_ports{PortRange{}};
        const auto& ports = intent.ports.empty() ? all_ports : intent.ports;
        for (const auto& range_of_ports : ports) {
          AllowEntry e;
          e.device_id = device.device_id;
          e.device_ip = device.ip;
          e.direction = intent.direction;
          e.role = role_of(intent.peer);
          e.peers = **peers;
          e.protocol = intent.protocol;
          e.ports = range_of_ports;
          e.cleartext = intent.cleartext;
          e.profile_id = profile->id;
          e.intent_index = static_cast<int>(i);
          e.purpose = intent.purpose;
          list.entries.push_back(std::move(e));
        }
      }
    }
  }
  list.unbound.assign(unbound.begin(), unbound.end());
  return list;
}

}  // namespace vigie::netpolicy
