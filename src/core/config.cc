#include "vigie/core/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <fstream>
#include <functional>
#include <sstream>

namespace vigie::core {
namespace {

std::string position(std::string_view source, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

// How one key is read into the Config; each returns an error message or "".
using Apply = std::function<std::string(const toml::node&, Config&)>;

struct KeyRule {
  ConfigKey key;
  Apply apply;
};

Apply string_into(std::string Config::*field) {
  return [field](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<std::string>();
    if (!n.is_string() || !v) return "expected a string";
    c.*field = *v;
    return "";
  };
}

Apply days_into(std::int64_t Config::*field) {
  return [field](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<std::int64_t>();
    if (!n.is_integer() || !v) return "expected an integer";
    if (*v < 1 || *v > 3650) return "a number of days between 1 and 3650";
    c.*field = *v;
    return "";
  };
}

const std::vector<KeyRule>& rules() {
  static const std::vector<KeyRule> kRules = {
      {{"store.url", "string", "\"sqlite:vigie.db\"",
        "Where the data lives: \"sqlite:PATH\" (one file, relative to the home directory) or a "
        "PostgreSQL URL \"postgresql://user@host:port/dbname\"."},
       string_into(&Config::store_url)},
      {{"server.listen", "string", "\"127.0.0.1\"",
        "Address vigied listens on for HTTPS (API and console)."},
       string_into(&Config::server_listen)},
      {{"server.port", "integer", "8443", "HTTPS port; 0 picks a free port (printed at start)."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::int64_t>();
         if (!n.is_integer() || !v) return "expected an integer";
         if (*v < 0 || *v > 65535) return "port must be between 0 and 65535";
         c.server_port = *v;
         return "";
       }},
      {{"server.tls_cert", "string", "\"tls/server.crt\"",
        "PEM certificate chain of the HTTPS server (relative to the home directory); created "
        "self-signed by `vigie init` when missing."},
       string_into(&Config::server_tls_cert)},
      {{"server.tls_key", "string", "\"tls/server.key\"",
        "PEM private key of the HTTPS server (relative to the home directory, mode 0600)."},
       string_into(&Config::server_tls_key)},
      {{"log.level", "string", "\"info\"", "One of debug, info, warn, error."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (!n.is_string() || !v || !parse_log_level(*v, c.log_level)) {
           return "expected one of \"debug\", \"info\", \"warn\", \"error\"";
         }
         return "";
       }},
      {{"log.format", "string", "\"text\"",
        "\"text\" for people, \"json\" for one JSON object per line (log collectors)."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (v && *v == "text") {
           c.log_format = LogFormat::kText;
         } else if (v && *v == "json") {
           c.log_format = LogFormat::kJson;
         } else {
           return "expected \"text\" or \"json\"";
         }
         return "";
       }},
      {{"demo.load_on_first_start", "boolean", "true",
        "Load the demo hospital (data/demo) into an empty store when vigied first starts."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<bool>();
         if (!n.is_boolean() || !v) return "expected true or false";
         c.demo_load_on_first_start = *v;
         return "";
       }},
      {{"findings.deadline_days_critical", "integer", "15",
        "Days to close a finding of an advisory whose highest CVSS base score is 9.0 or more."},
       days_into(&Config::deadline_days_critical)},
      {{"findings.deadline_days_high", "integer", "30",
        "Days to close a finding of an advisory scored 7.0 to 8.9."},
       days_into(&Config::deadline_days_high)},
      {{"findings.deadline_days_medium", "integer", "90",
        "Days to close a finding of an advisory scored 4.0 to 6.9."},
       days_into(&Config::deadline_days_medium)},
      {{"findings.deadline_days_low", "integer", "180",
        "Days to close a finding of an advisory scored below 4.0."},
       days_into(&Config::deadline_days_low)},
      {{"findings.deadline_days_unscored", "integer", "30",
        "Days to close a finding of an advisory without a CVSS score (most vendors' letters)."},
       days_into(&Config::deadline_days_unscored)},
      {{"netpolicy.dns_server", "string", "\"\"",
        "DNS server that resolves the names bound to site roles, as \"IPv4:port\"; empty for the "
        "system's resolvers (/etc/resolv.conf)."},
       string_into(&Config::netpolicy_dns_server)},
      {{"export.outbox_dir", "string", "\"export/outbox\"",
        "Where `vigie export run` writes each disaster-recovery archive before pushing it to the "
        "strategic PCs (relative to the home directory)."},
       string_into(&Config::export_outbox_dir)},
      {{"export.generations_kept", "integer", "7",
        "Archives kept in the outbox and on each strategic PC; older ones are deleted after a "
        "successful push (1 to 1000)."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::int64_t>();
         if (!n.is_integer() || !v) return "expected an integer";
         if (*v < 1 || *v > 1000) return "between 1 and 1000";
         c.export_generations_kept = *v;
         return "";
       }},
      {{"export.max_age_hours", "integer", "26",
        "A strategic PC whose last successful push is older than this is reported stale by "
        "`vigie export status` (1 to 8760)."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::int64_t>();
         if (!n.is_integer() || !v) return "expected an integer";
         if (*v < 1 || *v > 8760) return "between 1 and 8760";
         c.export_max_age_hours = *v;
         return "";
       }},
      {{"export.schedule_hours", "array of integers", "[6, 18]",
        "Hours of the day (UTC, 0-23) at which vigied runs the export; [] for none."},
       [](const toml::node& n, Config& c) -> std::string {
         const auto* array = n.as_array();
         if (array == nullptr) return "expected an array of hours, e.g. [6, 18]";
         std::vector<int> hours;
         for (const auto& e : *array) {
           auto v = e.value<std::int64_t>();
           if (!e.is_integer() || !v || *v < 0 || *v > 23) return "hours are integers 0 to 23";
           hours.push_back(static_cast<int>(*v));
         }
         c.export_schedule_hours = std::move(hours);
         return "";
       }},
      {{"export.site", "string", "\"\"",
        "The hospital's name as the archives and their readable pages state it; empty for the "
        "names of the store's sites."},
       string_into(&Config::export_site)},
      {{"export.connect_timeout_seconds", "integer", "15",
        "SSH connection timeout of a push to one strategic PC (1 to 600)."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::int64_t>();
         if (!n.is_integer() || !v) return "expected an integer";
         if (*v < 1 || *v > 600) return "between 1 and 600";
         c.export_connect_timeout_seconds = *v;
         return "";
       }},
  };
  return kRules;
}

const KeyRule* find_rule(std::string_view name) {
  for (const auto& r : rules()) {
    if (r.key.name == name) return &r;
  }
  return nullptr;
}

bool is_table_prefix(std::string_view name) {
  for (const auto& r : rules()) {
    if (r.key.name.size() > name.size() && r.key.name.compare(0, name.size(), name) == 0 &&
        r.key.name[name.size()] == '.') {
      return true;
    }
  }
  return false;
}

Status apply_table(const toml::table& table, const std::string& prefix, std::string_view source,
                   Config& config) {
  for (const auto& [k, node] : table) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const KeyRule* rule = find_rule(name)) {
      if (std::string why = rule->apply(node, config); !why.empty()) {
        return fail(ErrorCode::kInvalidInput, fmt::format("key '{}': {}", name, why),
                    position(source, node.source()));
      }
      continue;
    }
    if (node.is_table() && is_table_prefix(name)) {
      VIGIE_TRY(apply_table(*node.as_table(), name, source, config));
      continue;
    }
    return fail(ErrorCode::kInvalidInput,
                fmt::format("unknown key '{}' (see docs/configuration.md)", name),
                position(source, k.source()));
  }
  return {};
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> kKeys = [] {
    std::vector<ConfigKey> keys;
    for (const auto& r : rules()) keys.push_back(r.key);
    return keys;
  }();
  return kKeys;
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  Config config;
  try {
    toml::table table = toml::parse(toml_text, source_name);
    VIGIE_TRY(apply_table(table, "", source_name, config));
  } catch (const toml::parse_error& e) {
    return fail(ErrorCode::kInvalidInput, std::string(e.description()),
                position(source_name, e.source()));
  }
  return config;
}

Result<Config> load_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Config{};
    return fail(ErrorCode::kIo, "cannot read configuration file", path.string());
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path.string());
}

std::string default_config_text() {
  std::string out =
      "# Vigie configuration. Every key is optional; the value shown is the default.\n"
      "# Full reference: docs/configuration.md\n";
  std::string table;
  for (const auto& key : config_keys()) {
    auto dot = key.name.find('.');
    std::string t = key.name.substr(0, dot);
    if (t != table) {
      out += fmt::format("\n[{}]\n", t);
      table = t;
    }
    out += fmt::format("# {}\n{} = {}\n", key.doc, key.name.substr(dot + 1), key.default_value);
  }
  return out;
}

}  // namespace vigie::core
