// Helpers shared by the backup-tracking files of the resilience module; private to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/resilience/tracking.h"
#include "vigie/store/store.h"

namespace vigie::resilience::internal {

// The actor's time, or now.
std::string now_or(const Actor& actor);
// The key a system's name is unique by: trimmed, ASCII lower-case.
std::string normalize_name(std::string_view name);
// NULL for "", else the text.
store::Value text_or_null(std::string_view text);

// An inventory device that must have a backup policy and is not linked to any backup system.
struct DeviceRef {
  std::int64_t id = 0;
  std::string label;  // "Siemens Artis zee (life-supporting)"
};
// Devices whose criticality is in rules.policy_required_for, in service (not decommissioned
// or sold), and no backup system names. `with_labels` false: ids only (for counting).
core::Result<std::vector<DeviceRef>> devices_without_policy(store::Store& store, const Rules& rules,
                                                            bool with_labels);

}  // namespace vigie::resilience::internal
