#include "vigie/netpolicy/policy_store.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vigie/advisory/version.h"
#include "vigie/audit/audit.h"
#include "vigie/core/csv.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;
using store::Value;

Status audit_change(store::Store& store, const Actor& actor, std::string action, std::string object,
                    const nlohmann::json& details) {
  const std::string at = actor.at.empty() ? core::format_utc(core::utc_now()) : actor.at;
  auto id = audit::append(
      store, {actor.name, std::move(action), std::move(object), actor.origin, details.dump()}, at);
  if (!id) return tl::unexpected(id.error());
  return {};
}

std::string now_or(const Actor& actor) {
  return actor.at.empty() ? core::format_utc(core::utc_now()) : actor.at;
}

Result<std::vector<PortRange>> stored_ports(const std::string& text) {
  if (text.empty()) return std::vector<PortRange>{};
  return parse_ports(text);
}

// Zone kind from its name when the hospital has not set one: the demo's and common French
// and English names.
ZoneKind guess_zone_kind(std::string_view name) {
  const std::string words = " " + inventory::normalize_words(name) + " ";
  const auto has = [&](std::string_view w) { return words.find(w) != std::string::npos; };
  if (has(" dmz ")) return ZoneKind::kDmz;
  if (has(" internet ") || has(" wan ")) return ZoneKind::kInternet;
  if (has(" bureautique ") || has(" office ") || has(" administratif ")) return ZoneKind::kOffice;
  if (has(" serveurs ") || has(" servers ") || has(" datacenter ")) return ZoneKind::kServers;
  if (has(" postes cliniques ") || has(" clinical ") || has(" clinique ")) {
    return ZoneKind::kClinical;
  }
  if (has(" imagerie ") || has(" biomedical ") || has(" medical ") || has(" laboratoire ") ||
      has(" bloc ") || has(" imaging ") || has(" lab ") || has(" reanimation ")) {
    return ZoneKind::kMedical;
  }
  return ZoneKind::kOther;
}

// The network an address most likely sits in when the hospital has not said: a /24 for IPv4,
// a /64 for IPv6.
IpPrefix default_network(const IpAddress& ip) {
  IpPrefix p{ip, ip.is_v4() ? 120 : 64};
  for (auto i = static_cast<size_t>(p.length / 8); i < 16; ++i) p.address.bytes[i] = 0;
  return p;
}

Result<Profile> load_profile_row(store::Store& store, const store::Row& row) {
  Profile p;
  p.id = row.integer(0);
  p.name = row.text(1);
  p.vendor = row.text(2);
  p.product = row.text(3);
  p.versions = row.text(4);
  p.source = row.text(5);
  p.mud_url = row.text(6);
  const Value params[] = {p.id};
  auto intents = store.query(
      "SELECT direction, peer_kind, peer, protocol, ports, source_ports, purpose, cleartext, "
      "provenance_document, provenance_locator, provenance_quote FROM profile_intents "
      "WHERE profile_id = ? ORDER BY position",
      params);
  if (!intents) return tl::unexpected(intents.error());
  for (const auto& r : *intents) {
    Intent i;
    i.direction = parse_direction(r.text(0)).value_or(Direction::kToDevice);
    i.peer = {parse_peer_kind(r.text(1)).value_or(PeerKind::kAny), r.text(2)};
    i.protocol = parse_protocol(r.text(3)).value_or(Protocol::kAny);
    auto ports = stored_ports(r.text(4));
    auto source_ports = stored_ports(r.text(5));
    if (!ports || !source_ports) {
      return core::fail(ErrorCode::kStore, "stored ports of profile '" + p.name + "' do not parse");
    }
    i.ports = *ports;
    i.source_ports = *source_ports;
    i.purpose = r.text(6);
    i.cleartext = r.integer(7) != 0;
    i.provenance = {r.text(8), r.text(9), r.text(10)};
    p.intents.push_back(std::move(i));
  }
  return p;
}

constexpr std::string_view kProfileColumns =
    "SELECT id, name, vendor, product, versions, source, mud_url FROM profiles";

}  // namespace

Status save_profile(store::Store& store, Profile& profile, std::string_view format,
                    const Actor& actor) {
  if (profile.name.empty() || profile.vendor.empty() || profile.product.empty()) {
    return core::fail(ErrorCode::kInvalidInput, "a profile needs a name, a vendor and a product");
  }
  if (!profile.versions.empty()) {
    if (auto range = advisory::parse_vers(profile.versions); !range) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("profile '{}': versions '{}': {}", profile.name,
                                    profile.versions, range.error().message));
    }
  }
  VIGIE_TRY(store.lock_table("profiles"));
  const Value name_param[] = {profile.name};
  auto replaced = store.query_int("SELECT COUNT(*) FROM profiles WHERE name = ?", name_param);
  if (!replaced) return tl::unexpected(replaced.error());
  VIGIE_TRY(store.execute(
      "DELETE FROM profile_intents WHERE profile_id IN (SELECT id FROM profiles WHERE name = ?)",
      name_param));
  VIGIE_TRY(store.execute("DELETE FROM profiles WHERE name = ?", name_param));
  auto id = store.next_id("profiles");
  if (!id) return tl::unexpected(id.error());
  profile.id = *id;
  const std::string vendor_norm = inventory::normalize_vendor(profile.vendor);
  const std::string at = now_or(actor);
  const Value row[] = {profile.id,
                       profile.name,
                       profile.vendor,
                       profile.product,
                       vendor_norm,
                       inventory::normalize_product(vendor_norm, profile.product),
                       profile.versions.empty() ? Value(nullptr) : Value(profile.versions),
                       profile.source,
                       profile.mud_url.empty() ? Value(nullptr) : Value(profile.mud_url),
                       std::string(format),
                       at,
                       actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO profiles (id, name, vendor, product, vendor_norm, product_norm, versions, "
      "source, mud_url, format, imported_at, imported_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
      row));
  for (size_t i = 0; i < profile.intents.size(); ++i) {
    const Intent& in = profile.intents[i];
    const Value r[] = {profile.id,
                       static_cast<std::int64_t>(i),
                       std::string(to_string(in.direction)),
                       std::string(to_string(in.peer.kind)),
                       in.peer.value,
                       std::string(to_string(in.protocol)),
                       format_ports(in.ports),
                       in.source_ports.empty() ? std::string() : format_ports(in.source_ports),
                       in.purpose,
                       std::int64_t{in.cleartext ? 1 : 0},
                       in.provenance.document,
                       in.provenance.locator,
                       in.provenance.quote};
    VIGIE_TRY(store.execute(
        "INSERT INTO profile_intents (profile_id, position, direction, peer_kind, peer, protocol, "
        "ports, source_ports, purpose, cleartext, provenance_document, provenance_locator, "
        "provenance_quote) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        r));
  }
  return audit_change(
      store, actor, *replaced > 0 ? "netpolicy.profile.replace" : "netpolicy.profile.import",
      "profile:" + profile.name,
      {{"format", format}, {"source", profile.source}, {"intents", profile.intents.size()}});
}

Result<std::vector<Profile>> load_profiles(store::Store& store) {
  auto rows = store.query(std::string(kProfileColumns) + " ORDER BY name");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Profile> profiles;
  profiles.reserve(rows->size());
  for (const auto& row : *rows) {
    auto p = load_profile_row(store, row);
    if (!p) return tl::unexpected(p.error());
    profiles.push_back(std::move(*p));
  }
  return profiles;
}

Result<std::optional<Profile>> find_profile(store::Store& store, std::string_view name) {
  const Value params[] = {std::string(name)};
  auto rows = store.query(std::string(kProfileColumns) + " WHERE name = ?", params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<Profile>{};
  auto p = load_profile_row(store, rows->front());
  if (!p) return tl::unexpected(p.error());
  return std::optional<Profile>(std::move(*p));
}

Result<std::vector<Zone>> load_zones(store::Store& store) {
  std::vector<Zone> zones;
  std::unordered_map<std::int64_t, size_t> index;
  std::unordered_map<std::int64_t, bool> kind_set;
  auto status = store.for_each(
      "SELECT z.id, s.name, z.name, z.vlan, zp.kind FROM zones z JOIN sites s ON s.id = z.site_id "
      "LEFT JOIN zone_policies zp ON zp.zone_id = z.id ORDER BY s.name, z.name",
      {}, [&](const store::Row& r) {
        Zone z;
        z.id = r.integer(0);
        z.site = r.text(1);
        z.name = r.text(2);
        if (!r.is_null(3)) z.vlan = static_cast<int>(r.integer(3));
        z.kind = r.is_null(4) ? guess_zone_kind(z.name)
                              : parse_zone_kind(r.text(4)).value_or(ZoneKind::kOther);
        index[z.id] = zones.size();
        zones.push_back(std::move(z));
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  std::set<std::int64_t> has_networks;
  status = store.for_each("SELECT zone_id, prefix FROM zone_networks ORDER BY zone_id, prefix", {},
                          [&](const store::Row& r) {
                            auto it = index.find(r.integer(0));
                            auto prefix = parse_prefix(r.text(1));
                            if (it != index.end() && prefix) {
                              zones[it->second].networks.push_back(*prefix);
                              has_networks.insert(r.integer(0));
                            }
                            return true;
                          });
  if (!status) return tl::unexpected(status.error());
  std::map<std::int64_t, std::set<IpPrefix>> guessed;
  status = store.for_each(
      "SELECT d.zone_id, i.ip FROM interfaces i JOIN devices d ON d.id = i.device_id "
      "WHERE d.zone_id IS NOT NULL AND i.ip IS NOT NULL",
      {}, [&](const store::Row& r) {
        if (has_networks.contains(r.integer(0))) return true;
        if (auto ip = parse_ip(r.text(1))) guessed[r.integer(0)].insert(default_network(*ip));
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  for (auto& [zone_id, prefixes] : guessed) {
    auto it = index.find(zone_id);
    if (it != index.end()) zones[it->second].networks.assign(prefixes.begin(), prefixes.end());
  }
  return zones;
}

Result<Zone> find_zone(store::Store& store, std::string_view name) {
  auto zones = load_zones(store);
  if (!zones) return tl::unexpected(zones.error());
  const auto slash = name.find('/');
  const std::string site = slash == std::string_view::npos
                               ? std::string()
                               : inventory::normalize_words(name.substr(0, slash));
  const std::string zone =
      inventory::normalize_words(slash == std::string_view::npos ? name : name.substr(slash + 1));
  std::vector<const Zone*> found;
  for (const auto& z : *zones) {
    if (inventory::normalize_words(z.name) != zone) continue;
    if (!site.empty() && inventory::normalize_words(z.site) != site) continue;
    found.push_back(&z);
  }
  if (found.empty()) return core::fail(ErrorCode::kNotFound, fmt::format("no zone '{}'", name));
  if (found.size() > 1) {
    return core::fail(
        ErrorCode::kUsage,
        fmt::format("zone '{}' exists at {} sites: say which, as SITE/ZONE", name, found.size()));
  }
  return *found.front();
}

Result<std::int64_t> create_zone(store::Store& store, std::int64_t site_id, std::string_view name,
                                 ZoneKind kind, const std::vector<IpPrefix>& networks,
                                 const Actor& actor) {
  const std::string norm = inventory::normalize_words(name);
  if (norm.empty()) return core::fail(ErrorCode::kInvalidInput, "a zone needs a name");
  VIGIE_TRY(store.lock_table("zones"));
  const Value key[] = {site_id, norm};
  auto exists =
      store.query_int("SELECT COUNT(*) FROM zones WHERE site_id = ? AND name_norm = ?", key);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists > 0) {
    return core::fail(ErrorCode::kConflict,
                      fmt::format("zone '{}' already exists at this site", name));
  }
  auto id = store.next_id("zones");
  if (!id) return tl::unexpected(id.error());
  const std::string trust = kind == ZoneKind::kInternet ? "untrusted" : "unknown";
  const Value row[] = {*id, site_id, std::string(name), norm, trust};
  VIGIE_TRY(store.execute(
      "INSERT INTO zones (id, site_id, name, name_norm, trust) VALUES (?, ?, ?, ?, ?)", row));
  VIGIE_TRY(audit_change(store, actor, "netpolicy.zone.create", fmt::format("zone:{}", *id),
                         {{"site_id", site_id}, {"name", name}}));
  VIGIE_TRY(set_zone_kind(store, *id, kind, actor));
  if (!networks.empty()) VIGIE_TRY(set_zone_networks(store, *id, networks, actor));
  return *id;
}

Status set_zone_kind(store::Store& store, std::int64_t zone_id, ZoneKind kind, const Actor& actor) {
  const Value params[] = {zone_id};
  VIGIE_TRY(store.execute("DELETE FROM zone_policies WHERE zone_id = ?", params));
  const Value row[] = {zone_id, std::string(to_string(kind))};
  VIGIE_TRY(store.execute("INSERT INTO zone_policies (zone_id, kind) VALUES (?, ?)", row));
  return audit_change(store, actor, "netpolicy.zone.kind", fmt::format("zone:{}", zone_id),
                      {{"kind", to_string(kind)}});
}

Status set_zone_networks(store::Store& store, std::int64_t zone_id,
                         const std::vector<IpPrefix>& networks, const Actor& actor) {
  const Value params[] = {zone_id};
  VIGIE_TRY(store.execute("DELETE FROM zone_networks WHERE zone_id = ?", params));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& n : std::set<IpPrefix>(networks.begin(), networks.end())) {
    const Value row[] = {zone_id, n.to_string()};
    VIGIE_TRY(store.execute("INSERT INTO zone_networks (zone_id, prefix) VALUES (?, ?)", row));
    list.push_back(n.to_string());
  }
  return audit_change(store, actor, "netpolicy.zone.networks", fmt::format("zone:{}", zone_id),
                      {{"networks", list}});
}

Result<std::vector<DeviceAddress>> load_device_addresses(store::Store& store) {
  std::vector<DeviceAddress> out;
  auto status = store.for_each(
      "SELECT d.id, i.ip, d.zone_id, d.site_id, p.vendor_norm, p.product_norm, "
      "d.software_version FROM devices d JOIN interfaces i ON i.device_id = d.id "
      "JOIN products p ON p.id = d.product_id WHERE i.ip IS NOT NULL AND i.ip <> '' "
      "AND (d.status = 'in-service' OR d.status = 'standalone') ORDER BY d.id, i.id",
      {}, [&](const store::Row& r) {
        auto ip = parse_ip(r.text(1));
        if (!ip) return true;
        out.push_back(
            {r.integer(0), *ip, r.integer(2), r.integer(3), r.text(4), r.text(5), r.text(6)});
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  return out;
}

namespace {

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

std::string normalize_role(std::string_view role) {
  std::string r = inventory::normalize_words(role);
  std::replace(r.begin(), r.end(), ' ', '-');
  return r;
}

}  // namespace

Status bind_role(store::Store& store, std::int64_t site_id, std::string_view role,
                 std::string_view address, const Actor& actor) {
  const std::string role_norm = normalize_role(role);
  if (role_norm.empty()) return core::fail(ErrorCode::kInvalidInput, "empty role name");
  std::string kind = "prefix";
  std::string value;
  if (auto prefix = parse_prefix(address)) {
    value = prefix->to_string();
  } else if (valid_dns_name(address)) {
    kind = "dns";
    value = core::ascii_lower(address);
  } else {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("'{}' is neither an address, a prefix nor a DNS name", address));
  }
  VIGIE_TRY(store.lock_table("site_roles"));
  const Value key[] = {site_id, role_norm, value};
  auto exists = store.query_int(
      "SELECT COUNT(*) FROM site_roles WHERE site_id = ? AND role = ? AND address = ?", key);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists > 0) return {};
  auto id = store.next_id("site_roles");
  if (!id) return tl::unexpected(id.error());
  const Value row[] = {*id, site_id, role_norm, value, kind, now_or(actor), actor.name};
  VIGIE_TRY(store.execute(
      "INSERT INTO site_roles (id, site_id, role, address, kind, created_at, created_by) "
      "VALUES (?,?,?,?,?,?,?)",
      row));
  return audit_change(store, actor, "netpolicy.role.bind",
                      fmt::format("site:{}/role:{}", site_id, role_norm),
                      {{"address", value}, {"kind", kind}});
}

Status unbind_role(store::Store& store, std::int64_t site_id, std::string_view role,
                   std::string_view address, const Actor& actor) {
  const std::string role_norm = normalize_role(role);
  std::string value(address);
  if (auto prefix = parse_prefix(address)) {
    value = prefix->to_string();
  } else {
    value = core::ascii_lower(address);
  }
  const Value key[] = {site_id, role_norm, value};
  auto exists = store.query_int(
      "SELECT COUNT(*) FROM site_roles WHERE site_id = ? AND role = ? AND address = ?", key);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists == 0) {
    return core::fail(ErrorCode::kNotFound,
                      fmt::format("role '{}' is not bound to '{}' at this site", role_norm, value));
  }
  VIGIE_TRY(store.execute(
      "DELETE FROM dns_addresses WHERE site_role_id IN (SELECT id FROM site_roles WHERE "
      "site_id = ? AND role = ? AND address = ?)",
      key));
  VIGIE_TRY(
      store.execute("DELETE FROM site_roles WHERE site_id = ? AND role = ? AND address = ?", key));
  return audit_change(store, actor, "netpolicy.role.unbind",
                      fmt::format("site:{}/role:{}", site_id, role_norm), {{"address", value}});
}

Result<std::map<std::string, std::vector<IpPrefix>>> role_addresses(store::Store& store,
                                                                    std::int64_t site_id) {
  return role_addresses_at(store, site_id, core::format_utc(core::utc_now()));
}

Result<std::map<std::string, std::vector<IpPrefix>>> role_addresses_at(store::Store& store,
                                                                       std::int64_t site_id,
                                                                       std::string_view now) {
  std::map<std::string, std::set<IpPrefix>> roles;
  const Value params[] = {site_id};
  auto status =
      store.for_each("SELECT role, address FROM site_roles WHERE site_id = ? AND kind = 'prefix'",
                     params, [&](const store::Row& r) {
                       if (auto p = parse_prefix(r.text(1))) roles[r.text(0)].insert(*p);
                       return true;
                     });
  if (!status) return tl::unexpected(status.error());
  // A DNS name stands for the addresses it resolves to now; when every resolution has
  // expired (the resolver has not run lately), for those of its latest resolution.
  const Value dns_params[] = {site_id};
  std::map<std::int64_t,
           std::tuple<std::string, std::string, std::vector<std::pair<std::string, IpPrefix>>>>
      by_role;
  status = store.for_each(
      "SELECT r.id, r.role, a.address, a.last_seen, a.expires_at FROM site_roles r "
      "JOIN dns_addresses a ON a.site_role_id = r.id WHERE r.site_id = ? AND r.kind = 'dns'",
      dns_params, [&](const store::Row& r) {
        auto ip = parse_ip(r.text(2));
        if (!ip) return true;
        auto& [role, latest, addresses] = by_role[r.integer(0)];
        role = r.text(1);
        if (r.text(3) > latest) latest = r.text(3);
        addresses.emplace_back(r.text(4) >= now ? std::string("live") : r.text(3),
                               IpPrefix::host(*ip));
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  for (const auto& [id, entry] : by_role) {
    const auto& [role, latest, addresses] = entry;
    const bool any_live = std::any_of(addresses.begin(), addresses.end(),
                                      [](const auto& a) { return a.first == "live"; });
    for (const auto& [state, prefix] : addresses) {
      if (state == "live" || (!any_live && state == latest)) roles[role].insert(prefix);
    }
  }
  std::map<std::string, std::vector<IpPrefix>> out;
  for (auto& [role, prefixes] : roles) out[role].assign(prefixes.begin(), prefixes.end());
  return out;
}

Result<size_t> import_roles_csv(store::Store& store, const std::filesystem::path& path,
                                const Actor& actor) {
  auto reader = core::CsvReader::open(path);
  if (!reader) return tl::unexpected(reader.error());
  std::vector<std::string_view> fields;
  auto more = reader->next(fields);
  if (!more) return tl::unexpected(more.error());
  std::map<std::string, size_t> column;
  for (size_t i = 0; *more && i < fields.size(); ++i) {
    column[core::ascii_lower(core::trim(fields[i]))] = i;
  }
  for (const char* name : {"site", "role", "address"}) {
    if (!column.contains(name)) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("missing column '{}'", name),
                        path.string() + ":1");
    }
  }
  std::map<std::string, std::int64_t> sites;
  VIGIE_TRY(store.for_each("SELECT id, name_norm FROM sites", {}, [&](const store::Row& r) {
    sites[r.text(1)] = r.integer(0);
    return true;
  }));
  size_t rows = 0;
  while (true) {
    more = reader->next(fields);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    const auto cell = [&](const char* name) {
      const size_t i = column[name];
      return i < fields.size() ? std::string(core::trim(fields[i])) : std::string();
    };
    const std::string where = fmt::format("{}:{}", path.string(), reader->line());
    auto site = sites.find(inventory::normalize_words(cell("site")));
    if (site == sites.end()) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("no site '{}'", cell("site")),
                        where + " column 'site'");
    }
    if (auto st = bind_role(store, site->second, cell("role"), cell("address"), actor); !st) {
      return core::fail(st.error().code, st.error().message, where);
    }
    ++rows;
  }
  return rows;
}

}  // namespace vigie::netpolicy
