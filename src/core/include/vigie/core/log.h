// Structured logging on stderr (spdlog): an event name and key=value fields, as text for a
// terminal or as one JSON object per line for a log collector. Values of fields whose name
// says they hold a secret (password, token, secret, key...) are never written.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vigie::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct LogField {
  std::string_view key;
  std::string value;
};

void init_logging(LogLevel level, LogFormat format);
void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// True when a field of that name must be redacted.
bool is_secret_field(std::string_view key);

// "debug", "info", "warn", "error" (the configuration's spelling).
bool parse_log_level(std::string_view text, LogLevel& out);

}  // namespace vigie::core
