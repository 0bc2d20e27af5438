// UTC time for Vigie: one clock type, ISO 8601 text form, and an injectable clock so that
// behaviour depending on time (expiry, deadlines) is tested without sleeping.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::core {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// "2026-11-24T06:45:14Z", or with milliseconds "2026-11-24T06:45:14.123Z" when they are not 0.
std::string format_utc(TimePoint t);

// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)"; converts to UTC.
Result<TimePoint> parse_utc(std::string_view text);

// The UTC calendar date of `t`, "YYYY-MM-DD" (deadlines are dates).
std::string format_date(TimePoint t);
// "YYYY-MM-DD" `days` days after the date of `t`.
std::string date_after(TimePoint t, std::int64_t days);

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override;
};

// A clock that moves only when told to, for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  [[nodiscard]] TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_;
};

TimePoint utc_now();

}  // namespace vigie::core
