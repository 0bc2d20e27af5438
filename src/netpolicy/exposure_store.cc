// Exposure over the stored model, and the advisory findings whose mitigation is "block these
// ports" checked against it.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vigie/netpolicy/exposure.h"
#include "vigie/netpolicy/firewall.h"

namespace vigie::netpolicy {
namespace {

struct FindingPorts {
  std::int64_t finding_id = 0;
  std::int64_t device_id = 0;
  std::string advisory;
  std::vector<PortOfInterest> ports;
};

// Open findings (affected, not closed) whose mitigations or workarounds name ports.
Result<std::vector<FindingPorts>> findings_naming_ports(store::Store& store) {
  std::vector<FindingPorts> out;
  auto status = store.for_each(
      "SELECT f.id, f.device_id, a.tracking_id, f.actions FROM findings f "
      "JOIN advisories a ON a.id = f.advisory_id WHERE f.verdict = 'affected' "
      "AND (f.status = 'open' OR f.status = 'in_progress' OR f.status = 'mitigated') "
      "ORDER BY f.id",
      {}, [&](const store::Row& row) {
        auto actions = nlohmann::json::parse(row.text(3), nullptr, false);
        if (!actions.is_array()) return true;
        std::vector<PortOfInterest> ports;
        for (const auto& a : actions) {
          const std::string category = a.value("category", "");
          if (category != "mitigation" && category != "workaround") continue;
          for (auto& p : ports_named_in(a.value("text", ""))) {
            const bool known = std::any_of(ports.begin(), ports.end(), [&](const auto& q) {
              return q.port == p.port && q.protocol == p.protocol;
            });
            if (!known) ports.push_back(std::move(p));
          }
        }
        if (!ports.empty()) {
          out.push_back({row.integer(0), row.integer(1), row.text(2), std::move(ports)});
        }
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  return out;
}

}  // namespace

Result<std::pair<ExposureInput, ExposureReport>> exposure_of(store::Store& store,
                                                             const ExposureQuery& query) {
  ExposureInput input;
  auto zones = load_zones(store);
  if (!zones) return tl::unexpected(zones.error());
  input.zones = std::move(*zones);
  auto devices = load_device_addresses(store);
  if (!devices) return tl::unexpected(devices.error());
  for (auto& d : *devices) {
    if (!query.device_id || d.device_id == *query.device_id) input.devices.push_back(std::move(d));
  }
  auto rules = load_rules(store);
  if (!rules) return tl::unexpected(rules.error());
  input.rules = std::move(*rules);

  std::map<std::pair<int, int>, PortOfInterest> ports;
  for (const auto& r : default_risky_ports()) {
    ports[{r.port, static_cast<int>(r.protocol)}] = {r.protocol, r.port, std::string(r.name), {}};
  }
  if (query.with_advisory_ports) {
    auto named = findings_naming_ports(store);
    if (!named) return tl::unexpected(named.error());
    for (const auto& f : *named) {
      for (const auto& p : f.ports) {
        auto& entry = ports[{p.port, static_cast<int>(p.protocol)}];
        if (entry.name.empty()) entry = {p.protocol, p.port, p.name, {}};
        if (std::find(entry.named_by.begin(), entry.named_by.end(), f.advisory) ==
            entry.named_by.end()) {
          entry.named_by.push_back(f.advisory);
        }
      }
    }
  }
  for (auto& [key, p] : ports) {
    if (!query.port || p.port == *query.port) input.ports.push_back(std::move(p));
  }
  if (query.port && input.ports.empty()) {
    input.ports.push_back({Protocol::kTcp, *query.port, fmt::format("{}/tcp", *query.port), {}});
  }
  ExposureReport report = analyse_exposure(input);
  report.rule_findings = find_rule_anomalies(input);
  return std::pair{std::move(input), std::move(report)};
}

Result<std::vector<MitigationCheck>> check_mitigations(store::Store& store) {
  auto named = findings_naming_ports(store);
  if (!named) return tl::unexpected(named.error());
  std::vector<MitigationCheck> out;
  if (named->empty()) return out;
  ExposureQuery query;
  query.with_advisory_ports = true;
  auto analysed = exposure_of(store, query);
  if (!analysed) return tl::unexpected(analysed.error());
  const auto& [input, report] = *analysed;
  std::map<std::int64_t, std::string> zone_names;
  for (const auto& z : input.zones) zone_names[z.id] = z.site + "/" + z.name;
  std::multimap<std::int64_t, const PortExposure*> by_device;
  for (const auto& e : report.exposures) by_device.emplace(e.device_id, &e);

  for (const auto& f : *named) {
    MitigationCheck check;
    check.finding_id = f.finding_id;
    check.device_id = f.device_id;
    check.advisory = f.advisory;
    check.ports = f.ports;
    check.in_place = true;
    auto [first, last] = by_device.equal_range(f.device_id);
    if (first == last) {
      check.in_place = false;
      check.evidence.emplace_back("the device has no known address: nothing can be checked");
    }
    for (auto it = first; it != last; ++it) {
      const PortExposure& e = *it->second;
      const bool named_here = std::any_of(f.ports.begin(), f.ports.end(), [&](const auto& p) {
        return p.port == e.port.port && p.protocol == e.port.protocol;
      });
      if (!named_here) continue;
      for (const auto& z : e.zones) {
        if (z.zone_id == e.device_zone_id || z.reach == Reach::kBlocked) continue;
        check.in_place = false;
        check.evidence.push_back(fmt::format("{}/{} on {} {} from {} ({})", e.port.port,
                                             to_string(e.port.protocol), e.device_ip.to_string(),
                                             to_string(z.reach), zone_names[z.zone_id],
                                             decided_by(input, z)));
      }
    }
    if (report.flat_network) {
      check.in_place = false;
      check.evidence.emplace_back("no firewall rule imported: the network is treated as flat");
    }
    out.push_back(std::move(check));
  }
  return out;
}

}  // namespace vigie::netpolicy
