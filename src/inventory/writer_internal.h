// The one place imported devices are written: identity matching (vendor, product, serial
// number; else host name; else IP), duplicate detection, site and zone resolution, batched
// inserts, all inside one transaction. Private to the inventory module.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "vigie/inventory/import.h"
#include "vigie/inventory/model.h"
#include "vigie/store/store.h"

namespace vigie::inventory::internal {

using FieldMask = std::bitset<kFieldCount>;

inline bool has(const FieldMask& mask, Field f) { return mask.test(static_cast<size_t>(f)); }

// The identities met by one import, each with where it was first met: open addressing in one
// array, so that a million-row import neither allocates a node per row nor misses the cache
// twice per lookup.
class SeenDigests {
 public:
  struct Digest {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    bool operator==(const Digest&) const = default;
  };
  static Digest digest(std::string_view key);
  // Records `digest`, met at `where`. When it was met before, returns where it was first met
  // (valid until the next call) and records nothing.
  std::optional<std::string_view> insert(Digest digest, std::string_view where);

 private:
  struct Slot {
    Digest digest;  // {0, 0}: empty
    std::uint32_t where_offset = 0;
    std::uint32_t where_size = 0;
  };
  void grow();

  std::vector<Slot> slots_;  // a power of two, at most 3/4 used
  size_t used_ = 0;
  std::string wheres_;
};

// The checks of a device that need nothing from the store: its own fields, and that no
// device before it in the same source has its identity. The writer runs them, unless a
// parsing thread ran them ahead of it (CSV).
class DeviceCheck {
 public:
  // `source` prefixes the positions given to check(); it is not kept per row.
  void start(std::string source) { source_ = std::move(source); }
  // The reason the device read at `where` is refused, or nullopt.
  std::optional<core::Error> check(const Device& d, const std::string& where);

 private:
  // Identity digest -> where (without the source prefix). A 128-bit digest instead of the
  // key keeps a million-row import small; a false duplicate would need two independent
  // 64-bit hashes to collide at once.
  SeenDigests seen_;
  std::string key_;  // identity key of the device being checked
  std::string source_;
};

class DeviceWriter {
 public:
  DeviceWriter(store::Store& store, ImportResult& result, const ImportOptions& options);
  ~DeviceWriter();

  // Starts the transaction and loads what matching needs. False when it failed (see errors).
  // `source` (the file name) prefixes every position given to add(); it is not kept per row.
  // `bulk`: the source is a whole inventory (CSV, GLPI), see begin() in writer.cc.
  bool begin(std::string source = {}, bool bulk = false);
  // Adds or updates one device read at `where`; `present` lists the fields the source gave.
  // `checked`: the caller ran a DeviceCheck on this source's devices, in order. Returns false
  // when the import must stop (an error and not in report mode).
  bool add(const Device& device, const FieldMask& present, const std::string& where,
           bool checked = false);
  // Updates device `id` (e.g. `vigie devices set`) under the same rules as add().
  bool update(std::int64_t id, const Device& device, const FieldMask& present,
              const std::string& where);
  // Records an input error at `where`. Returns false when the import must stop.
  bool reject(core::Error error);
  // Records a device the caller's DeviceCheck refused: a record read, then reject().
  bool refuse_checked(core::Error error);
  // Finds the device owning an interface with this IP, else this MAC (nmap import).
  std::optional<std::int64_t> find_by_address(const std::string& ip, const std::string& mac);
  // Replaces the open ports seen on (device, ip), updates the interface's MAC and host name.
  bool record_scan(std::int64_t device_id, const Interface& iface,
                   const std::vector<OpenPort>& ports, const std::string& where);
  // Commits when no error was recorded; otherwise rolls back.
  void finish(std::string_view format, std::string_view source);

  [[nodiscard]] bool failed() const { return !result_.errors.empty(); }
  store::Store& store() { return store_; }

 private:
  struct ZoneInfo {
    std::int64_t id;
    std::optional<int> vlan;
    Trust trust;
    std::string defined_at;  // where this import first described it
  };
  struct Place {
    std::optional<std::int64_t> site;
    std::optional<std::int64_t> zone;
  };
  bool store_error(const core::Error& e);
  void count_record();  // one more record read (and progress)
  bool resolve_place(const Device& d, const FieldMask& present, const std::string& where,
                     Place& place);
  bool write_update(std::int64_t id, const Device& d, const FieldMask& present, const Place& place);
  std::optional<std::int64_t> site_id(const std::string& name);
  std::optional<std::int64_t> zone_id(std::int64_t site, const Device& d, const FieldMask& present,
                                      const std::string& where);
  bool update_device(std::int64_t id, const Device& d, const FieldMask& present);
  bool insert_interfaces(std::int64_t device_id, const std::vector<Interface>& interfaces);

  store::Store& store_;
  ImportResult& result_;
  const ImportOptions& options_;
  std::optional<store::Transaction> tx_;
  std::unique_ptr<store::Inserter> devices_;
  std::unique_ptr<store::Inserter> interfaces_;
  std::int64_t next_device_id_ = 1;
  std::int64_t next_interface_id_ = 1;
  std::string now_;
  std::optional<std::int64_t> product_id(const Device& d);

  // vendor_norm -> product_norm -> products.id
  std::unordered_map<std::string, std::unordered_map<std::string, std::int64_t>> products_;
  std::unordered_map<std::string, std::int64_t> sites_;
  std::unordered_map<std::string, ZoneInfo> zones_;         // "site_id/zone_norm"
  std::unordered_map<std::string, std::int64_t> existing_;  // identity key -> device id
  DeviceCheck check_;
  std::string key_;  // identity key of the row being added
  std::unordered_map<std::string, std::int64_t> site_by_raw_name_;
  std::unordered_map<std::int64_t, std::unordered_map<std::string, ZoneInfo*>> zone_by_raw_name_;
  bool bulk_ = false;
  std::unordered_map<std::string, std::int64_t> by_ip_;
  std::unordered_map<std::string, std::int64_t> by_mac_;
  bool addresses_loaded_ = false;
};

// The identity of a device for matching re-imports: "" when it has none.
std::string identity_key(const Device& d);
// The same, into `key` (whose capacity is reused).
void identity_key(const Device& d, std::string& key);

}  // namespace vigie::inventory::internal
