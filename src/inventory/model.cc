#include "vigie/inventory/model.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "vigie/core/text.h"
#include "vigie/inventory/normalize.h"

namespace vigie::inventory {
namespace {

template <class E, size_t N>
struct Spelling {
  std::array<std::pair<std::string_view, E>, N> entries;
  std::optional<E> parse(std::string_view text) const {
    std::string key = normalize_words(text);
    for (const auto& [name, value] : entries) {
      if (name == key) return value;
    }
    return std::nullopt;
  }
};

// Keys are normalised words (normalize_words), so "In_Service" and "in-service" both match.
constexpr Spelling<Criticality, 9> kCriticality{{{
    {"life supporting", Criticality::kLifeSupporting},
    {"life support", Criticality::kLifeSupporting},
    {"vital", Criticality::kLifeSupporting},
    {"critical", Criticality::kLifeSupporting},
    {"diagnostic", Criticality::kDiagnostic},
    {"diagnostique", Criticality::kDiagnostic},
    {"other", Criticality::kOther},
    {"autre", Criticality::kOther},
    {"", Criticality::kOther},
}}};

constexpr Spelling<DeviceStatus, 15> kStatus{{{
    {"in service", DeviceStatus::kInService},
    {"en service", DeviceStatus::kInService},
    {"active", DeviceStatus::kInService},
    {"", DeviceStatus::kInService},
    {"standalone", DeviceStatus::kStandalone},
    {"autonome", DeviceStatus::kStandalone},
    {"disconnected", DeviceStatus::kDisconnected},
    {"deconnecte", DeviceStatus::kDisconnected},
    {"stock", DeviceStatus::kDisconnected},  // GLPI's usual "En stock" state
    {"en stock", DeviceStatus::kDisconnected},
    {"decommissioned", DeviceStatus::kDecommissioned},
    {"reforme", DeviceStatus::kDecommissioned},
    {"retired", DeviceStatus::kDecommissioned},
    {"sold", DeviceStatus::kSold},
    {"vendu", DeviceStatus::kSold},
}}};

constexpr Spelling<Trust, 6> kTrust{{{
    {"high", Trust::kHigh},
    {"medium", Trust::kMedium},
    {"low", Trust::kLow},
    {"untrusted", Trust::kUntrusted},
    {"unknown", Trust::kUnknown},
    {"", Trust::kUnknown},
}}};

constexpr std::array<FieldInfo, kFieldCount> kFields = {{
    {Field::kVendor, "vendor", "Manufacturer as written (required)."},
    {Field::kProduct, "product", "Product / model name (required)."},
    {Field::kPartNumber, "part_number", "Vendor part number (P/N, REF, material number)."},
    {Field::kSerialNumber, "serial_number", "Serial number; unique per vendor and product."},
    {Field::kUdi, "udi", "UDI-DI / GTIN when known."},
    {Field::kSoftwareVersion, "software_version", "Software version as the vendor writes it."},
    {Field::kHardwareRevision, "hardware_revision", "Hardware revision."},
    {Field::kOs, "os", "Operating system, e.g. \"Windows 7\"."},
    {Field::kSite, "site", "Site (hospital, clinic) the device belongs to."},
    {Field::kZone, "zone", "Network zone / segment within the site (requires site)."},
    {Field::kZoneVlan, "zone_vlan", "VLAN id of the zone (1-4094)."},
    {Field::kZoneTrust, "zone_trust", "Trust level of the zone: high, medium, low, untrusted."},
    {Field::kIp, "ip", "IPv4/IPv6 address; several interfaces separated by '|'."},
    {Field::kMac, "mac", "MAC address (any common notation); '|' per interface."},
    {Field::kHostname, "hostname", "Host name; '|' per interface."},
    {Field::kVlan, "vlan", "VLAN id of the interface; '|' per interface."},
    {Field::kLocation, "location", "Building / room."},
    {Field::kOwner, "owner", "Owning department."},
    {Field::kCriticality, "criticality", "life-supporting, diagnostic or other."},
    {Field::kStatus, "status",
     "in-service, standalone, disconnected, decommissioned or sold (sold needs new_owner)."},
    {Field::kNewOwner, "new_owner", "Who the device was sold to (safety letters go there)."},
    {Field::kRemoteService, "remote_service", "yes/no: under the vendor's remote service."},
    {Field::kMaintenanceContract, "maintenance_contract", "Maintenance contract reference."},
}};

constexpr std::array<std::pair<std::string_view, Field>, 14> kFieldSynonyms = {{
    {"manufacturer", Field::kVendor},
    {"model", Field::kProduct},
    {"p n", Field::kPartNumber},
    {"pn", Field::kPartNumber},
    {"ref", Field::kPartNumber},
    {"sn", Field::kSerialNumber},
    {"serial", Field::kSerialNumber},
    {"gtin", Field::kUdi},
    {"sw version", Field::kSoftwareVersion},
    {"version", Field::kSoftwareVersion},
    {"hw revision", Field::kHardwareRevision},
    {"ip address", Field::kIp},
    {"mac address", Field::kMac},
    {"department", Field::kOwner},
}};

std::vector<std::string_view> split_bars(std::string_view value) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t bar = value.find('|', start);
    parts.push_back(core::trim(value.substr(start, bar - start)));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return parts;
}

std::optional<int> parse_vlan(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > 4094) {
    return std::nullopt;
  }
  return v;
}

std::optional<bool> parse_yes_no(std::string_view text) {
  std::string k = normalize_words(text);
  if (k == "yes" || k == "y" || k == "true" || k == "1" || k == "oui" || k == "o") return true;
  if (k == "no" || k == "n" || k == "false" || k == "0" || k == "non" || k.empty()) return false;
  return std::nullopt;
}

// Sets one attribute of each interface listed in `value` ("a|b|c").
template <class Setter>
std::optional<std::string> set_interfaces(Device& d, std::string_view value, Setter set) {
  if (value.empty()) return std::nullopt;
  auto parts = split_bars(value);
  if (d.interfaces.size() < parts.size()) d.interfaces.resize(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    if (auto why = set(d.interfaces[i], parts[i])) return why;
  }
  return std::nullopt;
}

constexpr size_t kMaxFieldBytes = 512;

// Imports repeat a few vendor and product spellings on every row: their normal forms are
// remembered per thread instead of being computed again (bounded: past kMaxCached spellings,
// new ones are normalised every time).
constexpr size_t kMaxCached = 4096;

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NormCache = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;

template <class Normalize>
const std::string& cached(NormCache& cache, std::string_view key, Normalize normalize) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) {
    thread_local std::string uncached;
    uncached = normalize();
    return uncached;
  }
  return cache.emplace(std::string(key), normalize()).first->second;
}

const std::string& vendor_norm_of(std::string_view vendor) {
  thread_local NormCache cache;
  return cached(cache, vendor, [&] { return normalize_vendor(vendor); });
}

const std::string& product_norm_of(std::string_view vendor_norm, std::string_view product) {
  thread_local NormCache cache;
  thread_local std::string key;
  key.assign(vendor_norm);
  key += '\x1f';
  key += product;
  return cached(cache, key, [&] { return normalize_product(vendor_norm, product); });
}

// Most fields are plain ASCII: checked eight bytes at a time before the full UTF-8 check.
bool is_ascii(std::string_view text) {
  size_t i = 0;
  std::uint64_t high = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, 8);
    high |= word;
  }
  for (; i < text.size(); ++i) high |= static_cast<unsigned char>(text[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

}  // namespace

std::string_view to_string(Criticality c) {
  switch (c) {
    case Criticality::kLifeSupporting:
      return "life-supporting";
    case Criticality::kDiagnostic:
      return "diagnostic";
    case Criticality::kOther:
      return "other";
  }
  return "other";
}

std::string_view to_string(DeviceStatus s) {
  switch (s) {
    case DeviceStatus::kInService:
      return "in-service";
    case DeviceStatus::kStandalone:
      return "standalone";
    case DeviceStatus::kDisconnected:
      return "disconnected";
    case DeviceStatus::kDecommissioned:
      return "decommissioned";
    case DeviceStatus::kSold:
      return "sold";
  }
  return "in-service";
}

std::string_view to_string(Trust t) {
  switch (t) {
    case Trust::kHigh:
      return "high";
    case Trust::kMedium:
      return "medium";
    case Trust::kLow:
      return "low";
    case Trust::kUntrusted:
      return "untrusted";
    case Trust::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<Criticality> parse_criticality(std::string_view text) {
  return kCriticality.parse(text);
}
std::optional<DeviceStatus> parse_status(std::string_view text) { return kStatus.parse(text); }
std::optional<Trust> parse_trust(std::string_view text) { return kTrust.parse(text); }

const std::array<FieldInfo, kFieldCount>& fields() { return kFields; }

std::optional<Field> find_field(std::string_view name) {
  std::string key = core::ascii_lower(core::trim(name));
  for (const auto& f : kFields) {
    if (f.name == key) return f.field;
  }
  std::string words = normalize_words(name);
  for (const auto& [alias, field] : kFieldSynonyms) {
    if (alias == words) return field;
  }
  return std::nullopt;
}

std::optional<std::string> canonical_ip(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
  }
  return std::nullopt;
}

std::optional<std::string> canonical_mac(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == '-' || c == '.') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 12) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < 12; i += 2) {
    if (i > 0) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

std::optional<std::string> set_field(Device& d, Field field, std::string_view raw) {
  std::string_view value = core::trim(raw);
  if (value.size() > kMaxFieldBytes) {
    return fmt::format("value longer than {} bytes", kMaxFieldBytes);
  }
  if (auto bad = is_ascii(value) ? std::nullopt : core::find_invalid_utf8(value)) {
    return fmt::format("invalid UTF-8 at byte {}", *bad);
  }
  switch (field) {
    case Field::kVendor:
      d.vendor = value;
      d.vendor_norm = vendor_norm_of(value);
      if (!d.product.empty()) d.product_norm = product_norm_of(d.vendor_norm, d.product);
      return std::nullopt;
    case Field::kProduct:
      d.product = value;
      d.product_norm = product_norm_of(d.vendor_norm, value);
      return std::nullopt;
    case Field::kPartNumber:
      d.part_number = value;
      return std::nullopt;
    case Field::kSerialNumber:
      d.serial_number = value;
      return std::nullopt;
    case Field::kUdi:
      d.udi = value;
      return std::nullopt;
    case Field::kSoftwareVersion:
      d.software_version = value;
      return std::nullopt;
    case Field::kHardwareRevision:
      d.hardware_revision = value;
      return std::nullopt;
    case Field::kOs:
      d.os = value;
      return std::nullopt;
    case Field::kSite:
      d.site = value;
      return std::nullopt;
    case Field::kZone:
      d.zone = value;
      return std::nullopt;
    case Field::kZoneVlan:
      if (value.empty()) {
        d.zone_vlan.reset();
        return std::nullopt;
      }
      d.zone_vlan = parse_vlan(value);
      if (!d.zone_vlan) return fmt::format("'{}' is not a VLAN id (1-4094)", value);
      return std::nullopt;
    case Field::kZoneTrust: {
      auto t = parse_trust(value);
      if (!t) return fmt::format("'{}' is not a trust level (high, medium, low, untrusted)", value);
      d.zone_trust = *t;
      return std::nullopt;
    }
    case Field::kIp:
      return set_interfaces(d, value, [](Interface& i, std::string_view v) {
        auto ip = canonical_ip(v);
        if (!ip) return std::optional<std::string>(fmt::format("'{}' is not an IP address", v));
        i.ip = *ip;
        return std::optional<std::string>();
      });
    case Field::kMac:
      return set_interfaces(d, value, [](Interface& i, std::string_view v) {
        auto mac = canonical_mac(v);
        if (!mac) return std::optional<std::string>(fmt::format("'{}' is not a MAC address", v));
        i.mac = *mac;
        return std::optional<std::string>();
      });
    case Field::kHostname:
      return set_interfaces(d, value, [](Interface& i, std::string_view v) {
        i.hostname = core::ascii_lower(v);
        return std::optional<std::string>();
      });
    case Field::kVlan:
      return set_interfaces(d, value, [](Interface& i, std::string_view v) {
        i.vlan = parse_vlan(v);
        if (!i.vlan) return std::optional<std::string>(fmt::format("'{}' is not a VLAN id", v));
        return std::optional<std::string>();
      });
    case Field::kLocation:
      d.location = value;
      return std::nullopt;
    case Field::kOwner:
      d.owner = value;
      return std::nullopt;
    case Field::kCriticality: {
      auto c = parse_criticality(value);
      if (!c) {
        return fmt::format("'{}' is not a criticality (life-supporting, diagnostic, other)", value);
      }
      d.criticality = *c;
      return std::nullopt;
    }
    case Field::kStatus: {
      auto s = parse_status(value);
      if (!s) {
        return fmt::format(
            "'{}' is not a status (in-service, standalone, disconnected, decommissioned, sold)",
            value);
      }
      d.status = *s;
      return std::nullopt;
    }
    case Field::kNewOwner:
      d.new_owner = value;
      return std::nullopt;
    case Field::kRemoteService: {
      auto b = parse_yes_no(value);
      if (!b) return fmt::format("'{}' is not yes or no", value);
      d.remote_service = *b;
      return std::nullopt;
    }
    case Field::kMaintenanceContract:
      d.maintenance_contract = value;
      return std::nullopt;
  }
  return "unknown field";
}

std::optional<std::string> check_device(const Device& d) {
  if (d.vendor_norm.empty()) return "vendor is required";
  if (d.product_norm.empty()) return "product is required";
  if (d.status == DeviceStatus::kSold && d.new_owner.empty()) {
    return "a sold device needs its new_owner (safety letters must be forwarded to them)";
  }
  if (!d.zone.empty() && d.site.empty()) return "a zone needs a site";
  return std::nullopt;
}

}  // namespace vigie::inventory
