// Reading and editing the inventory: filtered listings (streamed), one device with its
// interfaces and open ports, field updates, and the stable JSON shape of a device.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vigie/core/json_writer.h"
#include "vigie/inventory/model.h"

namespace vigie::store {
class Store;
}

namespace vigie::inventory {

struct DeviceFilter {
  std::string zone;    // zone name (any site), or "site/zone"
  std::string vendor;  // matched on the normalised name, prefix allowed
  std::string site;
  std::string status;  // in-service, sold...
  size_t limit = 0;    // 0: no limit
  size_t offset = 0;
};

// Streams matching devices ordered by id, with their interfaces; stop by returning false.
Status for_each_device(store::Store& store, const DeviceFilter& filter,
                       const std::function<bool(const Device&)>& on_device);
Result<std::int64_t> count_devices(store::Store& store, const DeviceFilter& filter);

// One device with interfaces and open ports; kNotFound when there is no such id.
Result<Device> get_device(store::Store& store, std::int64_t id);

// Applies "key=value" assignments (field names of fields()) in one transaction.
Status set_device_fields(store::Store& store, std::int64_t id,
                         const std::vector<std::pair<std::string, std::string>>& assignments);

// The documented JSON shape (docs/inventory-formats.md, "JSON output"), written straight to
// text: listings of a million devices do not build a document first.
void write_json(core::JsonWriter& writer, const Device& device);
std::string to_json_text(const Device& device);

}  // namespace vigie::inventory
