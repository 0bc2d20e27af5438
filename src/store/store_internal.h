// Shared by the two back-ends; private to the store module.
#pragma once

#include <memory>
#include <string>

#include "vigie/store/store.h"

namespace vigie::store::internal {

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path);
Result<std::unique_ptr<Store>> open_postgres(const std::string& url);

// Replaces the portable tokens of schema.cc with a back-end's spelling.
std::string apply_dialect(std::string_view sql, Backend backend);

// Applies every pending migration inside one transaction per migration; `script` runs
// several statements at once. Concurrent openers are serialised by the back-end's lock.
Status migrate(Store& store, const std::function<Status(std::string_view)>& script);

}  // namespace vigie::store::internal
