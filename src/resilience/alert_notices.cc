#include "vigie/resilience/alert_notices.h"

#include <fmt/format.h>

#include <string>

namespace vigie::resilience {
namespace {

constexpr std::size_t kMaxSubject = 200;  // bytes, as notify::check_message wants
constexpr std::size_t kMaxBody = std::size_t{60} * 1024;

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  text.resize(end);
  return text + "...";
}

notify::Severity severity_of(const Alert& a) {
  return a.severity == "critical" ? notify::Severity::kCritical : notify::Severity::kWarning;
}

std::string line_of(std::string_view change, const Alert& a) {
  return fmt::format("{} [{}] {} {}: {}\n", change, a.severity, a.kind, a.object, a.message);
}

}  // namespace

std::optional<notify::Message> alert_digest(const std::vector<Alert>& raised,
                                            const std::vector<Alert>& cleared) {
  if (raised.empty() && cleared.empty()) return std::nullopt;
  notify::Message m;
  if (raised.size() == 1 && cleared.empty()) {
    const Alert& a = raised.front();
    m.kind = a.kind.size() <= 32 ? a.kind : "alert";
    m.severity = severity_of(a);
    m.object = a.object.substr(0, 200);
    m.subject = cut_utf8("Vigie alert: " + a.message, kMaxSubject);
    m.body = line_of("raised", a) + fmt::format("raised at {}\n", a.raised_at);
    return m;
  }
  std::size_t critical = 0;
  for (const auto& a : raised) critical += a.severity == "critical" ? 1 : 0;
  m.kind = "alerts.digest";
  m.severity = critical > 0     ? notify::Severity::kCritical
               : raised.empty() ? notify::Severity::kNotice
                                : notify::Severity::kWarning;
  m.object = "alerts";
  m.subject = fmt::format("Vigie: {} alert(s) raised ({} critical), {} cleared", raised.size(),
                          critical, cleared.size());
  std::size_t lines = 0;
  std::size_t left = raised.size() + cleared.size();
  auto add = [&](std::string_view change, const Alert& a) {
    std::string line = line_of(change, a);
    if (lines >= kDigestLines || m.body.size() + line.size() > kMaxBody) return;
    m.body += line;
    ++lines;
    --left;
  };
  // Critical first: they are what the reader must not miss in a long list.
  for (const auto& a : raised) {
    if (a.severity == "critical") add("raised", a);
  }
  for (const auto& a : raised) {
    if (a.severity != "critical") add("raised", a);
  }
  for (const auto& a : cleared) add("cleared", a);
  if (left > 0) m.body += fmt::format("... and {} more: see `vigie alerts`.\n", left);
  return m;
}

Result<std::int64_t> tell_alerts(store::Store& store, const notify::Settings& settings,
                                 const notify::Actor& actor, core::TimePoint now) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  // No alert raised or cleared between what is read and what is marked told.
  VIGIE_TRY(store.lock_table("alerts"));
  std::vector<Alert> raised;
  std::vector<Alert> cleared;
  VIGIE_TRY(store.for_each(
      "SELECT id, kind, object, severity, message, raised_at, cleared_at, raise_told_at, "
      "clear_told_at FROM alerts WHERE raise_told_at IS NULL OR (cleared_at IS NOT NULL AND "
      "clear_told_at IS NULL) ORDER BY id",
      {}, [&](const store::Row& r) {
        Alert a{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6)};
        const bool raise_untold = r.is_null(7);
        const bool clear_untold = !a.cleared_at.empty() && r.is_null(8);
        // Raised and cleared since the last digest: only the clearing matters now.
        if (clear_untold) {
          cleared.push_back(std::move(a));
        } else if (raise_untold) {
          raised.push_back(std::move(a));
        }
        return true;
      }));
  auto message = alert_digest(raised, cleared);
  if (!message) return 0;
  auto queued = notify::enqueue_alert(store, settings, *message, actor, now);
  if (!queued) return tl::unexpected(queued.error());
  const std::string at = core::format_utc(now);
  const store::Value params[] = {at, at};
  VIGIE_TRY(store.execute(
      "UPDATE alerts SET raise_told_at = COALESCE(raise_told_at, ?), clear_told_at = CASE WHEN "
      "cleared_at IS NULL THEN NULL ELSE COALESCE(clear_told_at, ?) END WHERE raise_told_at IS "
      "NULL OR (cleared_at IS NOT NULL AND clear_told_at IS NULL)",
      params));
  VIGIE_TRY(tx->commit());
  return static_cast<std::int64_t>(raised.size() + cleared.size());
}

}  // namespace vigie::resilience
