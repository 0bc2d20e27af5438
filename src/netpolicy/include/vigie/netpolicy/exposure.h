// Exposure: for each device and each risky port, which zones can open a connection to it
// through the hospital's firewall rules, and which rule decides (the first that matches).
// Exact over address ranges: when a rule covers only part of a zone, the rest of the zone
// goes on to the next rules. Also finds rules that can never match (shadowed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/model.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {

struct PortOfInterest {
  Protocol protocol = Protocol::kTcp;
  std::uint16_t port = 0;
  std::string name;                   // "SMB", or the advisory's words
  std::vector<std::string> named_by;  // advisories that name this port for the device
};

struct ExposureInput {
  std::vector<Zone> zones;
  std::vector<DeviceAddress> devices;
  std::vector<FirewallRule> rules;  // evaluation order
  std::vector<PortOfInterest> ports;
};

enum class Reach { kReachable, kPartly, kBlocked };
std::string_view to_string(Reach r);  // "reachable", "partly", "blocked"

// What decides a zone's answer: a rule (the first accepting one when some address of the
// zone gets through, else the first dropping one), or no rule at all.
enum class Decider { kRule, kSameZone, kNoRuleMatches, kFlatNetwork, kZoneWithoutNetwork };

struct ZoneReach {
  std::int64_t zone_id = 0;
  Reach reach = Reach::kBlocked;
  Decider decider = Decider::kNoRuleMatches;
  int rule = -1;  // index into ExposureInput::rules when decider is kRule
};

// "core#50 'office-smb' (accept)", "same zone (no firewall between hosts of one VLAN)"...
std::string decided_by(const ExposureInput& input, const ZoneReach& reach);
// The deciding rule's stored id, 0 when no rule decides.
std::int64_t deciding_rule_id(const ExposureInput& input, const ZoneReach& reach);

struct PortExposure {
  std::int64_t device_id = 0;
  IpAddress device_ip;
  std::int64_t device_zone_id = 0;
  PortOfInterest port;
  std::vector<ZoneReach> zones;  // one per zone of the device's site, in zone order
  [[nodiscard]] bool reachable_from_other_zones() const;
};

struct RuleFinding {
  std::int64_t rule_id = 0;
  std::string rule;
  std::string kind;  // "shadowed", "redundant" (shadowed by a rule with the same action)
  std::string by;    // the earlier rule that covers it
};

struct ExposureReport {
  std::vector<PortExposure> exposures;     // per device (input order), then per port
  std::vector<RuleFinding> rule_findings;  // filled by exposure_of (find_rule_anomalies)
  bool flat_network = false;  // no firewall rule known: every zone reaches every device
};

// Analyses every (device, port) of the input. Pure: no store, for tests and benchmarks.
ExposureReport analyse_exposure(const ExposureInput& input);
// Rules that can never decide: every packet they match is matched by one earlier rule of the
// same ruleset ("shadowed" when that rule's action differs, "redundant" when it is the same).
std::vector<RuleFinding> find_rule_anomalies(const ExposureInput& input);

struct ExposureQuery {
  std::optional<std::int64_t> device_id;
  std::optional<std::uint16_t> port;  // only this port (any protocol named for it)
  bool with_advisory_ports = true;    // add the ports the device's open findings name
};
// Loads zones, devices, rules and the ports of interest (default risky ports plus the ports
// named by the mitigations of open findings) and analyses them.
Result<std::pair<ExposureInput, ExposureReport>> exposure_of(store::Store& store,
                                                             const ExposureQuery& query);

// A finding whose mitigation asks to block ports, checked against the firewall model.
struct MitigationCheck {
  std::int64_t finding_id = 0;
  std::int64_t device_id = 0;
  std::string advisory;  // tracking id
  std::vector<PortOfInterest> ports;
  bool in_place = false;
  std::vector<std::string> evidence;  // "445/tcp reachable from Bureautique (rule 'office-any')"
};
Result<std::vector<MitigationCheck>> check_mitigations(store::Store& store);

// "139/tcp, 445/tcp and 3389/tcp" in an action text -> the ports it names.
std::vector<PortOfInterest> ports_named_in(std::string_view text);

}  // namespace vigie::netpolicy
