#include "remote_settings.h"

namespace vigie::apps {

core::Result<remote::SessionPolicy> session_policy(const core::Config& config) {
  remote::SessionPolicy p;
  p.approval_window = std::chrono::seconds(config.remote_approval_seconds);
  p.password_lifetime = std::chrono::seconds(config.remote_session_password_seconds);
  p.max_duration = std::chrono::minutes(config.remote_session_max_minutes);
  p.idle = std::chrono::minutes(config.remote_session_idle_minutes);
  auto whitelist = notify::Whitelist::parse(config.notify_email_allowed);
  if (!whitelist) return tl::unexpected(whitelist.error());
  p.whitelist = std::move(*whitelist);
  p.approvers = config.remote_approvers_email;
  return p;
}

remote::LoginPolicy login_policy(const core::Config& config) {
  remote::LoginPolicy p;
  p.token_lifetime = std::chrono::hours(config.remote_login_hours);
  return p;
}

remote::PasswordCost password_cost(const core::Config& config) {
  remote::PasswordCost c;
  c.memory_kib = static_cast<std::uint32_t>(config.remote_password_memory_kib);
  return c;
}

remote::TransferArea transfer_area(const core::Config& config, const std::filesystem::path& home) {
  return {home / config.remote_transfer_dir,
          static_cast<std::size_t>(config.remote_max_transfer_bytes)};
}

}  // namespace vigie::apps
