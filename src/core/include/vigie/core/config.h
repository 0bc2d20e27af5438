// Vigie's configuration: a TOML file (`vigie.toml` in the home directory) over embedded
// defaults. Every key is listed in config_keys() with its documentation; an unknown key or
// a value of the wrong type is refused with file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vigie/core/log.h"
#include "vigie/core/result.h"

namespace vigie::core {

struct Config {
  // store.url: "sqlite:PATH" (relative to the home directory) or "postgresql://...".
  std::string store_url = "sqlite:vigie.db";
  std::string server_listen = "127.0.0.1";
  std::int64_t server_port = 8443;
  std::string server_tls_cert = "tls/server.crt";
  std::string server_tls_key = "tls/server.key";
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  bool demo_load_on_first_start = true;
  // Days to close a finding, by the advisory's highest CVSS base score.
  std::int64_t deadline_days_critical = 15;
  std::int64_t deadline_days_high = 30;
  std::int64_t deadline_days_medium = 90;
  std::int64_t deadline_days_low = 180;
  std::int64_t deadline_days_unscored = 30;
  // netpolicy.dns_server: "IPv4:port" resolving the site roles' DNS names; empty = system.
  std::string netpolicy_dns_server;
  // Backup tracking: days between successful restore tests by system criticality (0 = none
  // required), and the inventory criticalities whose devices must have a backup policy.
  std::int64_t backups_restore_test_days_critical = 365;
  std::int64_t backups_restore_test_days_important = 730;
  std::int64_t backups_restore_test_days_standard = 0;
  std::string backups_policy_required_for = "life-supporting,diagnostic";
  // backup.*: Vigie's own backups through restic (docs/resilience-backup.md).
  std::vector<std::string> backup_repositories;
  std::string backup_password_file = "backup/restic.password";
  std::string backup_rest_credentials_file;
  std::string backup_cacert;
  std::string backup_check_subset = "5%";
  std::string backup_staging_dir = "backup/staging";
  std::int64_t backup_interval_hours = 24;
  std::int64_t backup_verify_interval_hours = 168;
  std::int64_t backup_restore_test_interval_days = 30;
  std::string backup_retention;
  // notify.*: alerts and notices by e-mail and syslog (docs/notify.md). An empty smtp_host
  // turns e-mail off, an empty syslog turns syslog off.
  std::string notify_smtp_host;
  std::int64_t notify_smtp_port = 587;
  std::string notify_smtp_starttls = "required";
  std::string notify_smtp_ca_file;
  std::string notify_smtp_user;
  std::string notify_smtp_password_file;
  std::string notify_smtp_from;
  std::int64_t notify_smtp_timeout_seconds = 30;
  std::vector<std::string> notify_email_allowed;
  std::vector<std::string> notify_email_to;
  std::string notify_syslog;
  std::string notify_syslog_facility = "daemon";
  std::int64_t notify_retry_max_attempts = 10;
  std::int64_t notify_retry_base_seconds = 60;
  std::int64_t notify_retry_max_seconds = 3600;
  // Disaster-recovery exports (docs/resilience-export.md); the strategic PCs are in the store.
  std::string export_outbox_dir = "export/outbox";
  std::int64_t export_generations_kept = 7;
  std::int64_t export_max_age_hours = 26;
  std::vector<int> export_schedule_hours = {6, 18};
  std::string export_site;
  std::int64_t export_connect_timeout_seconds = 15;
  // remote.*: the remote-service broker in vigied (docs/remote.md).
  bool remote_broker_enabled = true;
  std::string remote_broker_listen = "127.0.0.1";
  std::int64_t remote_broker_port = 8444;
  std::vector<std::string> remote_broker_names = {"localhost", "127.0.0.1", "::1"};
  std::string remote_ca_dir = "remote/ca";
  std::string remote_broker_cert = "remote/broker.crt";
  std::string remote_broker_key = "remote/broker.key";
  std::int64_t remote_broker_cert_days = 365;
  std::int64_t remote_connector_cert_days = 90;
  std::int64_t remote_stream_window = 1048576;
  std::int64_t remote_max_streams = 256;
  std::int64_t remote_max_queue_bytes = 0;
  std::int64_t remote_idle_seconds = 30;
  std::int64_t remote_grant_check_seconds = 5;
  bool remote_engineer_bearer_tokens = false;
  std::int64_t remote_approval_seconds = 30;
  std::int64_t remote_session_password_seconds = 300;
  std::int64_t remote_session_max_minutes = 240;
  std::int64_t remote_session_idle_minutes = 15;
  std::int64_t remote_session_check_ms = 250;
  std::vector<std::string> remote_approvers_email;
  std::int64_t remote_login_hours = 8;
  std::int64_t remote_password_memory_kib = 65536;
  std::string remote_transfer_dir = "remote/transfers";
  std::int64_t remote_max_transfer_bytes = std::int64_t{64} << 20;
  std::string audit_checkpoint_file = "audit/checkpoints.jsonl";
  std::string audit_checkpoint_key = "audit/checkpoint.key";
  std::int64_t audit_checkpoint_minutes = 60;
  std::int64_t audit_retention_years = 6;
};

struct ConfigKey {
  std::string name;           // dotted: "server.port"
  std::string type;           // "string", "integer", "boolean", "array of strings"
  std::string default_value;  // as written in TOML
  std::string doc;
};

// Every key the configuration accepts, in documentation order.
const std::vector<ConfigKey>& config_keys();

// Reads `path`; a missing file yields the defaults.
Result<Config> load_config(const std::filesystem::path& path);
Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);

// The documented default configuration file that `vigie init` writes.
std::string default_config_text();

}  // namespace vigie::core
