#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"
#include "writer_internal.h"

namespace vigie::inventory::internal {
namespace {

using core::ErrorCode;
using store::Value;

// A view: the values built here are consumed before the text they name changes.
Value text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return std::string_view(s);
}

Value int_or_null(const std::optional<int>& v) {
  if (!v) return nullptr;
  return std::int64_t{*v};
}

Value id_or_null(const std::optional<std::int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

constexpr std::string_view kDeviceColumns[] = {"id",
                                               "vendor",
                                               "product",
                                               "product_id",
                                               "part_number",
                                               "serial_number",
                                               "udi",
                                               "software_version",
                                               "hardware_revision",
                                               "os",
                                               "site_id",
                                               "zone_id",
                                               "location",
                                               "owner",
                                               "criticality",
                                               "status",
                                               "new_owner",
                                               "remote_service",
                                               "maintenance_contract",
                                               "identified",
                                               "created_at",
                                               "updated_at"};

constexpr std::string_view kInterfaceColumns[] = {"id",  "device_id", "ip",
                                                  "mac", "hostname",  "vlan"};

// Device columns an update may set, with the field that carries each.
struct UpdateColumn {
  Field field;
  std::string_view column;
  Value (*get)(const Device&);
};
const UpdateColumn kUpdateColumns[] = {
    {Field::kVendor, "vendor", [](const Device& d) -> Value { return d.vendor; }},
    {Field::kProduct, "product", [](const Device& d) -> Value { return d.product; }},
    {Field::kPartNumber, "part_number",
     [](const Device& d) { return text_or_null(d.part_number); }},
    {Field::kSerialNumber, "serial_number",
     [](const Device& d) { return text_or_null(d.serial_number); }},
    {Field::kUdi, "udi", [](const Device& d) { return text_or_null(d.udi); }},
    {Field::kSoftwareVersion, "software_version",
     [](const Device& d) { return text_or_null(d.software_version); }},
    {Field::kHardwareRevision, "hardware_revision",
     [](const Device& d) { return text_or_null(d.hardware_revision); }},
    {Field::kOs, "os", [](const Device& d) { return text_or_null(d.os); }},
    {Field::kLocation, "location", [](const Device& d) { return text_or_null(d.location); }},
    {Field::kOwner, "owner", [](const Device& d) { return text_or_null(d.owner); }},
    {Field::kCriticality, "criticality",
     [](const Device& d) -> Value { return std::string(to_string(d.criticality)); }},
    {Field::kStatus, "status",
     [](const Device& d) -> Value { return std::string(to_string(d.status)); }},
    {Field::kNewOwner, "new_owner", [](const Device& d) { return text_or_null(d.new_owner); }},
    {Field::kRemoteService, "remote_service",
     [](const Device& d) -> Value { return std::int64_t{d.remote_service ? 1 : 0}; }},
    {Field::kMaintenanceContract, "maintenance_contract",
     [](const Device& d) { return text_or_null(d.maintenance_contract); }},
};

// A 64-bit hash independent of std::hash (other constants, eight bytes at a time): the
// second half of an identity digest.
std::uint64_t second_hash(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ (s.size() * kMul);
  auto mix = [&](std::uint64_t word) {
    h ^= word;
    h *= kMul;
    h ^= h >> 29;
  };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, 8);
    mix(word);
  }
  if (i < s.size()) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    mix(tail);
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  return h ^ (h >> 32);
}

}  // namespace

SeenDigests::Digest SeenDigests::digest(std::string_view key) {
  Digest d{std::hash<std::string_view>{}(key), second_hash(key)};
  if (d == Digest{}) d.b = 1;  // {0, 0} marks an empty slot
  return d;
}

std::optional<std::string_view> SeenDigests::insert(Digest digest, std::string_view where) {
  if ((used_ + 1) * 4 > slots_.size() * 3) grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = digest.a & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.digest == digest) {
      return std::string_view(wheres_).substr(slot.where_offset, slot.where_size);
    }
    if (slot.digest != Digest{}) continue;
    slot.digest = digest;
    // Positions past 4 GiB of positions (hundreds of millions of rows) are not kept.
    if (wheres_.size() + where.size() <= UINT32_MAX) {
      slot.where_offset = static_cast<std::uint32_t>(wheres_.size());
      slot.where_size = static_cast<std::uint32_t>(where.size());
      wheres_ += where;
    }
    ++used_;
    return std::nullopt;
  }
}

void SeenDigests::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(old.size() * 2, 1024), Slot{});
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.digest == Digest{}) continue;
    size_t i = s.digest.a & mask;
    while (slots_[i].digest != Digest{}) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void identity_key(const Device& d, std::string& key) {
  key.clear();
  char kind = 0;
  const std::string* value = nullptr;
  if (!d.serial_number.empty()) {
    kind = 's', value = &d.serial_number;
  } else if (!d.interfaces.empty() && !d.interfaces.front().hostname.empty()) {
    kind = 'h', value = &d.interfaces.front().hostname;
  } else if (!d.interfaces.empty() && !d.interfaces.front().ip.empty()) {
    kind = 'i', value = &d.interfaces.front().ip;
  } else {
    return;
  }
  key += d.vendor_norm;
  key += '\x1f';
  key += d.product_norm;
  key += '\x1f';
  key += kind;
  key += *value;
}

std::string identity_key(const Device& d) {
  std::string key;
  identity_key(d, key);
  return key;
}

DeviceWriter::DeviceWriter(store::Store& store, ImportResult& result, const ImportOptions& options)
    : store_(store), result_(result), options_(options), now_(core::format_utc(core::utc_now())) {}

DeviceWriter::~DeviceWriter() = default;

bool DeviceWriter::store_error(const core::Error& e) {
  result_.errors.push_back(e);
  return false;
}

std::optional<core::Error> DeviceCheck::check(const Device& d, const std::string& where) {
  if (auto why = check_device(d)) return core::Error{ErrorCode::kInvalidInput, *why, where};
  identity_key(d, key_);
  if (key_.empty()) return std::nullopt;
  std::string_view short_where = where;
  if (!source_.empty() && short_where.starts_with(source_)) {
    short_where.remove_prefix(source_.size());
  }
  auto first = seen_.insert(SeenDigests::digest(key_), short_where);
  if (!first) return std::nullopt;
  std::string what =
      d.serial_number.empty() ? "device" : fmt::format("serial number '{}'", d.serial_number);
  return core::Error{ErrorCode::kInvalidInput,
                     fmt::format("duplicate {} for {} {} (first at {}{})", what, d.vendor,
                                 d.product, source_, *first),
                     where};
}

bool DeviceWriter::reject(core::Error error) {
  if (result_.errors.size() < options_.max_errors) result_.errors.push_back(std::move(error));
  return options_.report_all && result_.errors.size() < options_.max_errors;
}

bool DeviceWriter::begin(std::string source, bool bulk) {
  check_.start(std::move(source));
  bulk_ = bulk;
  // A whole inventory loaded into an empty one (first import, migration from another tool):
  // see Store::begin_bulk_load(). Should a device land in between, the load only goes slower:
  // the indexes are deferred after a second check inside the transaction.
  bool empty = false;
  if (bulk_) {
    auto any = store_.query_int("SELECT COUNT(*) FROM (SELECT 1 FROM devices LIMIT 1) AS d");
    if (!any) return store_error(any.error());
    empty = *any == 0;
  }
  auto tx = empty ? store::Transaction::begin_bulk_load(store_) : store::Transaction::begin(store_);
  if (!tx) return store_error(tx.error());
  tx_.emplace(std::move(*tx));
  for (std::string_view t : {"sites", "zones", "products", "devices", "interfaces"}) {
    if (auto st = store_.lock_table(t); !st) return store_error(st.error());
  }
  auto dev = store_.next_id("devices");
  auto ifc = store_.next_id("interfaces");
  if (!dev) return store_error(dev.error());
  if (!ifc) return store_error(ifc.error());
  next_device_id_ = *dev;
  next_interface_id_ = *ifc;

  auto st = store_.for_each("SELECT id, vendor_norm, product_norm FROM products", {},
                            [&](const store::Row& r) {
                              products_[r.text(1)][r.text(2)] = r.integer(0);
                              return true;
                            });
  if (!st) return store_error(st.error());
  st = store_.for_each("SELECT id, name_norm FROM sites", {}, [&](const store::Row& r) {
    sites_.emplace(r.text(1), r.integer(0));
    return true;
  });
  if (!st) return store_error(st.error());
  st = store_.for_each("SELECT id, site_id, name_norm, vlan, trust FROM zones", {},
                       [&](const store::Row& r) {
                         ZoneInfo z{r.integer(0), std::nullopt,
                                    parse_trust(r.text(4)).value_or(Trust::kUnknown), ""};
                         if (!r.is_null(3)) z.vlan = static_cast<int>(r.integer(3));
                         zones_.emplace(fmt::format("{}/{}", r.integer(1), r.text(2)), z);
                         return true;
                       });
  if (!st) return store_error(st.error());
  // Identity of stored devices: serial number, else first interface's host name, else IP.
  st = store_.for_each(
      "SELECT d.id, p.vendor_norm, p.product_norm, d.serial_number, "
      "(SELECT i.hostname FROM interfaces i WHERE i.device_id = d.id ORDER BY i.id LIMIT 1), "
      "(SELECT i.ip FROM interfaces i WHERE i.device_id = d.id ORDER BY i.id LIMIT 1) "
      "FROM devices d JOIN products p ON p.id = d.product_id",
      {}, [&](const store::Row& r) {
        Device d;
        d.vendor_norm = r.text(1);
        d.product_norm = r.text(2);
        d.serial_number = r.text(3);
        if (!r.is_null(4) || !r.is_null(5)) d.interfaces.push_back({r.text(5), "", r.text(4), {}});
        if (std::string key = identity_key(d); !key.empty()) existing_.emplace(key, r.integer(0));
        return true;
      });
  if (!st) return store_error(st.error());

  // Loading into an empty inventory (first import, migration from another tool): build the
  // indexes once at the end instead of row by row. Not for scans, which look rows up.
  if (bulk_ && existing_.empty() && next_device_id_ == 1) {
    for (std::string_view t : {"devices", "interfaces"}) {
      if (auto st = store_.defer_indexes(t); !st) return store_error(st.error());
    }
  }
  auto devices = store_.inserter("devices", kDeviceColumns);
  auto interfaces = store_.inserter("interfaces", kInterfaceColumns);
  if (!devices) return store_error(devices.error());
  if (!interfaces) return store_error(interfaces.error());
  devices_ = std::move(*devices);
  interfaces_ = std::move(*interfaces);
  return true;
}

std::optional<std::int64_t> DeviceWriter::site_id(const std::string& name) {
  if (auto it = site_by_raw_name_.find(name); it != site_by_raw_name_.end()) return it->second;
  std::string norm = normalize_words(name);
  if (auto it = sites_.find(norm); it != sites_.end()) {
    site_by_raw_name_.emplace(name, it->second);
    return it->second;
  }
  auto next = store_.next_id("sites");
  if (!next) return store_error(next.error()), std::nullopt;
  std::int64_t id = *next;
  std::vector<Value> row = {id, name, norm, now_};
  if (auto st = store_.execute(
          "INSERT INTO sites (id, name, name_norm, created_at) VALUES (?, ?, ?, ?)", row);
      !st) {
    store_error(st.error());
    return std::nullopt;
  }
  sites_.emplace(norm, id);
  site_by_raw_name_.emplace(name, id);
  return id;
}

std::optional<std::int64_t> DeviceWriter::zone_id(std::int64_t site, const Device& d,
                                                  const FieldMask& present,
                                                  const std::string& where) {
  bool gives_vlan = has(present, Field::kZoneVlan) && d.zone_vlan.has_value();
  bool gives_trust = has(present, Field::kZoneTrust) && d.zone_trust != Trust::kUnknown;
  // Rows repeat the same few zone names: look the raw spelling up before normalising.
  auto& by_raw = zone_by_raw_name_[site];
  if (auto raw = by_raw.find(d.zone); raw != by_raw.end()) {
    ZoneInfo& z = *raw->second;
    bool same = (!gives_vlan || z.vlan == d.zone_vlan) && (!gives_trust || z.trust == d.zone_trust);
    if (same) return z.id;
  }
  std::string norm = normalize_words(d.zone);
  std::string key = fmt::format("{}/{}", site, norm);
  auto it = zones_.find(key);
  if (it != zones_.end()) by_raw.emplace(d.zone, &it->second);
  if (it == zones_.end()) {
    auto next = store_.next_id("zones");
    if (!next) return store_error(next.error()), std::nullopt;
    std::vector<Value> row = {
        *next, site, d.zone, norm, int_or_null(d.zone_vlan), std::string(to_string(d.zone_trust))};
    if (auto st = store_.execute("INSERT INTO zones (id, site_id, name, name_norm, vlan, trust) "
                                 "VALUES (?, ?, ?, ?, ?, ?)",
                                 row);
        !st) {
      store_error(st.error());
      return std::nullopt;
    }
    auto made = zones_.emplace(key, ZoneInfo{*next, d.zone_vlan, d.zone_trust, where});
    by_raw.emplace(d.zone, &made.first->second);
    return *next;
  }
  ZoneInfo& z = it->second;
  bool vlan_differs = gives_vlan && z.vlan != d.zone_vlan;
  bool trust_differs = gives_trust && z.trust != d.zone_trust;
  if (!vlan_differs && !trust_differs) return z.id;
  if (!z.defined_at.empty()) {
    reject({ErrorCode::kInvalidInput,
            fmt::format("zone '{}' of site '{}' is described differently at {} (vlan {}, trust {})",
                        d.zone, d.site, z.defined_at, z.vlan ? std::to_string(*z.vlan) : "none",
                        to_string(z.trust)),
            where});
    return std::nullopt;
  }
  // The file redefines a stored zone: the newer description wins.
  if (gives_vlan) z.vlan = d.zone_vlan;
  if (gives_trust) z.trust = d.zone_trust;
  z.defined_at = where;
  std::vector<Value> row = {int_or_null(z.vlan), std::string(to_string(z.trust)), z.id};
  if (auto st = store_.execute("UPDATE zones SET vlan = ?, trust = ? WHERE id = ?", row); !st) {
    store_error(st.error());
    return std::nullopt;
  }
  return z.id;
}

bool DeviceWriter::insert_interfaces(std::int64_t device_id,
                                     const std::vector<Interface>& interfaces) {
  for (const Interface& i : interfaces) {
    if (i.ip.empty() && i.mac.empty() && i.hostname.empty()) continue;
    const Value row[] = {next_interface_id_++,     device_id,
                         text_or_null(i.ip),       text_or_null(i.mac),
                         text_or_null(i.hostname), int_or_null(i.vlan)};
    if (auto st = interfaces_->add(row); !st) return store_error(st.error());
    if (addresses_loaded_) {
      if (!i.ip.empty()) by_ip_[i.ip] = device_id;
      if (!i.mac.empty()) by_mac_[i.mac] = device_id;
    }
  }
  return true;
}

std::optional<std::int64_t> DeviceWriter::product_id(const Device& d) {
  auto& by_product = products_[d.vendor_norm];
  if (auto it = by_product.find(d.product_norm); it != by_product.end()) return it->second;
  auto next = store_.next_id("products");
  if (!next) return store_error(next.error()), std::nullopt;
  std::vector<Value> row = {*next, d.vendor_norm, d.product_norm};
  if (auto st = store_.execute(
          "INSERT INTO products (id, vendor_norm, product_norm) VALUES (?, ?, ?)", row);
      !st) {
    store_error(st.error());
    return std::nullopt;
  }
  by_product.emplace(d.product_norm, *next);
  return *next;
}

bool DeviceWriter::update_device(std::int64_t id, const Device& d, const FieldMask& present) {
  std::string sql = "UPDATE devices SET updated_at = ?";
  std::vector<Value> params = {now_};
  if (has(present, Field::kVendor) || has(present, Field::kProduct)) {
    auto product = product_id(d);
    if (!product) return false;
    sql += ", product_id = ?";
    params.emplace_back(*product);
  }
  for (const auto& c : kUpdateColumns) {
    if (!has(present, c.field)) continue;
    sql += fmt::format(", {} = ?", c.column);
    params.push_back(c.get(d));
  }
  sql += " WHERE id = ?";
  params.emplace_back(id);
  if (auto st = store_.execute(sql, params); !st) return store_error(st.error());
  bool interfaces_given = has(present, Field::kIp) || has(present, Field::kMac) ||
                          has(present, Field::kHostname) || has(present, Field::kVlan);
  if (!interfaces_given) return true;
  Value key[] = {id};
  if (auto st = store_.execute("DELETE FROM interfaces WHERE device_id = ?", key); !st) {
    return store_error(st.error());
  }
  return insert_interfaces(id, d.interfaces);
}

void DeviceWriter::count_record() {
  ++result_.summary.records;
  if (options_.on_progress && result_.summary.records % options_.progress_every == 0) {
    options_.on_progress(result_.summary.records);
  }
}

bool DeviceWriter::refuse_checked(core::Error error) {
  count_record();
  return reject(std::move(error));
}

bool DeviceWriter::add(const Device& d, const FieldMask& present, const std::string& where,
                       bool checked) {
  count_record();
  if (!checked) {
    if (auto refused = check_.check(d, where)) return reject(std::move(*refused));
  }
  Place place;
  if (!resolve_place(d, present, where, place)) {
    return options_.report_all && result_.errors.size() < options_.max_errors;
  }
  if (failed()) return true;  // report mode: keep validating, write nothing more

  // Matching a stored device (none when loading into an empty inventory).
  auto existing = existing_.end();
  if (!existing_.empty()) {
    identity_key(d, key_);
    if (!key_.empty()) existing = existing_.find(key_);
  }
  if (existing != existing_.end()) {
    ++result_.summary.updated;
    return write_update(existing->second, d, present, place);
  }
  auto product = product_id(d);
  if (!product) return false;
  ++result_.summary.created;
  std::int64_t id = next_device_id_++;
  // Views of the device's text: the inserter copies what it keeps.
  auto text = [](const std::string& s) -> Value {
    if (s.empty()) return nullptr;
    return std::string_view(s);
  };
  const Value row[] = {id,
                       std::string_view(d.vendor),
                       std::string_view(d.product),
                       *product,
                       text(d.part_number),
                       text(d.serial_number),
                       text(d.udi),
                       text(d.software_version),
                       text(d.hardware_revision),
                       text(d.os),
                       id_or_null(place.site),
                       id_or_null(place.zone),
                       text(d.location),
                       text(d.owner),
                       to_string(d.criticality),
                       to_string(d.status),
                       text(d.new_owner),
                       std::int64_t{d.remote_service ? 1 : 0},
                       text(d.maintenance_contract),
                       std::int64_t{d.identified ? 1 : 0},
                       std::string_view(now_),
                       std::string_view(now_)};
  if (auto st = devices_->add(row); !st) return store_error(st.error());
  return insert_interfaces(id, d.interfaces);
}

bool DeviceWriter::resolve_place(const Device& d, const FieldMask& present,
                                 const std::string& where, Place& place) {
  if (!d.site.empty()) {
    place.site = site_id(d.site);
    if (!place.site) return false;
  }
  if (!d.zone.empty()) {
    place.zone = zone_id(*place.site, d, present, where);
    if (!place.zone) return false;
  }
  return true;
}

bool DeviceWriter::write_update(std::int64_t id, const Device& d, const FieldMask& present,
                                const Place& place) {
  if (!update_device(id, d, present)) return false;
  if (!has(present, Field::kSite) && !has(present, Field::kZone)) return true;
  std::vector<Value> params = {id_or_null(place.site), id_or_null(place.zone), id};
  if (auto st = store_.execute("UPDATE devices SET site_id = ?, zone_id = ? WHERE id = ?", params);
      !st) {
    return store_error(st.error());
  }
  return true;
}

bool DeviceWriter::update(std::int64_t id, const Device& d, const FieldMask& present,
                          const std::string& where) {
  if (auto why = check_device(d)) return reject({ErrorCode::kInvalidInput, *why, where});
  std::string key = identity_key(d);
  if (auto it = key.empty() ? existing_.end() : existing_.find(key);
      it != existing_.end() && it->second != id) {
    return reject(
        {ErrorCode::kConflict,
         fmt::format("device {} already has this vendor, product and serial number", it->second),
         where});
  }
  Place place;
  if (!resolve_place(d, present, where, place) || failed()) return false;
  ++result_.summary.updated;
  return write_update(id, d, present, place);
}

std::optional<std::int64_t> DeviceWriter::find_by_address(const std::string& ip,
                                                          const std::string& mac) {
  if (!addresses_loaded_) {
    addresses_loaded_ = true;
    auto st = store_.for_each("SELECT device_id, ip, mac FROM interfaces ORDER BY id", {},
                              [&](const store::Row& r) {
                                if (!r.is_null(1)) by_ip_.emplace(r.text(1), r.integer(0));
                                if (!r.is_null(2)) by_mac_.emplace(r.text(2), r.integer(0));
                                return true;
                              });
    if (!st) store_error(st.error());
  }
  if (!ip.empty()) {
    if (auto it = by_ip_.find(ip); it != by_ip_.end()) return it->second;
  }
  if (!mac.empty()) {
    if (auto it = by_mac_.find(mac); it != by_mac_.end()) return it->second;
  }
  return std::nullopt;
}

bool DeviceWriter::record_scan(std::int64_t device_id, const Interface& iface,
                               const std::vector<OpenPort>& ports, const std::string& where) {
  (void)where;
  if (failed()) return true;
  // Make sure pending bulk rows are visible to the statements below.
  if (auto st = devices_->finish(); !st) return store_error(st.error());
  if (auto st = interfaces_->finish(); !st) return store_error(st.error());
  std::vector<Value> params = {device_id, iface.ip};
  auto found =
      store_.query_int("SELECT COUNT(*) FROM interfaces WHERE device_id = ? AND ip = ?", params);
  if (!found) return store_error(found.error());
  if (*found == 0) {
    if (!insert_interfaces(device_id, {iface})) return false;
    if (auto st = interfaces_->finish(); !st) return store_error(st.error());
  } else {
    std::vector<Value> upd = {text_or_null(iface.mac), text_or_null(iface.hostname), device_id,
                              iface.ip};
    if (auto st = store_.execute(
            "UPDATE interfaces SET mac = COALESCE(?, mac), hostname = COALESCE(?, hostname) "
            "WHERE device_id = ? AND ip = ?",
            upd);
        !st) {
      return store_error(st.error());
    }
  }
  if (auto st = store_.execute("DELETE FROM open_ports WHERE device_id = ? AND ip = ?", params);
      !st) {
    return store_error(st.error());
  }
  for (const OpenPort& p : ports) {
    std::vector<Value> row = {device_id,
                              p.ip,
                              p.protocol,
                              std::int64_t{p.port},
                              p.state,
                              text_or_null(p.service),
                              text_or_null(p.service_product),
                              p.seen_at.empty() ? now_ : p.seen_at};
    if (auto st =
            store_.execute("INSERT INTO open_ports (device_id, ip, protocol, port, state, service, "
                           "service_product, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           row);
        !st) {
      return store_error(st.error());
    }
    ++result_.summary.ports;
  }
  std::vector<Value> touch = {now_, device_id};
  if (auto st = store_.execute("UPDATE devices SET updated_at = ? WHERE id = ?", touch); !st) {
    return store_error(st.error());
  }
  return true;
}

void DeviceWriter::finish(std::string_view format, std::string_view source) {
  if (failed() || !tx_) return;  // the transaction guard rolls back
  if (auto st = devices_->finish(); !st) return void(store_error(st.error()));
  if (auto st = interfaces_->finish(); !st) return void(store_error(st.error()));
  if (auto st = store_.restore_indexes(); !st) return void(store_error(st.error()));
  auto id = store_.next_id("imports");
  if (!id) return void(store_error(id.error()));
  std::vector<Value> row = {*id,
                            std::string(format),
                            std::string(source),
                            static_cast<std::int64_t>(result_.summary.created),
                            static_cast<std::int64_t>(result_.summary.updated),
                            now_};
  if (auto st =
          store_.execute("INSERT INTO imports (id, format, source, created, updated, imported_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         row);
      !st) {
    return void(store_error(st.error()));
  }
  auto tx = std::move(*tx_);
  tx_.reset();
  if (auto st = tx.commit(); !st) store_error(st.error());
}

}  // namespace vigie::inventory::internal
