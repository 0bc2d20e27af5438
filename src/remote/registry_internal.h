// Helpers the remote module's store code shares (registry, access, sessions); private to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/remote/registry.h"
#include "vigie/store/store.h"

namespace vigie::remote::detail {

// Appends an audit entry inside the caller's transaction.
Status audit_in(store::Store& store, const Actor& actor, std::string_view action,
                std::string_view object, const nlohmann::json& details);

// Times the access-control tables keep: whole seconds, "2026-11-26T10:00:00Z", so that they
// compare as text.
std::string seconds_text(core::TimePoint t);

// `seconds` after the ISO 8601 time `at` (after now when `at` does not parse).
std::string later(std::string_view at, std::int64_t seconds);

// "ZONE" or "SITE/ZONE" to the zone's id; an ambiguous bare name is refused, naming the sites.
Result<std::int64_t> resolve_zone(store::Store& store, std::string_view ref);

// Inserts a row whose first column is the table's next id (under the table's lock).
Result<std::int64_t> insert_with_id(store::Store& store, std::string_view table,
                                    std::string_view sql, std::vector<store::Value> row);

Result<std::optional<store::Row>> one_row(store::Store& store, std::string_view sql,
                                          std::vector<store::Value> params);

// Bumps the counter the broker polls: a grant revoked or a session ended takes effect at once.
Status bump_epoch(store::Store& store);

}  // namespace vigie::remote::detail
