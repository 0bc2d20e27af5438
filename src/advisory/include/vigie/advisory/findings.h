// Advisories kept in the store and what they mean for the hospital's devices: import (validated,
// all or nothing), assessment of every device or only of what changed, and the findings'
// lifecycle (open -> in progress -> mitigated / fixed / risk accepted / not applicable) with
// every change kept with who and when, and deadlines by severity.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/advisory/matcher.h"
#include "vigie/advisory/validate.h"
#include "vigie/core/config.h"
#include "vigie/core/time.h"

namespace vigie::store {
class Store;
}

namespace vigie::advisory {

using core::Result;
using core::Status;

// Days to close a finding, by the advisory's highest CVSS base score (configuration keys
// findings.deadline_days_*).
struct DeadlinePolicy {
  std::int64_t critical = 15;
  std::int64_t high = 30;
  std::int64_t medium = 90;
  std::int64_t low = 180;
  std::int64_t unscored = 30;
  static DeadlinePolicy from(const core::Config& config);
  [[nodiscard]] std::int64_t days_for(double max_score) const;
};

// Who acts, when, under which policy: every write of this module takes one.
struct Actor {
  std::string name;  // "alice", "vigie" for automatic changes
  const core::Clock& clock;
  DeadlinePolicy policy;
};

struct AssessSummary {
  size_t devices = 0;      // devices looked at
  size_t assessments = 0;  // device x advisory pairs decided
  size_t opened = 0;       // new findings needing work
  size_t closed = 0;       // findings closed by the assessment (fixed, no longer affected)
  size_t reopened = 0;     // closed findings affected again
  size_t updated = 0;      // verdict, reason or actions changed
};

struct ImportOptions {
  bool force = false;  // store a document that fails validation, recording the failures
};

struct ImportResult {
  std::int64_t advisory_id = 0;
  std::string tracking_id;
  std::string outcome;  // "imported", "updated" (newer version), "unchanged"
  std::vector<ValidationIssue> forced_failures;
  AssessSummary assessed;
};

// Validates and stores one CSAF document, then assesses the devices it can touch. A document
// that fails validation is refused (kInvalidInput listing the failures) unless forced; nothing
// is stored then. Re-importing the same tracking id replaces an older version.
Result<ImportResult> import_advisory(store::Store& store, std::string_view text,
                                     std::string_view source, const ImportOptions& options,
                                     const Actor& actor);

struct AdvisorySummary {
  std::int64_t id = 0;
  std::string tracking_id;
  std::string publisher;
  std::string title;
  std::string version;
  std::string current_release_date;
  std::optional<double> max_score;
  bool forced = false;
  std::int64_t affected = 0;       // devices with verdict affected
  std::int64_t open_findings = 0;  // findings still needing work
};
Result<std::vector<AdvisorySummary>> list_advisories(store::Store& store);
// The store id of an advisory given by id or tracking id.
Result<std::int64_t> find_advisory(store::Store& store, std::string_view id_or_tracking);

// Every stored advisory in a matcher; ids[i] is the store id of the matcher's advisory i.
struct LoadedAdvisories {
  Matcher matcher;
  std::vector<std::int64_t> ids;
};
Result<LoadedAdvisories> load_advisories(store::Store& store);

// The matcher's view of one stored device.
Result<DeviceFacts> device_facts(store::Store& store, std::int64_t device_id);

// Re-assesses every device against every advisory and reconciles the findings.
Result<AssessSummary> assess_all(store::Store& store, const Actor& actor);
// Re-assesses one device (after it changed, e.g. upgraded) against every advisory.
Result<AssessSummary> assess_device(store::Store& store, std::int64_t device_id,
                                    const Actor& actor);

enum class FindingStatus { kOpen, kInProgress, kMitigated, kFixed, kRiskAccepted, kNotApplicable };
std::string_view to_string(FindingStatus status);
std::optional<FindingStatus> parse_finding_status(std::string_view text);

struct Finding {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::string vendor;
  std::string product;
  std::string part_number;
  std::string serial_number;
  std::string software_version;
  std::string hostname;
  std::string site;
  std::string zone;
  std::string device_status;
  std::int64_t advisory_id = 0;
  std::string advisory;  // tracking id
  Verdict verdict = Verdict::kNotAffected;
  std::string product_ref;
  std::string reason;
  std::vector<std::string> missing;
  std::vector<Action> actions;
  FindingStatus status = FindingStatus::kOpen;
  std::string status_note;
  std::string status_by;
  std::string accepted_until;
  std::string due_on;
  std::string opened_at;
  std::string updated_at;
  std::string closed_at;
  bool overdue = false;  // still needs work and due_on has passed
  // Whether it still needs work: open or in progress, or a risk acceptance that expired.
  [[nodiscard]] bool needs_work(std::string_view today) const;
};

struct FindingFilter {
  bool all = false;            // also closed findings and not-affected verdicts
  bool overdue = false;        // only overdue ones
  std::int64_t device_id = 0;  // 0: any
  std::int64_t advisory_id = 0;
};
Status for_each_finding(store::Store& store, const FindingFilter& filter, const core::Clock& clock,
                        const std::function<void(const Finding&)>& on_finding);
Result<Finding> get_finding(store::Store& store, std::int64_t id, const core::Clock& clock);

struct HistoryEntry {
  std::string at;
  std::string actor;
  std::string verdict;
  std::string status;
  std::string note;
};
Result<std::vector<HistoryEntry>> finding_history(store::Store& store, std::int64_t id);

// A workflow change: status=..., note=..., until=YYYY-MM-DD (risk accepted). Risk accepted
// needs a justification and an end date; mitigated and not applicable need a note.
struct StatusChange {
  FindingStatus status = FindingStatus::kInProgress;
  std::string note;
  std::string until;
};
Status set_finding_status(store::Store& store, std::int64_t id, const StatusChange& change,
                          const Actor& actor);

// Machine-readable actions, as stored and printed: [{category, text, target_version?, url?}].
std::string actions_to_json(const std::vector<Action>& actions);

}  // namespace vigie::advisory
