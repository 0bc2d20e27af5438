// GLPI-style JSON import: the array of assets GLPI's REST API returns with
// expand_dropdowns=true (or a search result {"data": [...]}). The mapping is documented in
// docs/inventory-formats.md; keys Vigie does not use are ignored, as GLPI exports carry many.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "import_internal.h"
#include "vigie/core/text.h"

namespace vigie::inventory::internal {
namespace {

using core::ErrorCode;
using nlohmann::json;

constexpr std::uintmax_t kMaxBytes = 512ULL << 20;

struct Mapping {
  std::string_view key;
  Field field;
};

// GLPI's own keys first, then Vigie's field names (e.g. from GLPI's "fields" plugin).
constexpr Mapping kMappings[] = {
    {"manufacturers_id", Field::kVendor},
    {"computermodels_id", Field::kProduct},
    {"networkequipmentmodels_id", Field::kProduct},
    {"peripheralmodels_id", Field::kProduct},
    {"printermodels_id", Field::kProduct},
    {"monitormodels_id", Field::kProduct},
    {"phonemodels_id", Field::kProduct},
    {"serial", Field::kSerialNumber},
    {"entities_id", Field::kSite},
    {"networks_id", Field::kZone},
    {"locations_id", Field::kLocation},
    {"groups_id_tech", Field::kOwner},
    {"states_id", Field::kStatus},
    {"operatingsystems_id", Field::kOs},
};

std::optional<std::string> scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return std::string();
  return std::nullopt;
}

// Collects interfaces from "_networkports": {"NetworkPortEthernet": [{"mac": ..., "ip": ...
// or "NetworkName": {"IPAddress": [{"name": ...}]}}]} or a flat array of the same objects.
void read_ports(const json& ports, std::vector<Interface>& out) {
  auto one = [&](const json& p) {
    if (!p.is_object()) return;
    Interface i;
    if (auto m = p.find("mac"); m != p.end() && m->is_string()) {
      i.mac = canonical_mac(m->get<std::string>()).value_or("");
    }
    auto take_ip = [&](const json& v) {
      if (v.is_string() && i.ip.empty()) i.ip = canonical_ip(v.get<std::string>()).value_or("");
    };
    if (auto ip = p.find("ip"); ip != p.end()) take_ip(*ip);
    if (auto nn = p.find("NetworkName"); nn != p.end() && nn->is_object()) {
      if (auto fqdn = nn->find("fqdn"); fqdn != nn->end() && fqdn->is_string()) {
        i.hostname = fqdn->get<std::string>();
      }
      if (auto ips = nn->find("IPAddress"); ips != nn->end() && ips->is_array()) {
        for (const auto& a : *ips) {
          if (a.is_object() && a.contains("name")) take_ip(a["name"]);
        }
      }
    }
    if (!i.ip.empty() || !i.mac.empty()) out.push_back(std::move(i));
  };
  if (ports.is_array()) {
    for (const auto& p : ports) one(p);
  } else if (ports.is_object()) {
    for (const auto& [type, list] : ports.items()) {
      if (list.is_array()) {
        for (const auto& p : list) one(p);
      }
    }
  }
}

}  // namespace

void import_glpi(DeviceWriter& writer, const std::filesystem::path& path, const ImportOptions&) {
  std::string file = path.string();
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return void(writer.reject({ErrorCode::kIo, "cannot read: " + ec.message(), file}));
  if (size > kMaxBytes) {
    return void(
        writer.reject({ErrorCode::kInvalidInput,
                       fmt::format("GLPI export larger than {} MiB", kMaxBytes >> 20), file}));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string why = e.what();
    if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    return void(writer.reject({ErrorCode::kInvalidInput, "malformed JSON: " + why,
                               fmt::format("{}:{}", file, core::line_column(text, e.byte))}));
  } catch (const json::exception& e) {  // e.g. a number too large for any type
    return void(writer.reject(
        {ErrorCode::kInvalidInput, std::string("malformed JSON: ") + e.what(), file}));
  }
  std::string base;
  const json* items = &doc;
  if (doc.is_object() && doc.contains("data")) {
    items = &doc["data"];
    base = "/data";
  }
  if (!items->is_array()) {
    return void(writer.reject({ErrorCode::kInvalidInput,
                               "expected an array of assets (or {\"data\": [...]})",
                               file + ":" + (base.empty() ? "/" : base)}));
  }
  for (size_t n = 0; n < items->size(); ++n) {
    const json& item = (*items)[n];
    std::string pointer = fmt::format("{}/{}", base, n);
    std::string where = fmt::format("{}:{}", file, pointer);
    if (!item.is_object()) {
      if (!writer.reject({ErrorCode::kInvalidInput, "an asset must be a JSON object", where})) {
        return;
      }
      continue;
    }
    Device device;
    FieldMask present;
    bool ok = true;
    bool keep_going = true;
    auto apply = [&](std::string_view key, Field field) {
      auto it = item.find(std::string(key));
      if (it == item.end() || !ok) return;
      std::string at = fmt::format("{}:{}/{}", file, pointer, key);
      auto value = scalar_text(*it);
      if (!value) {
        ok = false;
        std::string why =
            it->is_number() ? "a number where a name is expected: export with expand_dropdowns=true"
                            : "expected a string";
        keep_going = writer.reject({ErrorCode::kInvalidInput, why, at});
        return;
      }
      if (auto why = set_field(device, field, *value)) {
        ok = false;
        keep_going = writer.reject({ErrorCode::kInvalidInput, *why, at});
        return;
      }
      present.set(static_cast<size_t>(field));
    };
    for (const auto& m : kMappings) apply(m.key, m.field);
    for (const auto& f : fields()) apply(f.name, f.field);
    if (auto ports = item.find("_networkports"); ports != item.end() && ok) {
      std::vector<Interface> found;
      read_ports(*ports, found);
      if (!found.empty()) {
        device.interfaces = std::move(found);
        present.set(static_cast<size_t>(Field::kIp));
      }
    }
    if (auto name = item.find("name"); ok && name != item.end() && name->is_string()) {
      if (device.interfaces.empty()) device.interfaces.emplace_back();
      if (device.interfaces.front().hostname.empty()) {
        device.interfaces.front().hostname = name->get<std::string>();
        present.set(static_cast<size_t>(Field::kHostname));
      }
    }
    if (!ok) {
      if (!keep_going) return;
      continue;
    }
    if (!writer.add(std::move(device), present, where)) return;
  }
}

}  // namespace vigie::inventory::internal
