#include "vigie/remote/registry.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "registry_internal.h"
#include "vigie/audit/audit.h"
#include "vigie/core/ids.h"
#include "vigie/core/time.h"
#include "vigie/inventory/normalize.h"

namespace vigie::remote {
namespace detail {

using core::ErrorCode;
using core::fail;
using store::Row;
using store::Value;

Status audit_in(store::Store& store, const Actor& actor, std::string_view action,
                std::string_view object, const nlohmann::json& details) {
  auto id = audit::append(
      store, {actor.name, std::string(action), std::string(object), actor.origin, details.dump()},
      actor.at);
  if (!id) return tl::unexpected(id.error());
  return {};
}

std::string later(std::string_view at, std::int64_t seconds) {
  auto t = core::parse_utc(at);
  return core::format_utc((t ? *t : core::utc_now()) + std::chrono::seconds(seconds));
}

// "ZONE" or "SITE/ZONE" to the zone's id; an ambiguous bare name is refused, naming the sites.
Result<std::int64_t> resolve_zone(store::Store& store, std::string_view ref) {
  auto slash = ref.find('/');
  std::string zone =
      inventory::normalize_words(slash == std::string_view::npos ? ref : ref.substr(slash + 1));
  std::vector<Value> params = {zone};
  std::string sql =
      "SELECT z.id, s.name FROM zones z JOIN sites s ON s.id = z.site_id WHERE z.name_norm = ?";
  if (slash != std::string_view::npos) {
    sql += " AND s.name_norm = ?";
    params.emplace_back(inventory::normalize_words(ref.substr(0, slash)));
  }
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) {
    return fail(ErrorCode::kNotFound, fmt::format("no zone '{}' in the inventory", ref), "--zone");
  }
  if (rows->size() > 1) {
    std::string sites;
    for (const Row& r : *rows) sites += (sites.empty() ? "" : ", ") + r.text(1);
    return fail(ErrorCode::kInvalidInput,
                fmt::format("zone '{}' exists in several sites ({}): write SITE/ZONE", ref, sites),
                "--zone");
  }
  return (*rows)[0].integer(0);
}

Result<std::int64_t> insert_with_id(store::Store& store, std::string_view table,
                                    std::string_view sql, std::vector<Value> row) {
  VIGIE_TRY(store.lock_table(table));
  auto id = store.next_id(table);
  if (!id) return tl::unexpected(id.error());
  row.insert(row.begin(), *id);
  VIGIE_TRY(store.execute(sql, row));
  return *id;
}

Result<std::optional<Row>> one_row(store::Store& store, std::string_view sql,
                                   std::vector<Value> params) {
  auto rows = store.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<Row>{};
  return std::optional<Row>(std::move((*rows)[0]));
}

std::string seconds_text(core::TimePoint t) {
  return core::format_utc(std::chrono::floor<std::chrono::seconds>(t));
}

Status bump_epoch(store::Store& store) {
  return store.execute("UPDATE remote_epoch SET value = value + 1 WHERE id = 1");
}

}  // namespace detail

namespace {

using core::ErrorCode;
using core::fail;
using store::Row;
using store::Value;
using namespace detail;  // NOLINT(google-build-using-namespace): the module's own helpers

constexpr std::string_view kGrantSelect =
    "SELECT g.id, g.engineer_id, e.name, d.id, d.vendor || ' ' || d.product || ' ' || "
    "COALESCE(d.serial_number, ''), d.zone_id, "
    "(SELECT COALESCE(i.ip, i.hostname) FROM interfaces i WHERE i.device_id = d.id AND "
    "COALESCE(i.ip, i.hostname) IS NOT NULL ORDER BY i.id LIMIT 1), g.port, "
    "COALESCE(g.expires_at, ''), COALESCE(g.session_id, 0) FROM remote_grants g JOIN "
    "remote_engineers e ON e.id = "
    "g.engineer_id JOIN devices d ON d.id = g.device_id WHERE g.revoked_at IS NULL AND "
    "(g.expires_at IS NULL OR g.expires_at > ?) AND e.disabled_at IS NULL AND d.zone_id IS NOT "
    "NULL AND (d.status = 'in-service' OR d.status = 'standalone')";

Grant grant_of(const Row& r) {
  return Grant{r.integer(0), r.integer(1), r.text(2), r.integer(3),
               r.text(4),    r.integer(5), r.text(6), static_cast<int>(r.integer(7)),
               r.text(8),    r.integer(9)};
}

Result<std::vector<Grant>> grants_where(store::Store& store, std::string_view condition,
                                        std::vector<Value> params) {
  auto rows = store.query(fmt::format("{} AND {} ORDER BY g.id", kGrantSelect, condition), params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Grant> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    if (!r.is_null(6)) out.push_back(grant_of(r));  // a device without address is unreachable
  }
  return out;
}

}  // namespace

Result<NewConnector> add_connector(store::Store& store, std::string_view name,
                                   std::string_view zone, const Actor& actor) {
  std::string norm = inventory::normalize_words(name);
  if (norm.empty() || name.size() > 64) {
    return fail(ErrorCode::kInvalidInput, "a connector's name has 1 to 64 characters", "NAME");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto zone_id = resolve_zone(store, zone);
  if (!zone_id) return tl::unexpected(zone_id.error());
  auto taken = store.query_int("SELECT COUNT(*) FROM remote_connectors WHERE name_norm = ?",
                               std::vector<Value>{norm});
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("a connector '{}' exists already", name), "NAME");
  }
  NewConnector out;
  out.token = core::random_hex(32);
  out.expires_at = later(actor.at, kEnrollmentTokenSeconds);
  auto id = insert_with_id(
      store, "remote_connectors",
      "INSERT INTO remote_connectors (id, name, name_norm, zone_id, "
      "token_sha256, token_expires_at, created_at) VALUES (?,?,?,?,?,?,?)",
      {std::string(name), norm, *zone_id, core::sha256_hex(out.token), out.expires_at, actor.at});
  if (!id) return tl::unexpected(id.error());
  out.id = *id;
  VIGIE_TRY(audit_in(store, actor, "remote.connector.add", fmt::format("connector:{}", out.id),
                     {{"name", name}, {"zone", zone}, {"token_expires_at", out.expires_at}}));
  VIGIE_TRY(tx->commit());
  return out;
}

Result<NewConnector> renew_enrollment_token(store::Store& store, std::string_view name,
                                            const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto row = one_row(
      store, "SELECT id, enrolled_at, revoked_at FROM remote_connectors WHERE name_norm = ?",
      {inventory::normalize_words(name)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, fmt::format("no connector '{}'", name), "NAME");
  if (!(*row)->is_null(1) || !(*row)->is_null(2)) {
    return fail(ErrorCode::kConflict,
                fmt::format("connector '{}' is enrolled or revoked: add a new one", name), "NAME");
  }
  NewConnector out{(*row)->integer(0), core::random_hex(32),
                   later(actor.at, kEnrollmentTokenSeconds)};
  VIGIE_TRY(store.execute(
      "UPDATE remote_connectors SET token_sha256 = ?, token_expires_at = ? WHERE id = ?",
      std::vector<Value>{core::sha256_hex(out.token), out.expires_at, out.id}));
  VIGIE_TRY(audit_in(store, actor, "remote.connector.token", fmt::format("connector:{}", out.id),
                     {{"token_expires_at", out.expires_at}}));
  VIGIE_TRY(tx->commit());
  return out;
}

Result<ConnectorIdentity> peek_enrollment(store::Store& store, std::string_view token,
                                          std::string_view now) {
  auto row = one_row(store,
                     "SELECT id, name, zone_id FROM remote_connectors WHERE token_sha256 = ? AND "
                     "token_expires_at > ? AND enrolled_at IS NULL AND revoked_at IS NULL",
                     {core::sha256_hex(token), std::string(now)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, "the enrollment token is invalid, used or expired");
  return ConnectorIdentity{(*row)->integer(0), (*row)->text(1), (*row)->integer(2)};
}

Result<ConnectorIdentity> redeem_enrollment(store::Store& store, std::string_view token,
                                            const CertInfo& cert, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  // Checked again inside the transaction: two enrollments racing on one token, one wins.
  auto found = peek_enrollment(store, token, actor.at);
  if (!found) {
    if (found.error().code != ErrorCode::kNotFound) return tl::unexpected(found.error());
    // Audited without the token: repeated failures show an attempt to guess.
    VIGIE_TRY(audit_in(store, actor, "remote.connector.enroll_refused", "connector:?", {}));
    VIGIE_TRY(tx->commit());
    return tl::unexpected(found.error());
  }
  const ConnectorIdentity& who = *found;
  VIGIE_TRY(store.execute(
      "UPDATE remote_connectors SET token_sha256 = NULL, token_expires_at = NULL, enrolled_at = ? "
      "WHERE id = ?",
      std::vector<Value>{actor.at, who.id}));
  VIGIE_TRY(store.execute(
      "INSERT INTO remote_connector_certs (serial, connector_id, fingerprint, not_after, "
      "issued_at) VALUES (?,?,?,?,?)",
      std::vector<Value>{cert.serial, who.id, cert.fingerprint, cert.not_after, actor.at}));
  VIGIE_TRY(audit_in(store, actor, "remote.connector.enroll", fmt::format("connector:{}", who.id),
                     {{"name", who.name}, {"serial", cert.serial}, {"not_after", cert.not_after}}));
  VIGIE_TRY(tx->commit());
  return who;
}

Status record_rotation(store::Store& store, std::int64_t connector_id, const CertInfo& cert,
                       const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(store.execute(
      "INSERT INTO remote_connector_certs (serial, connector_id, fingerprint, not_after, "
      "issued_at) VALUES (?,?,?,?,?)",
      std::vector<Value>{cert.serial, connector_id, cert.fingerprint, cert.not_after, actor.at}));
  VIGIE_TRY(audit_in(store, actor, "remote.connector.rotate",
                     fmt::format("connector:{}", connector_id),
                     {{"serial", cert.serial}, {"not_after", cert.not_after}}));
  return tx->commit();
}

Result<ConnectorIdentity> connector_for_serial(store::Store& store, std::string_view serial) {
  auto row = one_row(store,
                     "SELECT c.id, c.name, c.zone_id FROM remote_connector_certs k JOIN "
                     "remote_connectors c ON c.id = k.connector_id WHERE k.serial = ? AND "
                     "k.revoked_at IS NULL AND c.revoked_at IS NULL",
                     {std::string(serial)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, "unknown or revoked connector certificate");
  return ConnectorIdentity{(*row)->integer(0), (*row)->text(1), (*row)->integer(2)};
}

Result<std::vector<std::string>> revoked_serials(store::Store& store) {
  auto rows = store.query(
      "SELECT k.serial FROM remote_connector_certs k JOIN remote_connectors c ON c.id = "
      "k.connector_id WHERE k.revoked_at IS NOT NULL OR c.revoked_at IS NOT NULL");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(r.text(0));
  return out;
}

Status revoke_connector(store::Store& store, std::string_view name, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto row = one_row(store, "SELECT id FROM remote_connectors WHERE name_norm = ?",
                     {inventory::normalize_words(name)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, fmt::format("no connector '{}'", name), "NAME");
  std::int64_t id = (*row)->integer(0);
  VIGIE_TRY(store.execute(
      "UPDATE remote_connectors SET revoked_at = COALESCE(revoked_at, ?), token_sha256 = NULL "
      "WHERE id = ?",
      std::vector<Value>{actor.at, id}));
  VIGIE_TRY(store.execute(
      "UPDATE remote_connector_certs SET revoked_at = ? WHERE connector_id = ? AND revoked_at IS "
      "NULL",
      std::vector<Value>{actor.at, id}));
  VIGIE_TRY(audit_in(store, actor, "remote.connector.revoke", fmt::format("connector:{}", id),
                     {{"name", name}}));
  return tx->commit();
}

Result<std::vector<ConnectorRow>> list_connectors(store::Store& store, std::string_view now) {
  auto rows = store.query(
      "SELECT c.id, c.name, s.name || '/' || z.name, c.enrolled_at, c.revoked_at, "
      "c.token_expires_at, (SELECT MAX(k.not_after) FROM remote_connector_certs k WHERE "
      "k.connector_id = c.id AND k.revoked_at IS NULL) FROM remote_connectors c JOIN zones z ON "
      "z.id = c.zone_id JOIN sites s ON s.id = z.site_id ORDER BY c.name_norm");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<ConnectorRow> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) {
    std::string state = !r.is_null(4)     ? "revoked"
                        : !r.is_null(3)   ? "enrolled"
                        : r.text(5) > now ? "awaiting-enrollment"
                                          : "token-expired";
    out.push_back({r.integer(0), r.text(1), r.text(2), state, r.text(3), r.text(6)});
  }
  return out;
}

Result<std::pair<Engineer, std::string>> add_engineer(store::Store& store, std::string_view name,
                                                      std::string_view organisation,
                                                      const Actor& actor) {
  std::string norm = inventory::normalize_words(name);
  if (norm.empty() || name.size() > 128 || organisation.empty()) {
    return fail(ErrorCode::kInvalidInput, "an engineer needs a name and an organisation", "NAME");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto taken = store.query_int("SELECT COUNT(*) FROM remote_engineers WHERE name_norm = ?",
                               std::vector<Value>{norm});
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("an engineer '{}' exists already", name), "NAME");
  }
  std::string token = core::random_hex(32);
  auto id = insert_with_id(
      store, "remote_engineers",
      "INSERT INTO remote_engineers (id, name, name_norm, organisation, "
      "token_sha256, created_at) VALUES (?,?,?,?,?,?)",
      {std::string(name), norm, std::string(organisation), core::sha256_hex(token), actor.at});
  if (!id) return tl::unexpected(id.error());
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.add", fmt::format("engineer:{}", *id),
                     {{"name", name}, {"organisation", organisation}}));
  VIGIE_TRY(tx->commit());
  return std::pair{Engineer{*id, std::string(name), std::string(organisation)}, token};
}

Result<Engineer> engineer_for_token(store::Store& store, std::string_view token) {
  auto row = one_row(store,
                     "SELECT id, name, organisation FROM remote_engineers WHERE token_sha256 = ? "
                     "AND disabled_at IS NULL",
                     {core::sha256_hex(token)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, "unknown engineer credential");
  return Engineer{(*row)->integer(0), (*row)->text(1), (*row)->text(2)};
}

Result<Grant> add_grant(store::Store& store, std::string_view engineer, std::int64_t device_id,
                        int port, std::string_view expires_at, const Actor& actor) {
  if (port < 1 || port > 65535) {
    return fail(ErrorCode::kInvalidInput, fmt::format("port {} is not 1 to 65535", port), "--port");
  }
  // Stored as Vigie writes times (UTC, "Z"), so that text order is time order in SQL.
  std::string until;
  if (!expires_at.empty()) {
    auto t = core::parse_utc(expires_at);
    if (!t) return fail(ErrorCode::kInvalidInput, "not an ISO 8601 time", "--until");
    until = core::format_utc(*t);
    auto now = core::parse_utc(actor.at);
    if (!now || *t <= *now) {
      return fail(ErrorCode::kInvalidInput, "the grant would expire before it starts", "--until");
    }
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = one_row(store, "SELECT id, disabled_at FROM remote_engineers WHERE name_norm = ?",
                     {inventory::normalize_words(engineer)});
  if (!who) return tl::unexpected(who.error());
  if (!*who) {
    return fail(ErrorCode::kNotFound, fmt::format("no engineer '{}'", engineer), "--engineer");
  }
  if (!(*who)->is_null(1)) {
    return fail(ErrorCode::kInvalidInput, fmt::format("engineer '{}' is disabled", engineer),
                "--engineer");
  }
  auto device = one_row(store,
                        "SELECT d.status, d.zone_id, (SELECT COUNT(*) FROM interfaces i WHERE "
                        "i.device_id = d.id AND COALESCE(i.ip, i.hostname) IS NOT NULL) FROM "
                        "devices d WHERE d.id = ?",
                        {device_id});
  if (!device) return tl::unexpected(device.error());
  if (!*device) {
    return fail(ErrorCode::kNotFound, fmt::format("no device {} in the inventory", device_id),
                "--device");
  }
  std::string status = (*device)->text(0);
  std::string_view why = (status != "in-service" && status != "standalone") ? "is not in service"
                         : (*device)->is_null(1)                            ? "has no zone"
                         : (*device)->integer(2) == 0                       ? "has no address"
                                                                            : "";
  if (!why.empty()) {
    return fail(ErrorCode::kInvalidInput, fmt::format("device {} {}", device_id, why), "--device");
  }
  std::int64_t engineer_id = (*who)->integer(0);
  auto id = insert_with_id(store, "remote_grants",
                           "INSERT INTO remote_grants (id, engineer_id, device_id, port, "
                           "created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
                           {engineer_id, device_id, std::int64_t{port}, actor.name, actor.at,
                            until.empty() ? Value(nullptr) : Value(until)});
  if (!id) return tl::unexpected(id.error());
  VIGIE_TRY(audit_in(
      store, actor, "remote.grant.add", fmt::format("grant:{}", *id),
      {{"engineer", engineer}, {"device", device_id}, {"port", port}, {"expires_at", expires_at}}));
  auto made = grants_where(store, "g.id = ?", {actor.at, *id});
  if (!made) return tl::unexpected(made.error());
  VIGIE_TRY(tx->commit());
  if (made->empty()) return fail(ErrorCode::kInternal, "the new grant cannot be read back");
  return made->front();
}

Status revoke_grant(store::Store& store, std::int64_t grant_id, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto n = store.query_int("SELECT COUNT(*) FROM remote_grants WHERE id = ? AND revoked_at IS NULL",
                           std::vector<Value>{grant_id});
  if (!n) return tl::unexpected(n.error());
  if (*n == 0) return fail(ErrorCode::kNotFound, fmt::format("no live grant {}", grant_id), "ID");
  VIGIE_TRY(store.execute("UPDATE remote_grants SET revoked_at = ? WHERE id = ?",
                          std::vector<Value>{actor.at, grant_id}));
  VIGIE_TRY(audit_in(store, actor, "remote.grant.revoke", fmt::format("grant:{}", grant_id), {}));
  VIGIE_TRY(bump_epoch(store));
  return tx->commit();
}

Result<std::vector<Grant>> live_grants(store::Store& store, std::string_view now) {
  return grants_where(store, "1 = 1", {std::string(now)});
}

Result<std::vector<Grant>> grants_of_engineer(store::Store& store, std::int64_t engineer_id,
                                              std::string_view now) {
  return grants_where(store, "g.engineer_id = ?", {std::string(now), engineer_id});
}

Result<std::vector<Grant>> grants_of_zone(store::Store& store, std::int64_t zone_id,
                                          std::string_view now) {
  return grants_where(store, "d.zone_id = ?", {std::string(now), zone_id});
}

Result<Grant> find_grant(store::Store& store, std::int64_t engineer_id, std::string_view device_ref,
                         int port, std::string_view now) {
  std::int64_t device_id = 0;
  auto [end, ec] =
      std::from_chars(device_ref.data(), device_ref.data() + device_ref.size(), device_id);
  if (ec != std::errc() || end != device_ref.data() + device_ref.size()) {
    return fail(ErrorCode::kNotFound, fmt::format("'{}' is not a device id", device_ref));
  }
  auto grants = grants_where(store, "g.engineer_id = ? AND d.id = ? AND g.port = ?",
                             {std::string(now), engineer_id, device_id, std::int64_t{port}});
  if (!grants) return tl::unexpected(grants.error());
  if (grants->empty()) {
    return fail(ErrorCode::kNotFound,
                fmt::format("no live grant for device {} port {}", device_ref, port));
  }
  return grants->front();
}

Status audit_event(store::Store& store, const Actor& actor, std::string_view action,
                   std::string_view object, std::string_view details_json) {
  const AuditRecord record{actor, std::string(action), std::string(object),
                           std::string(details_json)};
  return audit_events(store, std::span<const AuditRecord>(&record, 1));
}

Status audit_events(store::Store& store, std::span<const AuditRecord> records) {
  if (records.empty()) return {};
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto appender = audit::Appender::start(store);
  if (!appender) return tl::unexpected(appender.error());
  for (const AuditRecord& r : records) {
    auto id =
        appender->append({r.actor.name, r.action, r.object, r.actor.origin, r.details}, r.actor.at);
    if (!id) return tl::unexpected(id.error());
  }
  VIGIE_TRY(appender->finish());
  return tx->commit();
}

}  // namespace vigie::remote
