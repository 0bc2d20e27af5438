// Conformance: observed traffic and scans checked against the allow-list. AllowChecker is the
// compiled allow-list (a hash of (device, direction, protocol, port), plus each device's
// port-range entries) that says whether a flow is allowed and by which entry, without
// allocating. ConformanceAnalyzer turns a stream of flows into findings a security officer
// reviews: unexpected flows, blocked attempts, open ports no profile names, risky ports,
// cleartext transfers and allow-list entries never used. Observed traffic is never accepted
// into a profile: propose_intents() lists candidate intents for a person to decide on.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/flows.h"
#include "vigie/netpolicy/ip.h"
#include "vigie/netpolicy/model.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::store {
class Store;
}

namespace vigie::netpolicy {

// The allow-list compiled for matching. Entries keep their order: the first entry that allows
// a flow is the one named.
class AllowChecker {
 public:
  explicit AllowChecker(std::vector<AllowEntry> entries);
  AllowChecker(AllowChecker&&) noexcept;
  AllowChecker& operator=(AllowChecker&&) noexcept;
  ~AllowChecker();

  static constexpr std::int32_t kNoMatch = -1;

  // The index (in entries()) of the first entry allowing `flow`: a to-device entry of the
  // responder whose peers hold the initiator, or a from-device entry of the initiator whose
  // peers hold the responder; same protocol (or "any"); the responder's port in range.
  // kNoMatch otherwise. An open port (kOpenPort, initiator unknown) matches any to-device
  // entry of the responder for that protocol and port, whatever its peers.
  [[nodiscard]] std::int32_t match(const Flow& flow) const noexcept;
  // The same for many flows at once (out[i] for flows[i]), faster: the lookups of the next
  // flows are started while the current one is matched.
  void match(std::span<const Flow> flows, std::span<std::int32_t> out) const noexcept;
  // Whether the allow-list has any entry for this address.
  [[nodiscard]] bool has_device(const IpAddress& ip) const noexcept;
  [[nodiscard]] const std::vector<AllowEntry>& entries() const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

enum class FindingKind {
  kUnexpectedFlow,    // established, and no allow-list entry covers it
  kBlockedAttempt,    // attempted or rejected
  kUnlistedOpenPort,  // a scan saw a port open that no profile names for the device
  kRiskyPort,         // one of default_risky_ports() open or in use
  kCleartext,         // FTP (control or data), Telnet, VNC without TLS, HTTP...
  kUnusedEntry,       // an allow-list entry of an observed device that no flow used
  kUnknownHost,       // traffic between hosts that are not in the inventory
};
std::string_view to_string(FindingKind k);  // "unexpected-flow", "blocked-attempt"...

struct Finding {
  FindingKind kind = FindingKind::kUnexpectedFlow;
  std::int64_t device_id = 0;  // 0 when the address is not a device of the inventory
  IpAddress device_ip;         // the device's side of the flow (the responder when neither is)
  std::optional<IpAddress> peer_ip;
  Protocol protocol = Protocol::kTcp;
  std::uint16_t port = 0;  // the responder's port
  AppProtocol app = AppProtocol::kUnknown;
  std::uint64_t count = 0;  // flows (or open-port sightings) folded into this finding
  std::uint64_t bytes = 0;
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
  std::int32_t entry = AllowChecker::kNoMatch;  // the allow-list entry concerned, if any
  std::string detail;                           // the reason, for a person
};

struct ConformanceSummary {
  std::uint64_t flows = 0;
  std::uint64_t allowed = 0;
  std::uint64_t unknown_hosts_flows = 0;  // flows with neither end in the inventory
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
};

struct ConformanceReport {
  ConformanceSummary summary;
  std::vector<Finding> findings;          // sorted: kind, device address, port, peer
  std::vector<std::uint64_t> entry_hits;  // flows each allow-list entry allowed
};

// Accumulates flows and produces the findings. Memory grows with the number of distinct
// findings, not with the number of flows.
class ConformanceAnalyzer final : public FlowSink {
 public:
  // `devices`: the inventory's addresses (a flow end not among them is "not in the inventory").
  // `traffic`: true for observed traffic (unused entries are reported), false for scans.
  ConformanceAnalyzer(std::vector<AllowEntry> entries, const std::vector<DeviceAddress>& devices,
                      bool traffic);
  ConformanceAnalyzer(const ConformanceAnalyzer&) = delete;
  ConformanceAnalyzer& operator=(const ConformanceAnalyzer&) = delete;
  ~ConformanceAnalyzer() override;

  void flow(const Flow& flow) override;
  // The findings so far, unused entries included (entries of devices seen in no flow are left
  // out: an observation that never saw a device says nothing about its entries).
  [[nodiscard]] ConformanceReport report() const;
  [[nodiscard]] const AllowChecker& checker() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A candidate intent drawn from unexpected flows, as a row of a vendor port table, for a
// person to review: nothing is added to a profile by Vigie itself.
struct ProposedIntent {
  std::int64_t device_id = 0;
  IpAddress device_ip;
  Direction direction = Direction::kToDevice;
  IpAddress peer;
  Protocol protocol = Protocol::kTcp;
  std::uint16_t port = 0;
  bool cleartext = false;
  std::uint64_t flows = 0;
  std::string purpose;  // what was seen, e.g. "observed 12 flows (ftp-data)"
};
std::vector<ProposedIntent> propose_intents(const ConformanceReport& report);
// The proposals as a CSV port table (header line first).
std::string format_proposals_csv(const std::vector<ProposedIntent>& proposals);

// Stores a run and its findings in conformance_runs / conformance_findings, in one
// transaction; returns the run id.
struct ConformanceRun {
  std::string source;  // the file read
  FlowFormat format = FlowFormat::kZeek;
  std::uint64_t records = 0;
  std::string started_at;  // ISO 8601 UTC
  std::string actor;
};
core::Result<std::int64_t> save_conformance_run(store::Store& store, const ConformanceRun& run,
                                                const std::vector<Finding>& findings,
                                                const std::vector<AllowEntry>& entries);

// "2012-02-21T16:53:13.123456Z" from microseconds since the epoch; "" for 0.
std::string format_time_us(std::int64_t us);

}  // namespace vigie::netpolicy
