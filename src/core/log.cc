#include "vigie/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "vigie/core/time.h"

namespace vigie::core {
namespace {

LogFormat g_format = LogFormat::kText;

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool needs_quotes(std::string_view v) {
  return v.empty() || v.find_first_of(" \t\"=\n") != std::string_view::npos;
}

}  // namespace

bool is_secret_field(std::string_view key) {
  static constexpr std::array<std::string_view, 7> kSecretWords = {
      "password", "passwd", "secret", "token", "key", "otp", "credential"};
  std::string k = lower(key);
  return std::any_of(kSecretWords.begin(), kSecretWords.end(),
                     [&](std::string_view w) { return k.find(w) != std::string::npos; });
}

void init_logging(LogLevel level, LogFormat format) {
  g_format = format;
  spdlog::drop("vigie");
  auto logger = spdlog::stderr_logger_mt("vigie");
  spdlog::set_default_logger(logger);
  spdlog::set_level(to_spdlog(level));
  if (format == LogFormat::kJson) {
    spdlog::set_pattern("%v");
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
}

void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  auto lvl = to_spdlog(level);
  if (!spdlog::should_log(lvl)) return;
  if (g_format == LogFormat::kJson) {
    nlohmann::json j;
    j["ts"] = format_utc(utc_now());
    j["level"] = spdlog::level::to_string_view(lvl).data();
    j["event"] = event;
    for (const auto& f : fields) {
      j[std::string(f.key)] = is_secret_field(f.key) ? "[redacted]" : f.value;
    }
    spdlog::log(lvl, "{}", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string line(event);
  for (const auto& f : fields) {
    std::string v = is_secret_field(f.key) ? "[redacted]" : f.value;
    line += ' ';
    line += f.key;
    line += '=';
    line += needs_quotes(v)
                ? nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                : v;
  }
  spdlog::log(lvl, "{}", line);
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  static constexpr std::array<std::pair<std::string_view, LogLevel>, 4> kLevels = {{
      {"debug", LogLevel::kDebug},
      {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},
      {"error", LogLevel::kError},
  }};
  for (const auto& [name, level] : kLevels) {
    if (name == text) {
      out = level;
      return true;
    }
  }
  return false;
}

}  // namespace vigie::core
