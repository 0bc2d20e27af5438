// The remote.* and notify.* configuration made into the remote module's policies, for vigie
// (approvals, ends) and vigied (the broker): both apply the same rules.
#pragma once

#include <filesystem>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/remote/access.h"
#include "vigie/remote/sessions.h"
#include "vigie/remote/transfers.h"

namespace vigie::apps {

core::Result<remote::SessionPolicy> session_policy(const core::Config& config);
remote::LoginPolicy login_policy(const core::Config& config);
remote::PasswordCost password_cost(const core::Config& config);
remote::TransferArea transfer_area(const core::Config& config, const std::filesystem::path& home);

}  // namespace vigie::apps
