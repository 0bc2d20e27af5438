// The notify.* configuration made into typed settings and live channels, for vigie and vigied:
// Settings::from() checks what core's syntax check cannot (a whitelist entry that is not an
// address, e-mail on without a sender, back-off limits the wrong way round).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/email.h"
#include "vigie/notify/outbox.h"
#include "vigie/notify/syslog.h"
#include "vigie/store/store.h"

namespace vigie::notify {

struct Settings {
  std::optional<SmtpOptions> smtp;  // e-mail on when set
  Whitelist whitelist;
  std::vector<std::string> email_to;
  std::optional<SyslogOptions> syslog;  // syslog on when set
  RetryPolicy retry;

  // Paths (CA file, password file) are taken relative to `home`.
  static Result<Settings> from(const core::Config& config, const std::filesystem::path& home);
};

// Channels built from settings, owned.
class ConfiguredChannels {
 public:
  ConfiguredChannels(const Settings& settings, const core::Clock& clock);
  [[nodiscard]] Channels view() const { return {email_.get(), syslog_.get()}; }

 private:
  std::unique_ptr<Channel> email_;
  std::unique_ptr<Channel> syslog_;
};

// An alert for the configured channels: by e-mail to notify.email_to (when e-mail is on) and
// to syslog (when on), inside the caller's transaction. Nothing configured: nothing queued.
Result<Queued> enqueue_alert(store::Store& store, const Settings& settings, const Message& message,
                             const Actor& actor, core::TimePoint at);

}  // namespace vigie::notify
