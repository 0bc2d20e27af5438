#include "vigie/notify/notice.h"

#include <array>
#include <utility>

namespace vigie::notify {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 5> kSeverities = {{
    {Severity::kCritical, "critical"},
    {Severity::kError, "error"},
    {Severity::kWarning, "warning"},
    {Severity::kNotice, "notice"},
    {Severity::kInfo, "info"},
}};

constexpr std::array<std::pair<State, std::string_view>, 4> kStates = {{
    {State::kPending, "pending"},
    {State::kDelivered, "delivered"},
    {State::kFailed, "failed"},
    {State::kRefused, "refused"},
}};

}  // namespace

std::string_view to_string(Severity severity) {
  for (const auto& [s, name] : kSeverities) {
    if (s == severity) return name;
  }
  return "warning";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (const auto& [s, name] : kSeverities) {
    if (name == text) return s;
  }
  return std::nullopt;
}

int syslog_severity(Severity severity) {
  switch (severity) {
    case Severity::kCritical:
      return 2;
    case Severity::kError:
      return 3;
    case Severity::kWarning:
      return 4;
    case Severity::kNotice:
      return 5;
    case Severity::kInfo:
      return 6;
  }
  return 4;
}

std::string_view to_string(ChannelKind channel) {
  return channel == ChannelKind::kEmail ? "email" : "syslog";
}

std::string_view to_string(State state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "pending";
}

std::optional<State> parse_state(std::string_view text) {
  for (const auto& [s, name] : kStates) {
    if (name == text) return s;
  }
  return std::nullopt;
}

}  // namespace vigie::notify
