// Alerts passed on to people: every raising and clearing of an alert (backup, export, offline
// sync, scheduler) is told once through the notification outbox (e-mail to notify.email_to,
// syslog). Many changes at once (the first evaluation of a hospital raises hundreds) make one
// digest, not hundreds of e-mails.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/settings.h"
#include "vigie/resilience/alerts.h"
#include "vigie/store/store.h"

namespace vigie::resilience {

// What is said about `raised` and `cleared`: one alert raised alone is told as itself (its
// kind, object and message); anything more as a digest ("alerts.digest"), critical when one
// raised alert is, listing at most kDigestLines changes. Nothing changed: nothing to say.
inline constexpr std::size_t kDigestLines = 200;
std::optional<notify::Message> alert_digest(const std::vector<Alert>& raised,
                                            const std::vector<Alert>& cleared);

// The alerts raised or cleared and not yet told: the digest queued for the configured channels
// and the alerts marked as told, in one transaction, so that a crash neither loses nor repeats
// it (with no channel configured they are marked and nothing is queued). Returns how many
// changes were told.
Result<std::int64_t> tell_alerts(store::Store& store, const notify::Settings& settings,
                                 const notify::Actor& actor, core::TimePoint now);

}  // namespace vigie::resilience
