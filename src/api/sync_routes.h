// The offline PCs' routes (docs/resilience-offline.md): /api/v1/sync/{site} (GET the site's
// verified head, POST a batch of journal entries) and /api/v1/sync/{site}/snapshot (GET the
// devices the site works on). Each needs the site's sync token; every attempt is audited.
#pragma once

#include <string_view>

#include "routes_internal.h"

namespace vigie::api {

constexpr std::string_view kSyncPrefix = "/api/v1/sync/";

Response route_sync(store::Store& store, const Request& request, std::string_view path);

}  // namespace vigie::api
