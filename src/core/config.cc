#include "vigie/core/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cstdlib>
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

// An integer from `min` to `max`; `what` names it in the error ("a number of days").
Apply integer_into(std::int64_t Config::*field, std::int64_t min, std::int64_t max,
                   std::string_view what = "an integer") {
  return
      [field, min, max, what = std::string(what)](const toml::node& n, Config& c) -> std::string {
        auto v = n.value<std::int64_t>();
        if (!n.is_integer() || !v) return "expected an integer";
        if (*v < min || *v > max) return fmt::format("expected {} from {} to {}", what, min, max);
        c.*field = *v;
        return "";
      };
}

Apply bool_into(bool Config::*field) {
  return [field](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<bool>();
    if (!n.is_boolean() || !v) return "expected true or false";
    c.*field = *v;
    return "";
  };
}

Apply days_into(std::int64_t Config::*field) {
  return integer_into(field, 1, 3650, "a number of days");
}

// Days between two events, 0 meaning "never required".
Apply interval_into(std::int64_t Config::*field) {
  return integer_into(field, 0, 3650, "a number of days");
}

// The notify.* keys: syntax is checked here (file:line:column), meaning by the notify module.
namespace notify_keys {

Apply one_of_into(std::string Config::*field, const std::vector<std::string>& allowed) {
  return [field, allowed](const toml::node& n, Config& c) -> std::string {
    auto v = n.value<std::string>();
    if (n.is_string() && v) {
      for (const auto& a : allowed) {
        if (*v == a) {
          c.*field = *v;
          return "";
        }
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
    return "expected one of " + list;
  };
}

// An e-mail address, or "@domain" when `domains` is true: no spaces, controls or brackets.
bool plausible_address(std::string_view a, bool domains) {
  auto at = a.find('@');
  if (at == std::string_view::npos || at + 1 == a.size() || a.find('@', at + 1) != a.npos) {
    return false;
  }
  if (at == 0 && !domains) return false;
  return std::none_of(a.begin(), a.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u <= 0x20 || u >= 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == '"';
  });
}

Apply addresses_into(std::vector<std::string> Config::*field, bool domains) {
  return [field, domains](const toml::node& n, Config& c) -> std::string {
    const auto* array = n.as_array();
    if (array == nullptr) return "expected an array of strings";
    std::vector<std::string> out;
    for (const auto& item : *array) {
      auto v = item.value<std::string>();
      if (!item.is_string() || !v) return "expected an array of strings";
      if (!plausible_address(*v, domains)) {
        return fmt::format("'{}' is not an e-mail address{}", *v, domains ? " or @domain" : "");
      }
      out.push_back(*v);
    }
    c.*field = std::move(out);
    return "";
  };
}

}  // namespace notify_keys

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
       integer_into(&Config::server_port, 0, 65535, "a port")},
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
       bool_into(&Config::demo_load_on_first_start)},
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
      {{"backups.restore_test_days_critical", "integer", "365",
        "Days between successful restore tests of a critical system (life-supporting and "
        "diagnostic devices, or systems marked critical); 0 for none. The French CaRE "
        "programme asks for at least one restore test of a critical system."},
       interval_into(&Config::backups_restore_test_days_critical)},
      {{"backups.restore_test_days_important", "integer", "730",
        "Days between successful restore tests of a system marked important; 0 for none."},
       interval_into(&Config::backups_restore_test_days_important)},
      {{"backups.restore_test_days_standard", "integer", "0",
        "Days between successful restore tests of other systems; 0 for none required."},
       interval_into(&Config::backups_restore_test_days_standard)},
      {{"backups.policy_required_for", "string", "\"life-supporting,diagnostic\"",
        "Inventory criticalities (comma-separated) whose devices must have a backup policy, "
        "possibly method \"none\"; an alert names each device without one. Empty: no such "
        "alert."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (!n.is_string() || !v) return "expected a string";
         std::string_view rest = *v;
         while (!rest.empty()) {
           const size_t comma = rest.find(',');
           std::string_view item = rest.substr(0, comma);
           while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
           while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
           if (!item.empty() && item != "life-supporting" && item != "diagnostic" &&
               item != "other") {
             return "expected criticalities among life-supporting, diagnostic, other";
           }
           rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
         }
         c.backups_policy_required_for = *v;
         return "";
       }},
      {{"backup.repositories", "array of strings", "[]",
        "restic repositories that receive Vigie's own backups (`vigie backup run`): a local path "
        "(relative to the home directory) and an off-machine, append-only one, e.g. "
        "\"rest:https://backup.example:8000/vigie\" (credentials go in "
        "backup.rest_credentials_file, never in the URL)."},
       [](const toml::node& n, Config& c) -> std::string {
         const auto* array = n.as_array();
         if (array == nullptr) return "expected an array of strings";
         std::vector<std::string> out;
         for (const auto& item : *array) {
           auto v = item.value<std::string>();
           if (!item.is_string() || !v || v->empty()) return "expected non-empty strings";
           if (std::find(out.begin(), out.end(), *v) != out.end()) {
             return "repository '" + *v + "' is listed twice";
           }
           out.push_back(*v);
         }
         c.backup_repositories = std::move(out);
         return "";
       }},
      {{"backup.password_file", "string", "\"backup/restic.password\"",
        "File holding the restic repositories' password (relative to the home directory, mode "
        "0600); keep a copy off the machine: without it no backup can be read."},
       string_into(&Config::backup_password_file)},
      {{"backup.rest_credentials_file", "string", "\"\"",
        "File holding \"user:password\" for the rest: repositories (relative to the home "
        "directory, mode 0600): an account of the append-only server that cannot delete."},
       string_into(&Config::backup_rest_credentials_file)},
      {{"backup.cacert", "string", "\"\"",
        "PEM CA certificate of the REST server's TLS when it is not signed by a system root; "
        "empty for the system's roots."},
       string_into(&Config::backup_cacert)},
      {{"backup.check_subset", "string", "\"5%\"",
        "Share of the repository data `vigie backup verify` reads back (restic check "
        "--read-data-subset): \"N%\" or \"n/t\"."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (!n.is_string() || !v) return "expected a string";
         const std::string& s = *v;
         bool ok = false;
         if (!s.empty() && s.back() == '%') {
           char* end = nullptr;
           double pct = std::strtod(s.c_str(), &end);
           ok = end == s.c_str() + s.size() - 1 && pct > 0 && pct <= 100;
         } else if (auto slash = s.find('/'); slash != std::string::npos) {
           char* end1 = nullptr;
           char* end2 = nullptr;
           long n1 = std::strtol(s.c_str(), &end1, 10);
           long n2 = std::strtol(s.c_str() + slash + 1, &end2, 10);
           ok = end1 == s.c_str() + slash && end2 == s.c_str() + s.size() && n1 >= 1 && n2 >= n1;
         }
         if (!ok) return "expected \"N%\" (0 < N <= 100) or \"n/t\" (1 <= n <= t)";
         c.backup_check_subset = s;
         return "";
       }},
      {{"backup.staging_dir", "string", "\"backup/staging\"",
        "Where a backup stages its files before restic reads them (relative to the home "
        "directory; mode 0700, emptied after each run)."},
       string_into(&Config::backup_staging_dir)},
      {{"backup.interval_hours", "integer", "24",
        "Hours between two backups run by vigied; 0 disables the schedule."},
       integer_into(&Config::backup_interval_hours, 0, 744, "a number of hours")},
      {{"backup.verify_interval_hours", "integer", "168",
        "Hours between two verifications of Vigie's repositories (restic check) run by vigied; "
        "0 disables the schedule."},
       integer_into(&Config::backup_verify_interval_hours, 0, 8784, "a number of hours")},
      {{"backup.restore_test_interval_days", "integer", "30",
        "Days between two restore tests of Vigie's latest snapshot run by vigied; 0 disables "
        "the schedule."},
       integer_into(&Config::backup_restore_test_interval_days, 0, 366, "a number of days")},
      {{"backup.retention", "string", "\"\"",
        "What the trusted backup host keeps (e.g. \"restic forget --keep-daily 14 --keep-weekly "
        "8 --keep-monthly 24, run weekly on backup-admin\"): a note shown by `vigie backup "
        "snapshots`; Vigie itself never deletes a snapshot."},
       string_into(&Config::backup_retention)},
      {{"notify.smtp_host", "string", "\"\"",
        "SMTP relay that sends Vigie's e-mail (host name or address); empty: no e-mail."},
       string_into(&Config::notify_smtp_host)},
      {{"notify.smtp_port", "integer", "587", "Port of the SMTP relay (587: submission)."},
       integer_into(&Config::notify_smtp_port, 1, 65535)},
      {{"notify.smtp_starttls", "string", "\"required\"",
        "\"required\": no mail unless the relay offers STARTTLS and its certificate verifies; "
        "\"when-offered\": TLS when offered, else cleartext (never with a password); \"off\"."},
       notify_keys::one_of_into(&Config::notify_smtp_starttls,
                                {"required", "when-offered", "off"})},
      {{"notify.smtp_ca_file", "string", "\"\"",
        "PEM file of the CA(s) the relay's certificate must chain to (relative to the home); "
        "empty: the system's CAs."},
       string_into(&Config::notify_smtp_ca_file)},
      {{"notify.smtp_user", "string", "\"\"",
        "User for SMTP AUTH (PLAIN or LOGIN, only over TLS); empty: no authentication."},
       string_into(&Config::notify_smtp_user)},
      {{"notify.smtp_password_file", "string", "\"\"",
        "File holding the SMTP password (relative to the home, mode 0600); never logged."},
       string_into(&Config::notify_smtp_password_file)},
      {{"notify.smtp_from", "string", "\"\"",
        "Sender address of Vigie's e-mail (envelope and From:); required with smtp_host."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (!n.is_string() || !v) return "expected a string";
         if (!v->empty() && !notify_keys::plausible_address(*v, false)) {
           return fmt::format("'{}' is not an e-mail address", *v);
         }
         c.notify_smtp_from = *v;
         return "";
       }},
      {{"notify.smtp_timeout_seconds", "integer", "30",
        "Seconds to wait for the relay to connect or answer a command."},
       integer_into(&Config::notify_smtp_timeout_seconds, 1, 600)},
      {{"notify.email_allowed", "array of strings", "[]",
        "The whitelist: the only recipients Vigie may e-mail, exact addresses or \"@domain\" "
        "(that domain only). Any other recipient is refused and audited."},
       notify_keys::addresses_into(&Config::notify_email_allowed, true)},
      {{"notify.email_to", "array of strings", "[]",
        "Who receives alerts by e-mail (each must also be allowed by email_allowed)."},
       notify_keys::addresses_into(&Config::notify_email_to, false)},
      {{"notify.syslog", "string", "\"\"",
        "Where alerts go by syslog: \"udp://HOST:PORT\", \"tcp://HOST:PORT\" (RFC 5424, octet "
        "counting), \"local\" (/dev/log), \"unix:PATH\"; empty: no syslog."},
       [](const toml::node& n, Config& c) -> std::string {
         auto v = n.value<std::string>();
         if (!n.is_string() || !v) return "expected a string";
         if (!v->empty() && *v != "local" && !v->starts_with("udp://") &&
             !v->starts_with("tcp://") && !v->starts_with("unix:")) {
           return "expected \"udp://HOST:PORT\", \"tcp://HOST:PORT\", \"local\", "
                  "\"unix:PATH\" or \"\"";
         }
         c.notify_syslog = *v;
         return "";
       }},
      {{"notify.syslog_facility", "string", "\"daemon\"",
        "Syslog facility of Vigie's messages: kern, user, mail, daemon, auth, syslog, lpr, news, "
        "uucp, cron, authpriv, ftp, local0 ... local7."},
       notify_keys::one_of_into(
           &Config::notify_syslog_facility,
           {"kern",   "user",   "mail",   "daemon",   "auth",   "syslog", "lpr",
            "news",   "uucp",   "cron",   "authpriv", "ftp",    "local0", "local1",
            "local2", "local3", "local4", "local5",   "local6", "local7"})},
      {{"notify.retry_max_attempts", "integer", "10",
        "Delivery attempts of a notice before it is marked failed (`vigie notify outbox` lists "
        "it)."},
       integer_into(&Config::notify_retry_max_attempts, 1, 100)},
      {{"notify.retry_base_seconds", "integer", "60",
        "Wait before the second attempt; each further wait doubles, up to retry_max_seconds."},
       integer_into(&Config::notify_retry_base_seconds, 1, 86400)},
      {{"notify.retry_max_seconds", "integer", "3600", "Longest wait between two attempts."},
       integer_into(&Config::notify_retry_max_seconds, 1, 604800)},
      {{"export.outbox_dir", "string", "\"export/outbox\"",
        "Where `vigie export run` writes each disaster-recovery archive before pushing it to the "
        "strategic PCs (relative to the home directory)."},
       string_into(&Config::export_outbox_dir)},
      {{"export.generations_kept", "integer", "7",
        "Archives kept in the outbox and on each strategic PC; older ones are deleted after a "
        "successful push (1 to 1000)."},
       integer_into(&Config::export_generations_kept, 1, 1000)},
      {{"export.max_age_hours", "integer", "26",
        "A strategic PC whose last successful push is older than this is reported stale by "
        "`vigie export status` (1 to 8760)."},
       integer_into(&Config::export_max_age_hours, 1, 8760, "a number of hours")},
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
       integer_into(&Config::export_connect_timeout_seconds, 1, 600, "a number of seconds")},
      {{"remote.broker_enabled", "boolean", "true",
        "Run the remote-service broker in vigied (connectors and engineers' tunnels)."},
       bool_into(&Config::remote_broker_enabled)},
      {{"remote.broker_listen", "string", "\"127.0.0.1\"",
        "IP address the broker listens on; in the DMZ, the address connectors and engineers "
        "reach (\"0.0.0.0\" for all)."},
       string_into(&Config::remote_broker_listen)},
      {{"remote.broker_port", "integer", "8444",
        "TLS/WebSocket port of the broker; 443 in production (the systemd unit grants "
        "CAP_NET_BIND_SERVICE); 0 picks a free port (printed at start)."},
       integer_into(&Config::remote_broker_port, 0, 65535, "a port")},
      {{"remote.broker_names", "array of strings", "[\"localhost\", \"127.0.0.1\", \"::1\"]",
        "DNS names and addresses by which connectors and engineers reach the broker: its "
        "certificate names them all."},
       [](const toml::node& n, Config& c) -> std::string {
         const auto* array = n.as_array();
         if (array == nullptr || array->empty()) return "expected a non-empty array of strings";
         std::vector<std::string> out;
         for (const auto& item : *array) {
           auto v = item.value<std::string>();
           if (!item.is_string() || !v || v->empty()) return "expected non-empty strings";
           out.push_back(*v);
         }
         c.remote_broker_names = std::move(out);
         return "";
       }},
      {{"remote.ca_dir", "string", "\"remote/ca\"",
        "Directory of Vigie's own CA (ca.pem, ca.key mode 0600), relative to the home; created "
        "by `vigie init`. It signs the broker's certificate and the connectors'."},
       string_into(&Config::remote_ca_dir)},
      {{"remote.broker_cert", "string", "\"remote/broker.crt\"",
        "The broker's certificate, relative to the home; issued by the CA at start when "
        "missing, when remote.broker_names changed or when a third of its life is left."},
       string_into(&Config::remote_broker_cert)},
      {{"remote.broker_key", "string", "\"remote/broker.key\"",
        "The broker's private key, relative to the home (mode 0600)."},
       string_into(&Config::remote_broker_key)},
      {{"remote.broker_cert_days", "integer", "365",
        "Validity of the broker's certificate in days."},
       days_into(&Config::remote_broker_cert_days)},
      {{"remote.connector_cert_days", "integer", "90",
        "Validity of a connector's certificate in days; connectors renew theirs when a third "
        "is left, without interruption."},
       days_into(&Config::remote_connector_cert_days)},
      {{"remote.stream_window", "integer", "1048576",
        "The largest receive window a stream's ends may announce, in bytes: bounds what the "
        "broker holds per stream (65536 to 16777216)."},
       integer_into(&Config::remote_stream_window, 65536, 16777216, "a number of bytes")},
      {{"remote.max_streams", "integer", "256",
        "Streams at once on one connector's or engineer's connection (1 to 65536)."},
       integer_into(&Config::remote_max_streams, 1, 65536, "a number of streams")},
      {{"remote.max_queue_bytes", "integer", "0",
        "Bytes the broker queues for one peer before dropping it as stuck; 0 = what the windows "
        "allow (max_streams x stream_window + 1 MiB), up to 4 GiB."},
       integer_into(&Config::remote_max_queue_bytes, 0, std::int64_t{4} << 30,
                    "a number of bytes")},
      {{"remote.idle_seconds", "integer", "30",
        "A peer silent this long is gone (pinged after half of it): dead-peer detection."},
       integer_into(&Config::remote_idle_seconds, 5, 3600, "a number of seconds")},
      {{"remote.grant_check_seconds", "integer", "5",
        "How often the broker re-reads grants and revocations: a revoked grant or connector "
        "is cut within this time."},
       integer_into(&Config::remote_grant_check_seconds, 1, 300, "a number of seconds")},
      {{"remote.engineer_bearer_tokens", "boolean", "false",
        "Accept engineers' bearer credentials (`vigie engineers add`): a stand-in until the "
        "second factor of the access-control issue; for tests and pilots only."},
       bool_into(&Config::remote_engineer_bearer_tokens)},
      {{"remote.approval_seconds", "integer", "30",
        "A session request not approved within this time expires (seed 003: 30 s)."},
       integer_into(&Config::remote_approval_seconds, 5, 600, "a number of seconds")},
      {{"remote.session_password_seconds", "integer", "300",
        "An approved session must be opened with its one-time password within this time."},
       integer_into(&Config::remote_session_password_seconds, 30, 3600, "a number of seconds")},
      {{"remote.session_max_minutes", "integer", "240",
        "Every session ends after this time, whatever it is doing."},
       integer_into(&Config::remote_session_max_minutes, 1, 1440, "a number of minutes")},
      {{"remote.session_idle_minutes", "integer", "15",
        "A session without a byte either way for this time ends."},
       integer_into(&Config::remote_session_idle_minutes, 1, 1440, "a number of minutes")},
      {{"remote.session_check_ms", "integer", "250",
        "How often the broker looks for ended sessions and revoked grants (a cheap counter): "
        "their streams close within this time plus a round trip."},
       integer_into(&Config::remote_session_check_ms, 50, 5000, "a number of milliseconds")},
      {{"remote.approvers_email", "array of strings", "[]",
        "Approvers on duty, told of each session request, start and end by e-mail (the device "
        "owner is added; notify.email_allowed applies)."},
       notify_keys::addresses_into(&Config::remote_approvers_email, false)},
      {{"remote.login_hours", "integer", "8",
        "How long an engineer's login (password and second factor) lasts."},
       integer_into(&Config::remote_login_hours, 1, 24, "a number of hours")},
      {{"remote.password_memory_kib", "integer", "65536",
        "argon2id memory cost of new engineers' password hashes, KiB (OWASP: at least 19456)."},
       integer_into(&Config::remote_password_memory_kib, 1024, 4194304, "a number of KiB")},
      {{"remote.transfer_dir", "string", "\"remote/transfers\"",
        "Where files exchanged with engineers wait: DEVICE-ID/outbox (the hospital puts files "
        "there for engineers to get), DEVICE-ID/inbox (what engineers put)."},
       string_into(&Config::remote_transfer_dir)},
      {{"remote.max_transfer_bytes", "integer", "67108864",
        "Largest file an engineer may get or put."},
       integer_into(&Config::remote_max_transfer_bytes, 1024, std::int64_t{4} << 30,
                    "a number of bytes")},
      {{"audit.checkpoint_file", "string", "\"audit/checkpoints.jsonl\"",
        "Signed checkpoints of the audit log (Merkle root, Ed25519), one JSON line each: copy it "
        "off the machine; `vigie audit verify --checkpoint` checks the log against it."},
       string_into(&Config::audit_checkpoint_file)},
      {{"audit.checkpoint_key", "string", "\"audit/checkpoint.key\"",
        "Ed25519 key signing the checkpoints (created when missing; its public half is written "
        "next to it as .pub)."},
       string_into(&Config::audit_checkpoint_key)},
      {{"audit.checkpoint_minutes", "integer", "60",
        "How often vigied writes a checkpoint (when the log has grown)."},
       integer_into(&Config::audit_checkpoint_minutes, 1, 10080, "a number of minutes")},
      {{"audit.retention_years", "integer", "6",
        "How long audit entries are kept at least (seed 003 §4b: 6 years); none is deleted "
        "before."},
       integer_into(&Config::audit_retention_years, 6, 100, "a number of years")},
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
