// Exposure at hospital-group scale: 20 zones x 5,000 devices x 5 risky ports against 2,000
// firewall rules (zone-to-zone rules, host rules, rules covering part of a zone, drops), timed
// over several runs. Exactness is checked against an independent oracle that evaluates the
// rules first-match for every single source address of the zone, on a random sample of
// answers. Usage: exposure_bench [ZONES DEVICES RULES SAMPLES]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include <fmt/format.h>

#include "vigie/netpolicy/exposure.h"
#include "vigie/netpolicy/firewall.h"

namespace np = vigie::netpolicy;

namespace {

np::IpAddress v4(std::uint32_t a) { return np::IpAddress::v4(a); }
std::uint32_t zone_base(int z) {
  return (10U << 24) | (static_cast<std::uint32_t>(z) << 12);
}  // 10.0.(z*16).0/20

np::ExposureInput make_input(int zones, int devices, int rules, std::mt19937& rng) {
  np::ExposureInput in;
  for (int z = 0; z < zones; ++z) {
    np::Zone zone;
    zone.id = z + 1;
    zone.site = "CHU";
    zone.name = fmt::format("zone{:02}", z);
    zone.kind = z < 8 ? np::ZoneKind::kMedical : np::ZoneKind::kOffice;
    zone.networks = {np::IpPrefix{v4(zone_base(z)), 96 + 20}};
    in.zones.push_back(zone);
  }
  for (int d = 0; d < devices; ++d) {
    const int z = d % zones;
    in.devices.push_back({d + 1, v4(zone_base(z) + 10 + static_cast<std::uint32_t>(d / zones)),
                          z + 1, 1, "vendor", "product", ""});
  }
  const std::uint16_t risky[] = {21, 23, 139, 445, 3389, 5900, 104, 443, 80, 2575};
  std::uniform_int_distribution<int> zone_of(0, zones - 1);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> port_of(0, 9);
  std::uniform_int_distribution<int> device_of(0, devices - 1);
  std::uniform_int_distribution<int> half(0, 15);  // a /24 of the /20
  for (int r = 0; r + 1 < rules; ++r) {
    np::FirewallRule rule;
    rule.id = r + 1;
    rule.ruleset = "core";
    rule.position = r + 1;
    rule.name = fmt::format("r{}", r + 1);
    const int k = kind(rng);
    const int src = zone_of(rng);
    const int dst = zone_of(rng);
    if (k < 4) {  // zone to zone
      rule.source.zones = {fmt::format("zone{:02}", src)};
      rule.destination.zones = {fmt::format("zone{:02}", dst)};
    } else if (k < 7) {  // part of a zone (a /24 of the /20) to a zone
      rule.source.prefixes = {
          np::IpPrefix{v4(zone_base(src) + (static_cast<std::uint32_t>(half(rng)) << 8)), 96 + 24}};
      rule.destination.zones = {fmt::format("zone{:02}", dst)};
    } else {  // to one host
      rule.source.zones = {fmt::format("zone{:02}", src)};
      rule.destination.prefixes = {
          np::IpPrefix::host(in.devices[static_cast<size_t>(device_of(rng))].ip)};
    }
    rule.protocol = np::Protocol::kTcp;
    const std::uint16_t p = risky[port_of(rng)];
    rule.ports = {{p, p}};
    rule.action = kind(rng) < 6 ? np::Action::kAccept : np::Action::kDrop;
    in.rules.push_back(rule);
  }
  np::FirewallRule last;
  last.id = rules;
  last.ruleset = "core";
  last.position = rules;
  last.name = "default-drop";
  last.protocol = np::Protocol::kAny;
  last.action = np::Action::kDrop;
  in.rules.push_back(last);
  in.ports = {{np::Protocol::kTcp, 139, "NetBIOS", {}},
              {np::Protocol::kTcp, 445, "SMB", {}},
              {np::Protocol::kTcp, 3389, "RDP", {}},
              {np::Protocol::kTcp, 21, "FTP", {}},
              {np::Protocol::kTcp, 5900, "VNC", {}}};
  return in;
}

// First match for one source address: the oracle.
bool oracle_accepts(const np::ExposureInput& in, const np::IpAddress& src, const np::IpAddress& dst,
                    std::uint16_t port) {
  const auto in_endpoint = [&](const np::Endpoint& e, const np::IpAddress& ip) {
    if (e.any()) return true;
    for (const auto& p : e.prefixes) {
      if (p.contains(ip)) return true;
    }
    for (const auto& name : e.zones) {
      for (const auto& z : in.zones) {
        if (z.name != name) continue;
        for (const auto& n : z.networks) {
          if (n.contains(ip)) return true;
        }
      }
    }
    return false;
  };
  for (const auto& r : in.rules) {
    if (r.protocol != np::Protocol::kAny && r.protocol != np::Protocol::kTcp) continue;
    if (!r.ports.empty() && !(r.ports.front().first <= port && port <= r.ports.front().last))
      continue;
    if (!in_endpoint(r.destination, dst) || !in_endpoint(r.source, src)) continue;
    return r.action == np::Action::kAccept;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int zones = argc > 1 ? std::atoi(argv[1]) : 20;
  const int devices = argc > 2 ? std::atoi(argv[2]) : 5000;
  const int rules = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int samples = argc > 4 ? std::atoi(argv[4]) : 100;
  std::mt19937 rng(42);
  const auto input = make_input(zones, devices, rules, rng);

  double best = 1e9;
  np::ExposureReport report;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    report = np::analyse_exposure(input);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, ms);
  }
  double shadow_best = 1e9;
  size_t anomalies = 0;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    anomalies = np::find_rule_anomalies(input).size();
    shadow_best =
        std::min(shadow_best,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  size_t answers = 0;
  size_t reachable = 0;
  for (const auto& e : report.exposures) {
    for (const auto& z : e.zones) {
      ++answers;
      if (z.reach != np::Reach::kBlocked) ++reachable;
    }
  }

  // Exactness on a sample: a zone reaches a port when at least one of its addresses does.
  std::uniform_int_distribution<size_t> pick(0, report.exposures.size() - 1);
  int agree = 0;
  double oracle_ms = 0;
  for (int s = 0; s < samples; ++s) {
    const auto& e = report.exposures[pick(rng)];
    const auto& z = e.zones[static_cast<size_t>(s) % e.zones.size()];
    const auto start = std::chrono::steady_clock::now();
    bool any = false;
    if (z.zone_id == e.device_zone_id) {
      any = true;  // same zone: no firewall in between
    } else {
      const auto base = zone_base(static_cast<int>(z.zone_id - 1));
      for (std::uint32_t a = 0; a < 4096 && !any; ++a) {
        any = oracle_accepts(input, v4(base + a), e.device_ip, e.port.port);
      }
    }
    oracle_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (any == (z.reach != np::Reach::kBlocked)) ++agree;
  }
  const double oracle_per_answer = oracle_ms / samples;
  std::printf(
      "exposure: %d zones x %d devices x %zu ports against %d rules: %zu answers (%zu reach) in "
      "%.1f ms (best of 5)\n",
      zones, devices, input.ports.size(), rules, answers, reachable, best);
  std::printf("rule anomalies (shadowed/redundant, pairwise over %d rules): %zu in %.1f ms\n",
              rules, anomalies, shadow_best);
  std::printf("exact: %d/%d sampled answers agree with the per-address first-match oracle\n", agree,
              samples);
  std::printf("oracle: %.3f ms per answer, %.0f s for all; Vigie is %.0fx faster\n",
              oracle_per_answer, oracle_per_answer * static_cast<double>(answers) / 1000.0,
              oracle_per_answer * static_cast<double>(answers) / best);
  return agree == samples ? 0 : 1;
}
