// What the broker knows about who may tunnel where, kept in the store: connectors (their
// one-time enrollment tokens, their certificates' serials, revocations), engineers (until the
// access-control issue: a bearer credential for tests and pilots) and grants (engineer, device,
// port, expiry). Every change is audited in the transaction that makes it; secrets are kept as
// SHA-256 only and never audited.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/remote/pki.h"
#include "vigie/store/store.h"

namespace vigie::remote {

struct Actor {
  std::string name;    // who
  std::string origin;  // "cli", an address
  std::string at;      // ISO 8601 UTC
};

constexpr std::int64_t kEnrollmentTokenSeconds = 3600;

struct NewConnector {
  std::int64_t id = 0;
  std::string token;       // shown once; only its hash is kept
  std::string expires_at;  // the token's
};

// A connector named `name` serving zone `zone` ("ZONE" when one site has it, or "SITE/ZONE").
Result<NewConnector> add_connector(store::Store& store, std::string_view name,
                                   std::string_view zone, const Actor& actor);

// A new one-time token for a connector not yet enrolled or revoked (the first one expired).
Result<NewConnector> renew_enrollment_token(store::Store& store, std::string_view name,
                                            const Actor& actor);

struct ConnectorIdentity {
  std::int64_t id = 0;
  std::string name;
  std::int64_t zone_id = 0;
};

// The connector a valid, unused, unexpired token enrolls (nothing consumed): its name goes in
// the certificate signed before redeem_enrollment() records it.
Result<ConnectorIdentity> peek_enrollment(store::Store& store, std::string_view token,
                                          std::string_view now);

// Enrollment: the token must be valid, unused and unexpired; it is consumed, and the
// certificate issued for it recorded, in one transaction. kNotFound says nothing more than
// "invalid or expired" (no oracle for guessing).
Result<ConnectorIdentity> redeem_enrollment(store::Store& store, std::string_view token,
                                            const CertInfo& cert, const Actor& actor);

// A rotated certificate for an enrolled connector (the old one stays valid to its expiry).
Status record_rotation(store::Store& store, std::int64_t connector_id, const CertInfo& cert,
                       const Actor& actor);

// The connector a presented client certificate belongs to: its serial must be recorded, the
// certificate and connector unrevoked. kNotFound otherwise.
Result<ConnectorIdentity> connector_for_serial(store::Store& store, std::string_view serial);

// The serials of every revoked certificate, or certificate of a revoked connector (the
// broker's periodic check of the connectors it serves, in one query).
Result<std::vector<std::string>> revoked_serials(store::Store& store);

// Revokes the connector and every certificate it holds.
Status revoke_connector(store::Store& store, std::string_view name, const Actor& actor);

struct ConnectorRow {
  std::int64_t id = 0;
  std::string name;
  std::string zone;   // "SITE/ZONE"
  std::string state;  // "awaiting-enrollment", "token-expired", "enrolled", "revoked"
  std::string enrolled_at;
  std::string cert_not_after;  // of its newest certificate
};
Result<std::vector<ConnectorRow>> list_connectors(store::Store& store, std::string_view now);

struct Engineer {
  std::int64_t id = 0;
  std::string name;
  std::string organisation;
};

// An engineer with a static bearer credential (printed once), for tests and pilots: the broker
// accepts it only when remote.engineer_bearer_tokens is on. Real engineers log in with two
// factors (access.h).
Result<std::pair<Engineer, std::string>> add_engineer(store::Store& store, std::string_view name,
                                                      std::string_view organisation,
                                                      const Actor& actor);
Result<Engineer> engineer_for_token(store::Store& store, std::string_view token);

struct Grant {
  std::int64_t id = 0;
  std::int64_t engineer_id = 0;
  std::string engineer;
  std::int64_t device_id = 0;
  std::string device;  // "vendor product serial" for people
  std::int64_t zone_id = 0;
  std::string host;  // the device's address the connector dials
  int port = 0;
  std::string expires_at;       // "" = until revoked
  std::int64_t session_id = 0;  // the session that opened it (0: granted by hand)
};

// Grants `engineer` the device's `port` until `expires_at` ("" = until revoked). The device
// must be in the inventory, in service (or standalone), in a zone, with an address.
Result<Grant> add_grant(store::Store& store, std::string_view engineer, std::int64_t device_id,
                        int port, std::string_view expires_at, const Actor& actor);
Status revoke_grant(store::Store& store, std::int64_t grant_id, const Actor& actor);

// Live grants (unrevoked, unexpired at `now`): all of them, an engineer's, a zone's devices'.
Result<std::vector<Grant>> live_grants(store::Store& store, std::string_view now);
Result<std::vector<Grant>> grants_of_engineer(store::Store& store, std::int64_t engineer_id,
                                              std::string_view now);
Result<std::vector<Grant>> grants_of_zone(store::Store& store, std::int64_t zone_id,
                                          std::string_view now);

// The live grant letting `engineer_id` reach `port` of the device `device_ref` (its id).
// kNotFound when none: the broker answers CloseCode::kNotGranted.
Result<Grant> find_grant(store::Store& store, std::int64_t engineer_id, std::string_view device_ref,
                         int port, std::string_view now);

// Appends an audit entry in its own transaction (tunnel events: connections, streams).
Status audit_event(store::Store& store, const Actor& actor, std::string_view action,
                   std::string_view object, std::string_view details_json);

// Appends many events in one transaction: the broker writes what arrived together at once
// (a thousand connectors reconnecting cost a few commits, not a thousand).
struct AuditRecord {
  Actor actor;
  std::string action;
  std::string object;
  std::string details;  // JSON object
};
Status audit_events(store::Store& store, std::span<const AuditRecord> records);

}  // namespace vigie::remote
