// The schema, written once for both back-ends. Portable subset: TEXT, BIGINT, INTEGER,
// DOUBLE PRECISION; `{pk}` is the integer primary key (SQLite's rowid alias, PostgreSQL's
// BIGINT PRIMARY KEY); `{sqlite}...{/sqlite}` and `{postgres}...{/postgres}` hold what only one
// back-end runs (triggers). Times are ISO 8601 UTC text, booleans 0/1. A migration is never edited
// once released: add a new one. Enumerations are checked with OR chains rather than IN lists:
// SQLite builds a temporary b-tree for each IN list on every inserted row (3x slower imports).
#include "vigie/store/store.h"

namespace vigie::store {
namespace {

constexpr std::string_view kInventory = R"sql(
CREATE TABLE sites (
  id {pk},
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE zones (
  id {pk},
  site_id BIGINT NOT NULL REFERENCES sites(id),
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL,
  vlan INTEGER CHECK (vlan IS NULL OR vlan BETWEEN 1 AND 4094),
  trust TEXT NOT NULL DEFAULT 'unknown'
    CHECK (trust = 'high' OR trust = 'medium' OR trust = 'low' OR trust = 'untrusted'
           OR trust = 'unknown'),
  UNIQUE (site_id, name_norm)
);
-- A product is a normalised (vendor, product) pair: advisories are matched per product, and
-- devices keep the vendor's and product's spelling of their source beside it.
CREATE TABLE products (
  id {pk},
  vendor_norm TEXT NOT NULL,
  product_norm TEXT NOT NULL,
  UNIQUE (vendor_norm, product_norm)
);
CREATE TABLE devices (
  id {pk},
  vendor TEXT NOT NULL,
  product TEXT NOT NULL,
  product_id BIGINT NOT NULL REFERENCES products(id),
  part_number TEXT,
  serial_number TEXT,
  udi TEXT,
  software_version TEXT,
  hardware_revision TEXT,
  os TEXT,
  site_id BIGINT REFERENCES sites(id),
  zone_id BIGINT REFERENCES zones(id),
  location TEXT,
  owner TEXT,
  criticality TEXT NOT NULL DEFAULT 'other'
    CHECK (criticality = 'life-supporting' OR criticality = 'diagnostic' OR criticality = 'other'),
  status TEXT NOT NULL DEFAULT 'in-service'
    CHECK (status = 'in-service' OR status = 'standalone' OR status = 'disconnected'
           OR status = 'decommissioned' OR status = 'sold'),
  new_owner TEXT,
  remote_service INTEGER NOT NULL DEFAULT 0 CHECK (remote_service = 0 OR remote_service = 1),
  maintenance_contract TEXT,
  identified INTEGER NOT NULL DEFAULT 1 CHECK (identified = 0 OR identified = 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (status <> 'sold' OR new_owner IS NOT NULL)
);
CREATE UNIQUE INDEX devices_product_serial ON devices (product_id, serial_number);
CREATE INDEX devices_zone ON devices (zone_id);
CREATE TABLE interfaces (
  id {pk},
  -- Deferred: bulk imports insert devices and their interfaces in independent batches.
  device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE
    DEFERRABLE INITIALLY DEFERRED,
  ip TEXT,
  mac TEXT,
  hostname TEXT,
  vlan INTEGER CHECK (vlan IS NULL OR vlan BETWEEN 1 AND 4094)
);
CREATE INDEX interfaces_device ON interfaces (device_id);
CREATE INDEX interfaces_ip ON interfaces (ip);
CREATE TABLE open_ports (
  device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  protocol TEXT NOT NULL CHECK (protocol = 'tcp' OR protocol = 'udp' OR protocol = 'sctp'),
  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  state TEXT NOT NULL,
  service TEXT,
  service_product TEXT,
  seen_at TEXT NOT NULL,
  PRIMARY KEY (device_id, ip, protocol, port)
);
CREATE TABLE imports (
  id {pk},
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  imported_at TEXT NOT NULL
);
)sql";

// Advisories (CSAF documents as imported), the notices that brought them, and one finding per
// device an advisory names: the matcher's verdict and the hospital's workflow on it.
constexpr std::string_view kAdvisories = R"sql(
CREATE TABLE advisories (
  id {pk},
  publisher TEXT NOT NULL,
  publisher_namespace TEXT NOT NULL,
  tracking_id TEXT NOT NULL,
  version TEXT NOT NULL,
  title TEXT NOT NULL,
  current_release_date TEXT NOT NULL,
  max_score DOUBLE PRECISION,
  document TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  -- JSON array of the validation failures accepted with --force; NULL when valid.
  forced_failures TEXT,
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  UNIQUE (publisher_namespace, tracking_id)
);
CREATE TABLE notices (
  id {pk},
  advisory_id BIGINT REFERENCES advisories(id),
  reference TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  received_on TEXT NOT NULL,
  channel TEXT NOT NULL,
  forwarded_to TEXT,
  response_required INTEGER NOT NULL DEFAULT 0
    CHECK (response_required = 0 OR response_required = 1),
  response_due TEXT,
  ack_by TEXT,
  ack_on TEXT,
  ack_reference TEXT,
  document_name TEXT,
  document_path TEXT,
  document_sha256 TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  CHECK (response_required = 0 OR response_due IS NOT NULL)
);
CREATE TABLE findings (
  id {pk},
  device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  advisory_id BIGINT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
  verdict TEXT NOT NULL
    CHECK (verdict = 'affected' OR verdict = 'fixed' OR verdict = 'not_affected'
           OR verdict = 'under_investigation' OR verdict = 'unknown'),
  product_ref TEXT,
  reason TEXT NOT NULL,
  missing TEXT,
  actions TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status = 'open' OR status = 'in_progress' OR status = 'mitigated' OR status = 'fixed'
           OR status = 'risk_accepted' OR status = 'not_applicable'),
  status_note TEXT,
  status_by TEXT,
  accepted_until TEXT,
  due_on TEXT,
  opened_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  closed_at TEXT,
  UNIQUE (device_id, advisory_id)
);
CREATE INDEX findings_advisory ON findings (advisory_id);
CREATE TABLE finding_history (
  id {pk},
  finding_id BIGINT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  verdict TEXT NOT NULL,
  status TEXT NOT NULL,
  note TEXT
);
CREATE INDEX finding_history_finding ON finding_history (finding_id);
)sql";

// Network policy: device communication profiles and their intents, zone kinds and networks,
// the roles a site binds to addresses (DNS names keep every address they resolved to), the
// hospital's firewall rules, and the findings of conformance runs.
constexpr std::string_view kNetpolicy = R"sql(
CREATE TABLE profiles (
  id {pk},
  name TEXT NOT NULL UNIQUE,
  vendor TEXT NOT NULL,
  product TEXT NOT NULL,
  vendor_norm TEXT NOT NULL,
  product_norm TEXT NOT NULL,
  versions TEXT,
  source TEXT NOT NULL,
  mud_url TEXT,
  format TEXT NOT NULL CHECK (format = 'table' OR format = 'mud'),
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL
);
CREATE INDEX profiles_product ON profiles (vendor_norm, product_norm);
CREATE TABLE profile_intents (
  profile_id BIGINT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  direction TEXT NOT NULL CHECK (direction = 'to-device' OR direction = 'from-device'),
  peer_kind TEXT NOT NULL,
  peer TEXT NOT NULL,
  protocol TEXT NOT NULL
    CHECK (protocol = 'any' OR protocol = 'tcp' OR protocol = 'udp' OR protocol = 'icmp'),
  ports TEXT NOT NULL,
  source_ports TEXT NOT NULL,
  purpose TEXT NOT NULL,
  cleartext INTEGER NOT NULL CHECK (cleartext = 0 OR cleartext = 1),
  provenance_document TEXT NOT NULL,
  provenance_locator TEXT NOT NULL,
  provenance_quote TEXT NOT NULL,
  PRIMARY KEY (profile_id, position)
);
CREATE TABLE zone_policies (
  zone_id BIGINT PRIMARY KEY REFERENCES zones(id) ON DELETE CASCADE,
  kind TEXT NOT NULL
    CHECK (kind = 'medical' OR kind = 'clinical' OR kind = 'office' OR kind = 'servers'
           OR kind = 'dmz' OR kind = 'internet' OR kind = 'other')
);
CREATE TABLE zone_networks (
  zone_id BIGINT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  prefix TEXT NOT NULL,
  PRIMARY KEY (zone_id, prefix)
);
CREATE TABLE site_roles (
  id {pk},
  site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  address TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'prefix' OR kind = 'dns'),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE (site_id, role, address)
);
CREATE TABLE dns_addresses (
  site_role_id BIGINT NOT NULL REFERENCES site_roles(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (site_role_id, address)
);
CREATE TABLE firewall_rules (
  id {pk},
  ruleset TEXT NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  protocol TEXT NOT NULL
    CHECK (protocol = 'any' OR protocol = 'tcp' OR protocol = 'udp' OR protocol = 'icmp'),
  ports TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action = 'accept' OR action = 'drop' OR action = 'reject'),
  provenance_document TEXT NOT NULL,
  provenance_locator TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  UNIQUE (ruleset, position)
);
CREATE TABLE conformance_runs (
  id {pk},
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  records INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  actor TEXT NOT NULL
);
CREATE TABLE conformance_findings (
  id {pk},
  run_id BIGINT NOT NULL REFERENCES conformance_runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  device_id BIGINT REFERENCES devices(id) ON DELETE SET NULL,
  device_ip TEXT,
  peer_ip TEXT,
  protocol TEXT,
  port INTEGER,
  detail TEXT NOT NULL,
  first_seen TEXT,
  last_seen TEXT,
  count INTEGER NOT NULL
);
CREATE INDEX conformance_findings_run ON conformance_findings (run_id);
)sql";

// The audit log: append-only, each entry's hash covers the previous entry's hash, so that an
// edited, deleted or reordered entry breaks the chain (vigie audit verify).
constexpr std::string_view kAudit = R"sql(
CREATE TABLE audit_log (
  id {pk},
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  origin TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE
);
)sql";

// vigied's periodic jobs: when each last started and ended, and how (see src/scheduler).
constexpr std::string_view kScheduler = R"sql(
CREATE TABLE scheduled_jobs (
  name TEXT PRIMARY KEY,
  last_started_at TEXT NOT NULL,
  last_finished_at TEXT,
  last_status TEXT NOT NULL
    CHECK (last_status = 'running' OR last_status = 'ok' OR last_status = 'failed'),
  last_error TEXT,
  runs BIGINT NOT NULL DEFAULT 0,
  failures BIGINT NOT NULL DEFAULT 0
);
)sql";

// Backup tracking (resilience): the systems whose backups Vigie follows (inventory devices or
// named systems such as a PACS server, or Vigie itself), one policy each, the runs, the
// verifications and the restore tests people record or import, and a generic table of alerts
// (one open alert per kind and object). A run's `run_key` is its natural key (the snapshot id,
// else "@" and its start time), so that importing the same output twice stores it once.
constexpr std::string_view kBackupTracking = R"sql(
CREATE TABLE backup_systems (
  id {pk},
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL UNIQUE,
  device_id BIGINT UNIQUE REFERENCES devices(id) ON DELETE SET NULL,
  criticality TEXT
    CHECK (criticality IS NULL OR criticality = 'critical' OR criticality = 'important'
           OR criticality = 'standard'),
  description TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE backup_policies (
  system_id BIGINT PRIMARY KEY REFERENCES backup_systems(id) ON DELETE CASCADE,
  method TEXT NOT NULL
    CHECK (method = 'restic' OR method = 'borg' OR method = 'vendor-tool'
           OR method = 'vm-snapshot' OR method = 'tape' OR method = 'database-dump'
           OR method = 'replication' OR method = 'manual' OR method = 'other'
           OR method = 'none'),
  rpo_hours INTEGER CHECK (rpo_hours IS NULL OR rpo_hours BETWEEN 1 AND 87600),
  schedule TEXT,
  retention TEXT,
  targets TEXT NOT NULL,
  offsite INTEGER NOT NULL CHECK (offsite = 0 OR offsite = 1),
  immutable INTEGER NOT NULL CHECK (immutable = 0 OR immutable = 1),
  checked_by TEXT,
  restore_test_days INTEGER CHECK (restore_test_days IS NULL OR restore_test_days BETWEEN 0 AND 3650),
  notes TEXT,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  CHECK (method = 'none' OR rpo_hours IS NOT NULL)
);
CREATE TABLE backup_runs (
  id {pk},
  system_id BIGINT NOT NULL REFERENCES backup_systems(id) ON DELETE CASCADE,
  run_key TEXT NOT NULL,
  snapshot_id TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL CHECK (status = 'ok' OR status = 'warning' OR status = 'failed'),
  size_bytes BIGINT,
  added_bytes BIGINT,
  files BIGINT,
  duration_ms BIGINT,
  source TEXT NOT NULL,
  detail TEXT,
  recorded_at TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  UNIQUE (system_id, run_key)
);
CREATE INDEX backup_runs_system_started ON backup_runs (system_id, started_at);
CREATE TABLE backup_verifications (
  id {pk},
  system_id BIGINT NOT NULL REFERENCES backup_systems(id) ON DELETE CASCADE,
  verified_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status = 'ok' OR status = 'failed'),
  snapshot_id TEXT,
  scope TEXT,
  detail TEXT,
  source TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  UNIQUE (system_id, verified_at)
);
CREATE TABLE restore_tests (
  id {pk},
  system_id BIGINT NOT NULL REFERENCES backup_systems(id) ON DELETE CASCADE,
  tested_at TEXT NOT NULL,
  tested_by TEXT NOT NULL,
  scope TEXT NOT NULL,
  snapshot_id TEXT,
  restore_seconds BIGINT CHECK (restore_seconds IS NULL OR restore_seconds >= 0),
  result TEXT NOT NULL CHECK (result = 'ok' OR result = 'partial' OR result = 'failed'),
  detail TEXT,
  source TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  UNIQUE (system_id, tested_at)
);
CREATE TABLE alerts (
  id {pk},
  kind TEXT NOT NULL,
  object TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity = 'critical' OR severity = 'warning'),
  message TEXT NOT NULL,
  raised_at TEXT NOT NULL,
  cleared_at TEXT
);
CREATE UNIQUE INDEX alerts_open ON alerts (kind, object) WHERE cleared_at IS NULL;
)sql";

// The notification outbox: a notice is written in the transaction of what caused it, then
// delivered with retries (notify module). One row per destination (one e-mail recipient, or
// syslog), so that each is delivered once whatever happens to the others. next_attempt_at is
// also the lease of a delivery in progress: a deliverer that dies leaves the row due later.
constexpr std::string_view kNotifyOutbox = R"sql(
CREATE TABLE notify_outbox (
  id {pk},
  kind TEXT NOT NULL,
  severity TEXT NOT NULL
    CHECK (severity = 'critical' OR severity = 'error' OR severity = 'warning'
           OR severity = 'notice' OR severity = 'info'),
  object TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel = 'email' OR channel = 'syslog'),
  recipient TEXT NOT NULL,
  message_id TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed' OR state = 'refused'),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  delivered_at TEXT,
  last_error TEXT
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_at);
)sql";

// Disaster-recovery exports: the degraded-mode procedures and vendor contacts they carry, the
// strategic PCs they go to, each generation written and each push to each PC.
constexpr std::string_view kDrExport = R"sql(
CREATE TABLE dr_procedures (
  id {pk},
  name TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  applies_to TEXT,
  document_name TEXT NOT NULL,
  document_path TEXT NOT NULL,
  document_sha256 TEXT NOT NULL,
  document_size BIGINT NOT NULL,
  registered_at TEXT NOT NULL,
  registered_by TEXT NOT NULL
);
CREATE TABLE vendor_contacts (
  id {pk},
  vendor TEXT NOT NULL,
  vendor_norm TEXT NOT NULL,
  service TEXT NOT NULL,
  contact_name TEXT NOT NULL,
  phone TEXT,
  email TEXT,
  hours TEXT,
  contract TEXT,
  notes TEXT,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  UNIQUE (vendor_norm, service, contact_name),
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE TABLE dr_export_hosts (
  id {pk},
  name TEXT NOT NULL UNIQUE,
  ssh_user TEXT NOT NULL,
  ssh_host TEXT NOT NULL,
  ssh_port INTEGER NOT NULL CHECK (ssh_port BETWEEN 1 AND 65535),
  ssh_host_key TEXT NOT NULL,
  remote_dir TEXT NOT NULL,
  box_public_key TEXT NOT NULL,
  key_id TEXT NOT NULL,
  added_at TEXT NOT NULL,
  added_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE dr_export_runs (
  id {pk},
  generation TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  archive_name TEXT NOT NULL,
  archive_sha256 TEXT NOT NULL,
  archive_size BIGINT NOT NULL,
  devices INTEGER NOT NULL,
  findings INTEGER NOT NULL,
  procedures INTEGER NOT NULL,
  contacts INTEGER NOT NULL,
  recipients INTEGER NOT NULL,
  actor TEXT NOT NULL
);
CREATE TABLE dr_export_pushes (
  id {pk},
  host_id BIGINT NOT NULL REFERENCES dr_export_hosts(id) ON DELETE CASCADE,
  run_id BIGINT NOT NULL REFERENCES dr_export_runs(id) ON DELETE CASCADE,
  attempted_at TEXT NOT NULL,
  outcome TEXT NOT NULL
    CHECK (outcome = 'ok' OR outcome = 'unreachable' OR outcome = 'unverifiable'
           OR outcome = 'failed'),
  detail TEXT,
  generations_kept INTEGER
);
CREATE INDEX dr_export_pushes_host ON dr_export_pushes (host_id, attempted_at);
)sql";

// Offline journal (migration 7): the entries the standalone PCs upload, keyed by (site, seq)
// and chain-checked; each site's sync token (a hash) and verified head; the conflicts an
// offline edit raised (both values kept until a person decides) and the problems found in a
// site's chain (gaps, breaks, forgeries), which become alerts.
constexpr std::string_view kOfflineJournal = R"sql(
CREATE TABLE sync_sites (
  site TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL,
  inventory_site TEXT,
  head_seq BIGINT NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  last_sync_at TEXT
);
CREATE TABLE sync_entries (
  site TEXT NOT NULL,
  seq BIGINT NOT NULL CHECK (seq >= 1),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  object TEXT NOT NULL,
  payload TEXT NOT NULL,
  base_version TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  received_at TEXT NOT NULL,
  outcome TEXT NOT NULL
    CHECK (outcome = 'applied' OR outcome = 'unchanged' OR outcome = 'conflict'
           OR outcome = 'recorded' OR outcome = 'rejected'),
  outcome_detail TEXT,
  PRIMARY KEY (site, seq)
);
CREATE TABLE sync_conflicts (
  id {pk},
  site TEXT NOT NULL,
  seq BIGINT NOT NULL,
  object TEXT NOT NULL,
  field TEXT NOT NULL,
  base_value TEXT,
  offline_value TEXT,
  central_value TEXT,
  base_version TEXT NOT NULL,
  central_version TEXT,
  offline_actor TEXT NOT NULL,
  offline_at TEXT NOT NULL,
  raised_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'resolved'),
  resolution TEXT CHECK (resolution IS NULL OR resolution = 'central' OR resolution = 'offline'
                         OR resolution = 'value'),
  resolved_value TEXT,
  resolved_by TEXT,
  resolved_at TEXT,
  UNIQUE (site, seq)
);
CREATE INDEX sync_conflicts_status ON sync_conflicts (status);
CREATE TABLE sync_problems (
  id {pk},
  site TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL
    CHECK (kind = 'gap' OR kind = 'broken-chain' OR kind = 'forgery' OR kind = 'bad-hash'
           OR kind = 'rejected'),
  detail TEXT NOT NULL,
  detected_at TEXT NOT NULL
);
CREATE INDEX sync_problems_site ON sync_problems (site, seq);
)sql";

// Whether the raising and the clearing of each alert were passed on to the notification outbox
// (vigied's alert digest). Alerts that existed before count as told: no flood at upgrade.
constexpr std::string_view kAlertNotices = R"sql(
ALTER TABLE alerts ADD COLUMN raise_told_at TEXT;
ALTER TABLE alerts ADD COLUMN clear_told_at TEXT;
UPDATE alerts SET raise_told_at = raised_at, clear_told_at = cleared_at;
CREATE INDEX alerts_untold ON alerts (id)
  WHERE raise_told_at IS NULL OR (cleared_at IS NOT NULL AND clear_told_at IS NULL);
)sql";

// Remote-service gateway (docs/remote.md): connectors and their certificates, engineers'
// stand-in credentials, grants. Secrets are kept as SHA-256 hex only.
constexpr std::string_view kRemoteGateway = R"sql(
CREATE TABLE remote_connectors (
  id {pk},
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL UNIQUE,
  zone_id BIGINT NOT NULL REFERENCES zones(id),
  token_sha256 TEXT UNIQUE,
  token_expires_at TEXT,
  enrolled_at TEXT,
  revoked_at TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE remote_connector_certs (
  serial TEXT PRIMARY KEY,
  connector_id BIGINT NOT NULL REFERENCES remote_connectors(id),
  fingerprint TEXT NOT NULL,
  not_after TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX remote_connector_certs_connector ON remote_connector_certs (connector_id);
CREATE TABLE remote_engineers (
  id {pk},
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL UNIQUE,
  organisation TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);
CREATE TABLE remote_grants (
  id {pk},
  engineer_id BIGINT NOT NULL REFERENCES remote_engineers(id),
  device_id BIGINT NOT NULL REFERENCES devices(id),
  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE INDEX remote_grants_engineer ON remote_grants (engineer_id);
CREATE INDEX remote_grants_device ON remote_grants (device_id);
)sql";

// Remote-service access control (docs/remote.md): vendors, engineers' passwords (argon2id) and
// second factors (TOTP secret, or a certificate), login tokens, authorisations per device or
// zone and operation, each device's access level, sessions with their approval and one-time
// password, file transfers, and a change counter the broker polls to end streams at once.
// The audit log becomes append-only in the store itself, and loses the unique index on its
// hashes: random keys made every group commit rewrite hundreds of index pages, and the chain
// (each hash covers the previous one) already makes a duplicate impossible to hide.
constexpr std::string_view kRemoteAccess = R"sql(
CREATE TABLE remote_vendors (
  id {pk},
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
ALTER TABLE remote_engineers ADD COLUMN vendor_id BIGINT REFERENCES remote_vendors(id);
ALTER TABLE remote_engineers ADD COLUMN password_hash TEXT;
ALTER TABLE remote_engineers ADD COLUMN totp_secret TEXT;
ALTER TABLE remote_engineers ADD COLUMN totp_last_step BIGINT;
ALTER TABLE remote_engineers ADD COLUMN cert_serial TEXT;
ALTER TABLE remote_engineers ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE remote_engineers ADD COLUMN locked_until TEXT;
CREATE TABLE remote_logins (
  token_sha256 TEXT PRIMARY KEY,
  engineer_id BIGINT NOT NULL REFERENCES remote_engineers(id),
  origin TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_at TEXT
);
CREATE INDEX remote_logins_engineer ON remote_logins (engineer_id);
CREATE TABLE remote_authorisations (
  id {pk},
  engineer_id BIGINT NOT NULL REFERENCES remote_engineers(id),
  device_id BIGINT REFERENCES devices(id),
  zone_id BIGINT REFERENCES zones(id),
  operations TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  CHECK ((device_id IS NULL) <> (zone_id IS NULL))
);
CREATE INDEX remote_authorisations_engineer ON remote_authorisations (engineer_id);
CREATE TABLE remote_device_access (
  device_id BIGINT PRIMARY KEY REFERENCES devices(id),
  level TEXT NOT NULL
    CHECK (level = 'none' OR level = 'limited' OR level = 'permanent-limited' OR level = 'full'),
  window_from TEXT,
  window_to TEXT,
  ports TEXT NOT NULL,
  operations TEXT NOT NULL,
  limited_operations TEXT NOT NULL,
  owner_email TEXT,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE remote_sessions (
  id {pk},
  engineer_id BIGINT NOT NULL REFERENCES remote_engineers(id),
  device_id BIGINT NOT NULL REFERENCES devices(id),
  reason TEXT NOT NULL,
  ticket TEXT,
  ports TEXT NOT NULL,
  operations TEXT NOT NULL,
  level TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'requested' OR state = 'approved' OR state = 'active' OR state = 'ended'
           OR state = 'refused' OR state = 'expired'),
  origin TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  request_expires_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  note TEXT,
  password_sha256 TEXT,
  password_expires_at TEXT,
  password_failures INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  ends_at TEXT,
  last_activity_at TEXT,
  ended_at TEXT,
  ended_by TEXT,
  end_reason TEXT,
  bytes_to_device BIGINT NOT NULL DEFAULT 0,
  bytes_from_device BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX remote_sessions_state ON remote_sessions (state);
CREATE INDEX remote_sessions_device ON remote_sessions (device_id);
ALTER TABLE remote_grants ADD COLUMN session_id BIGINT REFERENCES remote_sessions(id);
CREATE TABLE remote_transfers (
  id {pk},
  session_id BIGINT REFERENCES remote_sessions(id),
  device_id BIGINT NOT NULL REFERENCES devices(id),
  direction TEXT NOT NULL CHECK (direction = 'get' OR direction = 'put'),
  name TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome = 'done' OR outcome = 'refused'),
  reason TEXT,
  at TEXT NOT NULL
);
CREATE TABLE remote_epoch (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value BIGINT NOT NULL
);
INSERT INTO remote_epoch (id, value) VALUES (1, 0);
{sqlite}
CREATE TABLE audit_log_rebuilt (
  id {pk},
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  origin TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_log_rebuilt SELECT id, at, actor, action, object, origin, details, prev_hash,
  hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_rebuilt RENAME TO audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
{/sqlite}
{postgres}
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
{/postgres}
)sql";

constexpr Migration kMigrations[] = {
    {1, "inventory: sites, zones, products, devices, interfaces, open ports, imports", kInventory},
    {2, "advisories, notices, findings and their history", kAdvisories},
    {3,
     "network policy: profiles, zone kinds and networks, site roles, firewall rules, "
     "conformance",
     kNetpolicy},
    {4, "audit log", kAudit},
    {5, "backup tracking: systems, policies, runs, verifications, restore tests, alerts",
     kBackupTracking},
    {6, "disaster-recovery exports", kDrExport},
    {7, "offline journal: uploaded entries, site tokens, conflicts, chain problems",
     kOfflineJournal},
    {8, "notification outbox", kNotifyOutbox},
    {9, "scheduled jobs of vigied", kScheduler},
    {10, "alerts told to the notification outbox", kAlertNotices},
    {11, "remote-service gateway: connectors, their certificates, engineers, grants",
     kRemoteGateway},
    {12,
     "remote-service access control: vendors, second factors, authorisations, access levels, "
     "sessions, transfers; the audit log append-only",
     kRemoteAccess},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace vigie::store
