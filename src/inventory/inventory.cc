#include "vigie/inventory/inventory.h"

#include <fmt/format.h>

#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"
#include "vigie/store/store.h"
#include "writer_internal.h"

namespace vigie::inventory {
namespace {

using core::ErrorCode;
using store::Value;

constexpr std::string_view kSelect =
    "SELECT d.id, d.vendor, p.vendor_norm, d.product, p.product_norm, d.part_number, "
    "d.serial_number, d.udi, d.software_version, d.hardware_revision, d.os, s.name, z.name, "
    "z.vlan, z.trust, d.location, d.owner, d.criticality, d.status, d.new_owner, "
    "d.remote_service, d.maintenance_contract, d.identified, d.created_at, d.updated_at, "
    "i.ip, i.mac, i.hostname, i.vlan "
    "FROM devices d JOIN products p ON p.id = d.product_id "
    "LEFT JOIN sites s ON s.id = d.site_id LEFT JOIN zones z ON z.id = d.zone_id "
    "LEFT JOIN interfaces i ON i.device_id = d.id";

Device device_from_row(const store::Row& r) {
  Device d;
  d.id = r.integer(0);
  d.vendor = r.text(1);
  d.vendor_norm = r.text(2);
  d.product = r.text(3);
  d.product_norm = r.text(4);
  d.part_number = r.text(5);
  d.serial_number = r.text(6);
  d.udi = r.text(7);
  d.software_version = r.text(8);
  d.hardware_revision = r.text(9);
  d.os = r.text(10);
  d.site = r.text(11);
  d.zone = r.text(12);
  if (!r.is_null(13)) d.zone_vlan = static_cast<int>(r.integer(13));
  d.zone_trust = parse_trust(r.text(14)).value_or(Trust::kUnknown);
  d.location = r.text(15);
  d.owner = r.text(16);
  d.criticality = parse_criticality(r.text(17)).value_or(Criticality::kOther);
  d.status = parse_status(r.text(18)).value_or(DeviceStatus::kInService);
  d.new_owner = r.text(19);
  d.remote_service = r.integer(20) != 0;
  d.maintenance_contract = r.text(21);
  d.identified = r.integer(22) != 0;
  d.created_at = r.text(23);
  d.updated_at = r.text(24);
  return d;
}

void add_interface(Device& d, const store::Row& r) {
  if (r.is_null(25) && r.is_null(26) && r.is_null(27)) return;
  Interface i{r.text(25), r.text(26), r.text(27), std::nullopt};
  if (!r.is_null(28)) i.vlan = static_cast<int>(r.integer(28));
  d.interfaces.push_back(std::move(i));
}

// WHERE clause over devices d / sites s / zones z and its parameters.
std::pair<std::string, std::vector<Value>> where_clause(const DeviceFilter& f) {
  std::string sql;
  std::vector<Value> params;
  auto add = [&](std::string_view cond) { sql += sql.empty() ? " WHERE " : " AND ", sql += cond; };
  if (!f.vendor.empty()) {
    std::string v = normalize_vendor(f.vendor);
    add("d.product_id IN (SELECT id FROM products WHERE vendor_norm = ? OR vendor_norm LIKE ?)");
    params.emplace_back(v);
    params.emplace_back(v + "%");
  }
  if (!f.zone.empty()) {
    auto slash = f.zone.find('/');
    if (slash != std::string::npos) {
      add("z.name_norm = ? AND s.name_norm = ?");
      params.emplace_back(normalize_words(f.zone.substr(slash + 1)));
      params.emplace_back(normalize_words(f.zone.substr(0, slash)));
    } else {
      add("z.name_norm = ?");
      params.emplace_back(normalize_words(f.zone));
    }
  }
  if (!f.site.empty()) {
    add("s.name_norm = ?");
    params.emplace_back(normalize_words(f.site));
  }
  if (!f.status.empty()) {
    add("d.status = ?");
    params.emplace_back(
        std::string(to_string(parse_status(f.status).value_or(DeviceStatus::kInService))));
  }
  return {sql, params};
}

}  // namespace

Status for_each_device(store::Store& store, const DeviceFilter& filter,
                       const std::function<bool(const Device&)>& on_device) {
  if (!filter.status.empty() && !parse_status(filter.status)) {
    return core::fail(ErrorCode::kUsage, fmt::format("'{}' is not a device status", filter.status));
  }
  auto [where, params] = where_clause(filter);
  // Page on device ids first, then join the interfaces of that page.
  std::string ids = fmt::format(
      "SELECT d.id FROM devices d LEFT JOIN sites s ON s.id = d.site_id "
      "LEFT JOIN zones z ON z.id = d.zone_id{} ORDER BY d.id",
      where);
  if (filter.limit > 0 || filter.offset > 0) {
    ids += fmt::format(" LIMIT {} OFFSET {}", filter.limit > 0 ? filter.limit : SIZE_MAX >> 1,
                       filter.offset);
  }
  std::string sql = fmt::format("{} WHERE d.id IN ({}) ORDER BY d.id, i.id", kSelect, ids);
  std::optional<Device> current;
  bool go_on = true;
  VIGIE_TRY(store.for_each(sql, params, [&](const store::Row& r) {
    std::int64_t id = r.integer(0);
    if (!current || current->id != id) {
      if (current && !on_device(*current)) return go_on = false;
      current = device_from_row(r);
    }
    add_interface(*current, r);
    return true;
  }));
  if (current && go_on) on_device(*current);
  return {};
}

Result<std::int64_t> count_devices(store::Store& store, const DeviceFilter& filter) {
  auto [where, params] = where_clause(filter);
  return store.query_int(fmt::format("SELECT COUNT(*) FROM devices d LEFT JOIN sites s ON s.id = "
                                     "d.site_id LEFT JOIN zones z ON z.id = d.zone_id{}",
                                     where),
                         params);
}

Result<Device> get_device(store::Store& store, std::int64_t id) {
  std::optional<Device> device;
  Value key[] = {id};
  VIGIE_TRY(store.for_each(fmt::format("{} WHERE d.id = ? ORDER BY i.id", kSelect), key,
                           [&](const store::Row& r) {
                             if (!device) device = device_from_row(r);
                             add_interface(*device, r);
                             return true;
                           }));
  if (!device) return core::fail(ErrorCode::kNotFound, fmt::format("no device with id {}", id));
  VIGIE_TRY(store.for_each(
      "SELECT ip, protocol, port, state, service, service_product, seen_at FROM open_ports "
      "WHERE device_id = ? ORDER BY ip, protocol, port",
      key, [&](const store::Row& r) {
        device->open_ports.push_back({r.text(0), r.text(1), static_cast<int>(r.integer(2)),
                                      r.text(3), r.text(4), r.text(5), r.text(6)});
        return true;
      }));
  return *device;
}

Status set_device_fields(store::Store& store, std::int64_t id,
                         const std::vector<std::pair<std::string, std::string>>& assignments) {
  auto current = get_device(store, id);
  if (!current) return tl::unexpected(current.error());
  Device d = std::move(*current);
  internal::FieldMask present;
  for (const auto& [key, value] : assignments) {
    auto field = find_field(key);
    if (!field) {
      return core::fail(ErrorCode::kUsage, fmt::format("unknown field '{}'", key), key);
    }
    bool interface_field = *field == Field::kIp || *field == Field::kMac ||
                           *field == Field::kHostname || *field == Field::kVlan;
    if (interface_field && !internal::has(present, Field::kIp) &&
        !internal::has(present, Field::kMac) && !internal::has(present, Field::kHostname) &&
        !internal::has(present, Field::kVlan)) {
      // Interface values given on the command line replace the interface list.
      d.interfaces.clear();
    }
    if (auto why = set_field(d, *field, value)) {
      return core::fail(ErrorCode::kInvalidInput, *why, key);
    }
    present.set(static_cast<size_t>(*field));
  }
  if (auto why = check_device(d)) return core::fail(ErrorCode::kInvalidInput, *why);
  // The same writer as imports, so that identity, duplicates and zones follow one set of rules.
  ImportResult result;
  ImportOptions options;
  internal::DeviceWriter writer(store, result, options);
  if (!writer.begin()) return tl::unexpected(result.errors.front());
  if (internal::has(present, Field::kVendor) || internal::has(present, Field::kProduct) ||
      internal::has(present, Field::kSerialNumber)) {
    present.set(static_cast<size_t>(Field::kVendor));
    present.set(static_cast<size_t>(Field::kProduct));
  }
  if (internal::has(present, Field::kZone) || internal::has(present, Field::kZoneVlan) ||
      internal::has(present, Field::kZoneTrust)) {
    present.set(static_cast<size_t>(Field::kSite));
    present.set(static_cast<size_t>(Field::kZone));
  }
  writer.update(id, d, present, fmt::format("device {}", id));
  writer.finish("set", fmt::format("device {}", id));
  if (!result.ok()) return tl::unexpected(result.errors.front());
  return {};
}

void write_json(core::JsonWriter& w, const Device& d) {
  w.begin_object();
  w.key("id").value(d.id);
  w.key("vendor").value(d.vendor);
  w.key("vendor_normalized").value(d.vendor_norm);
  w.key("product").value(d.product);
  w.key("product_normalized").value(d.product_norm);
  w.key("part_number").text_or_null(d.part_number);
  w.key("serial_number").text_or_null(d.serial_number);
  w.key("udi").text_or_null(d.udi);
  w.key("software_version").text_or_null(d.software_version);
  w.key("hardware_revision").text_or_null(d.hardware_revision);
  w.key("os").text_or_null(d.os);
  w.key("site").text_or_null(d.site);
  w.key("zone");
  if (d.zone.empty()) {
    w.null();
  } else {
    w.begin_object();
    w.key("name").value(d.zone);
    w.key("vlan").value_or_null(d.zone_vlan);
    w.key("trust").value(to_string(d.zone_trust));
    w.end_object();
  }
  w.key("location").text_or_null(d.location);
  w.key("owner").text_or_null(d.owner);
  w.key("criticality").value(to_string(d.criticality));
  w.key("status").value(to_string(d.status));
  w.key("new_owner").text_or_null(d.new_owner);
  w.key("remote_service").value(d.remote_service);
  w.key("maintenance_contract").text_or_null(d.maintenance_contract);
  w.key("identified").value(d.identified);
  w.key("interfaces").begin_array();
  for (const auto& i : d.interfaces) {
    w.begin_object();
    w.key("ip").text_or_null(i.ip);
    w.key("mac").text_or_null(i.mac);
    w.key("hostname").text_or_null(i.hostname);
    w.key("vlan").value_or_null(i.vlan);
    w.end_object();
  }
  w.end_array();
  if (!d.open_ports.empty()) {
    w.key("open_ports").begin_array();
    for (const auto& p : d.open_ports) {
      w.begin_object();
      w.key("ip").value(p.ip);
      w.key("protocol").value(p.protocol);
      w.key("port").value(std::int64_t{p.port});
      w.key("state").value(p.state);
      w.key("service").text_or_null(p.service);
      w.key("service_product").text_or_null(p.service_product);
      w.key("seen_at").value(p.seen_at);
      w.end_object();
    }
    w.end_array();
  }
  w.key("created_at").value(d.created_at);
  w.key("updated_at").value(d.updated_at);
  w.end_object();
}

std::string to_json_text(const Device& device) {
  std::string out;
  core::JsonWriter w(out);
  write_json(w, device);
  return out;
}

}  // namespace vigie::inventory
