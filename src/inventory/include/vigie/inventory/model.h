// The hospital's devices: sites, zones (network segments with a trust level), devices and
// their network interfaces and observed open ports. Text fields keep the original spelling;
// vendor and product also carry a normalised form used for matching advisories.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::inventory {

using core::Result;
using core::Status;

enum class Criticality { kLifeSupporting, kDiagnostic, kOther };
enum class DeviceStatus { kInService, kStandalone, kDisconnected, kDecommissioned, kSold };
enum class Trust { kHigh, kMedium, kLow, kUntrusted, kUnknown };

std::string_view to_string(Criticality c);
std::string_view to_string(DeviceStatus s);
std::string_view to_string(Trust t);
// Accept the canonical spelling, '_' or ' ' for '-', any case, and common French terms
// ("vital", "en service", "vendu"...).
std::optional<Criticality> parse_criticality(std::string_view text);
std::optional<DeviceStatus> parse_status(std::string_view text);
std::optional<Trust> parse_trust(std::string_view text);

struct Interface {
  std::string ip;   // canonical text form (inet_ntop)
  std::string mac;  // aa:bb:cc:dd:ee:ff
  std::string hostname;
  std::optional<int> vlan;
};

struct OpenPort {
  std::string ip;
  std::string protocol;  // tcp, udp, sctp
  int port = 0;
  std::string state;  // open, open|filtered...
  std::string service;
  std::string service_product;
  std::string seen_at;
};

struct Device {
  std::int64_t id = 0;
  std::string vendor;
  std::string vendor_norm;
  std::string product;
  std::string product_norm;
  std::string part_number;
  std::string serial_number;
  std::string udi;
  std::string software_version;
  std::string hardware_revision;
  std::string os;
  std::string site;
  std::string zone;
  std::optional<int> zone_vlan;
  Trust zone_trust = Trust::kUnknown;
  std::string location;
  std::string owner;
  Criticality criticality = Criticality::kOther;
  DeviceStatus status = DeviceStatus::kInService;
  std::string new_owner;
  bool remote_service = false;
  std::string maintenance_contract;
  bool identified = true;
  std::vector<Interface> interfaces;
  std::vector<OpenPort> open_ports;
  std::string created_at;
  std::string updated_at;
};

// The fields a device has, as named in CSV headers, `vigie devices set` and the JSON shape.
enum class Field {
  kVendor,
  kProduct,
  kPartNumber,
  kSerialNumber,
  kUdi,
  kSoftwareVersion,
  kHardwareRevision,
  kOs,
  kSite,
  kZone,
  kZoneVlan,
  kZoneTrust,
  kIp,
  kMac,
  kHostname,
  kVlan,
  kLocation,
  kOwner,
  kCriticality,
  kStatus,
  kNewOwner,
  kRemoteService,
  kMaintenanceContract,
};
constexpr size_t kFieldCount = 23;

struct FieldInfo {
  Field field;
  std::string_view name;
  std::string_view doc;
};
const std::array<FieldInfo, kFieldCount>& fields();
// Case-insensitive; accepts a few documented synonyms (model, p/n, ref, sn, sw_version...).
std::optional<Field> find_field(std::string_view name);

// Parses `value` into the device. Interface fields (ip, mac, hostname, vlan) accept several
// interfaces separated by '|', position by position. Returns a reason on refusal.
std::optional<std::string> set_field(Device& device, Field field, std::string_view value);

// Checks that hold across fields (required vendor/product, sold => new owner...).
std::optional<std::string> check_device(const Device& device);

// Canonical forms, or nullopt when the text is not an address.
std::optional<std::string> canonical_ip(std::string_view text);
std::optional<std::string> canonical_mac(std::string_view text);

}  // namespace vigie::inventory
