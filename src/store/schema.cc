// The schema, written once for both back-ends. Portable subset: TEXT, BIGINT, INTEGER,
// DOUBLE PRECISION; `{pk}` is the integer primary key (SQLite's rowid alias, PostgreSQL's
// BIGINT PRIMARY KEY). Times are ISO 8601 UTC text, booleans 0/1. A migration is never edited
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

constexpr Migration kMigrations[] = {
    {1, "inventory: sites, zones, products, devices, interfaces, open ports, imports", kInventory},
    {2, "advisories, notices, findings and their history", kAdvisories},
    {3,
     "network policy: profiles, zone kinds and networks, site roles, firewall rules, "
     "conformance",
     kNetpolicy},
    {4, "audit log", kAudit},
    {7, "offline journal: uploaded entries, site tokens, conflicts, chain problems",
     kOfflineJournal},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace vigie::store
