#include "vigie/remote/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/core/ids.h"
#include "vigie/inventory/import.h"

namespace vigie::remote {
namespace {

using core::ErrorCode;
using store::Value;
using vigie::testing::TempDir;

constexpr const char* kT0 = "2026-03-01T10:00:00Z";

// Two sites with a zone "Imagerie" each (ambiguous bare name), a "Bloc" zone, devices in and
// out of service, one without an address and one without a zone.
constexpr const char* kInventory =
    "vendor,product,serial_number,site,zone,ip,status\n"
    "Siemens,Arcadis Varic,S-1,CHU Nord,Imagerie,10.1.110.5,in-service\n"
    "Philips,Essenta DR,P-1,CHU Nord,Imagerie,10.1.110.6,standalone\n"
    "GE Healthcare,Vivid E95,G-1,CHU Sud,Imagerie,10.2.110.7,in-service\n"
    "GE Healthcare,Logiq E9,G-2,CHU Nord,Imagerie,10.1.110.8,decommissioned\n"
    "Mindray,BeneVision N12,M-1,CHU Nord,Bloc,,in-service\n"
    "Draeger,Infinity Delta,D-1,,,10.9.9.9,in-service\n";

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

CertInfo cert(const std::string& serial, const std::string& not_after) {
  return CertInfo{serial, "connector", kT0, not_after, core::sha256_hex(serial)};
}

class RegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    auto path = dir_ / "devices.csv";
    vigie::testing::write_file(path, kInventory);
    auto r = inventory::import_devices(*store_, path, inventory::ImportFormat::kCsv, {});
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    ASSERT_TRUE(r.ok()) << errors;
    ASSERT_EQ(r.summary.created, 6U);
  }

  static Actor at(const std::string& when) { return Actor{"alice", "cli", when}; }

  std::int64_t device(const std::string& serial) {
    return store_
        ->query_int("SELECT id FROM devices WHERE serial_number = ?", std::vector<Value>{serial})
        .value();
  }

  std::int64_t zone(const std::string& site, const std::string& zone) {
    return store_
        ->query_int(
            "SELECT z.id FROM zones z JOIN sites s ON s.id = z.site_id WHERE s.name = ? AND "
            "z.name = ?",
            std::vector<Value>{site, zone})
        .value();
  }

  std::int64_t count(const std::string& sql, std::vector<Value> params = {}) {
    auto n = store_->query_int(sql, params);
    EXPECT_TRUE(n) << n.error().to_string();
    return n ? *n : -1;
  }

  std::int64_t audited(const std::string& action) {
    return count("SELECT COUNT(*) FROM audit_log WHERE action = ?", {action});
  }

  // Whether `needle` appears in any column of any row of `table`.
  bool appears_in(const std::string& table, const std::string& needle) {
    auto rows = store_->query("SELECT * FROM " + table);
    EXPECT_TRUE(rows) << rows.error().to_string();
    if (!rows) return true;
    for (const auto& r : *rows) {
      for (size_t i = 0; i < r.size(); ++i) {
        if (r.text(i).find(needle) != std::string::npos) return true;
      }
    }
    return false;
  }

  void expect_audit_chain_ok() {
    auto v = audit::verify(*store_);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_EQ(v->entries, count("SELECT COUNT(*) FROM audit_log"));
  }

  // A connector enrolled with certificate `serial`.
  ConnectorIdentity enrolled(const std::string& name, const std::string& serial) {
    auto added = add_connector(*store_, name, "Bloc", at(kT0));
    EXPECT_TRUE(added) << added.error().to_string();
    auto who = redeem_enrollment(*store_, added->token, cert(serial, "2026-06-01T10:00:00Z"),
                                 at("2026-03-01T10:05:00Z"));
    EXPECT_TRUE(who) << who.error().to_string();
    return who.value_or(ConnectorIdentity{});
  }

  Engineer engineer(const std::string& name) {
    auto e = add_engineer(*store_, name, "Siemens Healthineers", at(kT0));
    EXPECT_TRUE(e) << e.error().to_string();
    return e ? e->first : Engineer{};
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

// ---- connectors ------------------------------------------------------------------------------

TEST_P(RegistryTest, AddConnectorPrintsATokenValidOneHour) {
  auto added = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_TRUE(added) << added.error().to_string();
  EXPECT_GT(added->id, 0);
  EXPECT_TRUE(is_hex64(added->token)) << added->token;
  EXPECT_EQ(added->expires_at, "2026-03-01T11:00:00Z");
  auto again = add_connector(*store_, "bloc-2", "Bloc", at(kT0));
  ASSERT_TRUE(again);
  EXPECT_NE(again->token, added->token);
  EXPECT_NE(again->id, added->id);

  auto who = peek_enrollment(*store_, added->token, kT0);
  ASSERT_TRUE(who) << who.error().to_string();
  EXPECT_EQ(who->id, added->id);
  EXPECT_EQ(who->name, "bloc-1");
  EXPECT_EQ(who->zone_id, zone("CHU Nord", "Bloc"));

  EXPECT_EQ(audited("remote.connector.add"), 2);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, AddConnectorRefusesADuplicateName) {
  ASSERT_TRUE(add_connector(*store_, "bloc-1", "Bloc", at(kT0)));
  auto dup = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto dup_case = add_connector(*store_, "BLOC-1", "CHU Sud/Imagerie", at(kT0));
  ASSERT_FALSE(dup_case);
  EXPECT_EQ(dup_case.error().code, ErrorCode::kConflict);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors"), 1);
  EXPECT_EQ(audited("remote.connector.add"), 1);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, AddConnectorRefusesAnUnknownZone) {
  for (const char* ref : {"Nowhere", "CHU Nord/Nowhere", "CHU Ouest/Bloc", "CHU Sud/Bloc"}) {
    auto r = add_connector(*store_, "c", ref, at(kT0));
    ASSERT_FALSE(r) << ref;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << ref;
    EXPECT_EQ(r.error().where, "--zone") << ref;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log"), 0);
}

TEST_P(RegistryTest, AZoneInTwoSitesNeedsSiteSlashZone) {
  auto ambiguous = add_connector(*store_, "img", "Imagerie", at(kT0));
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(ambiguous.error().where, "--zone");
  EXPECT_NE(ambiguous.error().message.find("CHU Nord"), std::string::npos)
      << ambiguous.error().message;
  EXPECT_NE(ambiguous.error().message.find("CHU Sud"), std::string::npos)
      << ambiguous.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors"), 0);

  auto sud = add_connector(*store_, "img-sud", "CHU Sud/Imagerie", at(kT0));
  ASSERT_TRUE(sud) << sud.error().to_string();
  auto nord = add_connector(*store_, "img-nord", "chu nord/IMAGERIE", at(kT0));
  ASSERT_TRUE(nord) << nord.error().to_string();
  EXPECT_EQ(peek_enrollment(*store_, sud->token, kT0).value().zone_id, zone("CHU Sud", "Imagerie"));
  EXPECT_EQ(peek_enrollment(*store_, nord->token, kT0).value().zone_id,
            zone("CHU Nord", "Imagerie"));
  auto listed = list_connectors(*store_, kT0);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2U);
  EXPECT_EQ((*listed)[0].zone, "CHU Nord/Imagerie");
  EXPECT_EQ((*listed)[1].zone, "CHU Sud/Imagerie");
}

// ---- enrollment ------------------------------------------------------------------------------

TEST_P(RegistryTest, ATokenRedeemsOnceAndRecordsTheCertificate) {
  auto added = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_TRUE(added);
  const std::string later = "2026-03-01T10:30:00Z";
  auto peeked = peek_enrollment(*store_, added->token, later);
  ASSERT_TRUE(peeked) << peeked.error().to_string();
  EXPECT_EQ(peeked->name, "bloc-1");
  // Peeking consumes nothing.
  ASSERT_TRUE(peek_enrollment(*store_, added->token, later));

  auto who =
      redeem_enrollment(*store_, added->token, cert("0a1b2c", "2026-06-01T10:00:00Z"), at(later));
  ASSERT_TRUE(who) << who.error().to_string();
  EXPECT_EQ(who->id, added->id);
  EXPECT_EQ(who->name, "bloc-1");
  EXPECT_EQ(who->zone_id, zone("CHU Nord", "Bloc"));

  auto twice =
      redeem_enrollment(*store_, added->token, cert("0d0e0f", "2026-06-01T10:00:00Z"), at(later));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kNotFound);
  auto peek_used = peek_enrollment(*store_, added->token, later);
  ASSERT_FALSE(peek_used);
  EXPECT_EQ(peek_used.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(
      count("SELECT COUNT(*) FROM remote_connector_certs WHERE connector_id = ?", {added->id}), 1);
  auto certs = store_->query("SELECT serial, not_after, issued_at FROM remote_connector_certs");
  ASSERT_TRUE(certs);
  ASSERT_EQ(certs->size(), 1U);
  EXPECT_EQ((*certs)[0].text(0), "0a1b2c");
  EXPECT_EQ((*certs)[0].text(1), "2026-06-01T10:00:00Z");
  EXPECT_EQ((*certs)[0].text(2), later);

  auto found = connector_for_serial(*store_, "0a1b2c");
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->id, added->id);
  EXPECT_EQ(found->name, "bloc-1");
  auto unknown = connector_for_serial(*store_, "0d0e0f");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  auto wrong = redeem_enrollment(*store_, std::string(64, '0'), cert("99", "2026-06-01T10:00:00Z"),
                                 at(later));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(audited("remote.connector.add"), 1);
  EXPECT_EQ(audited("remote.connector.enroll"), 1);
  EXPECT_EQ(audited("remote.connector.enroll_refused"), 2);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, AnExpiredTokenIsRefused) {
  auto added = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_TRUE(added);
  EXPECT_TRUE(peek_enrollment(*store_, added->token, "2026-03-01T10:59:59Z"));
  for (const char* when :
       {"2026-03-01T11:00:00Z", "2026-03-01T11:00:01Z", "2026-03-02T10:00:00Z"}) {
    auto peeked = peek_enrollment(*store_, added->token, when);
    ASSERT_FALSE(peeked) << when;
    EXPECT_EQ(peeked.error().code, ErrorCode::kNotFound) << when;
    auto r = redeem_enrollment(*store_, added->token, cert("0a", "2026-06-01T10:00:00Z"), at(when));
    ASSERT_FALSE(r) << when;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << when;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connector_certs"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors WHERE enrolled_at IS NOT NULL"), 0);
  auto serial = connector_for_serial(*store_, "0a");
  ASSERT_FALSE(serial);
  EXPECT_EQ(serial.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(audited("remote.connector.enroll_refused"), 3);
  EXPECT_EQ(audited("remote.connector.enroll"), 0);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, RenewingTheTokenWorksOnlyBeforeEnrollment) {
  auto added = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_TRUE(added);
  const std::string next_day = "2026-03-02T09:00:00Z";
  auto renewed = renew_enrollment_token(*store_, "bloc-1", at(next_day));
  ASSERT_TRUE(renewed) << renewed.error().to_string();
  EXPECT_EQ(renewed->id, added->id);
  EXPECT_TRUE(is_hex64(renewed->token));
  EXPECT_NE(renewed->token, added->token);
  EXPECT_EQ(renewed->expires_at, "2026-03-02T10:00:00Z");

  // The old token is gone, the new one enrolls.
  EXPECT_FALSE(peek_enrollment(*store_, added->token, kT0));
  ASSERT_TRUE(peek_enrollment(*store_, renewed->token, next_day));
  ASSERT_TRUE(redeem_enrollment(*store_, renewed->token, cert("0b", "2026-06-01T10:00:00Z"),
                                at("2026-03-02T09:10:00Z")));

  auto after = renew_enrollment_token(*store_, "bloc-1", at("2026-03-02T09:20:00Z"));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kConflict);

  ASSERT_TRUE(add_connector(*store_, "bloc-2", "Bloc", at(kT0)));
  ASSERT_TRUE(revoke_connector(*store_, "bloc-2", at(kT0)));
  auto revoked = renew_enrollment_token(*store_, "bloc-2", at(kT0));
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, ErrorCode::kConflict);

  auto unknown = renew_enrollment_token(*store_, "nobody", at(kT0));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(audited("remote.connector.token"), 1);
  EXPECT_EQ(audited("remote.connector.revoke"), 1);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, TokensAreKeptAsSha256Only) {
  auto added = add_connector(*store_, "bloc-1", "Bloc", at(kT0));
  ASSERT_TRUE(added);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors WHERE token_sha256 = ?",
                  {core::sha256_hex(added->token)}),
            1);
  auto renewed = renew_enrollment_token(*store_, "bloc-1", at(kT0));
  ASSERT_TRUE(renewed);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors WHERE token_sha256 = ?",
                  {core::sha256_hex(renewed->token)}),
            1);
  auto other = add_connector(*store_, "bloc-2", "Bloc", at(kT0));
  ASSERT_TRUE(other);
  ASSERT_TRUE(
      redeem_enrollment(*store_, renewed->token, cert("0c", "2026-06-01T10:00:00Z"), at(kT0)));
  // Failed attempts are audited, without what was tried.
  EXPECT_FALSE(
      redeem_enrollment(*store_, added->token, cert("0d", "2026-06-01T10:00:00Z"), at(kT0)));
  // A consumed token leaves no hash behind.
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connectors WHERE name = 'bloc-1' AND "
                  "token_sha256 IS NULL"),
            1);

  for (const std::string& token : {added->token, renewed->token, other->token}) {
    for (const char* table :
         {"remote_connectors", "remote_connector_certs", "audit_log", "remote_engineers"}) {
      EXPECT_FALSE(appears_in(table, token)) << table;
    }
  }
  // audit_log.details, precisely, holds neither the tokens nor their hashes.
  auto details = store_->query("SELECT details FROM audit_log");
  ASSERT_TRUE(details);
  EXPECT_EQ(details->size(), 5U);
  for (const auto& r : *details) {
    for (const std::string& token : {added->token, renewed->token, other->token}) {
      EXPECT_EQ(r.text(0).find(token), std::string::npos);
      EXPECT_EQ(r.text(0).find(core::sha256_hex(token)), std::string::npos);
    }
  }
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, RotationAddsASerialAndRevocationDisablesAll) {
  ConnectorIdentity who = enrolled("bloc-1", "01aa");
  ASSERT_GT(who.id, 0);
  ASSERT_TRUE(record_rotation(*store_, who.id, cert("02bb", "2026-09-01T10:00:00Z"),
                              at("2026-05-01T10:00:00Z")));
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connector_certs WHERE connector_id = ?", {who.id}),
            2);
  for (const char* serial : {"01aa", "02bb"}) {
    auto found = connector_for_serial(*store_, serial);
    ASSERT_TRUE(found) << serial;
    EXPECT_EQ(found->id, who.id);
    EXPECT_EQ(found->name, "bloc-1");
  }
  auto listed = list_connectors(*store_, "2026-05-01T11:00:00Z");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].cert_not_after, "2026-09-01T10:00:00Z");  // the newest certificate
  // A serial is recorded once.
  auto dup = record_rotation(*store_, who.id, cert("02bb", "2026-09-01T10:00:00Z"), at(kT0));
  EXPECT_FALSE(dup);

  // Another connector is untouched by the revocation.
  ConnectorIdentity other = enrolled("bloc-2", "03cc");
  ASSERT_TRUE(revoke_connector(*store_, "bloc-1", at("2026-05-02T10:00:00Z")));
  for (const char* serial : {"01aa", "02bb"}) {
    auto found = connector_for_serial(*store_, serial);
    ASSERT_FALSE(found) << serial;
    EXPECT_EQ(found.error().code, ErrorCode::kNotFound) << serial;
  }
  auto still = connector_for_serial(*store_, "03cc");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->id, other.id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_connector_certs WHERE revoked_at IS NOT NULL"), 2);

  auto unknown = revoke_connector(*store_, "nobody", at(kT0));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(audited("remote.connector.rotate"), 1);
  EXPECT_EQ(audited("remote.connector.revoke"), 1);
  EXPECT_EQ(audited("remote.connector.enroll"), 2);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, ListConnectorsShowsEveryState) {
  ASSERT_TRUE(add_connector(*store_, "a-waiting", "Bloc", at(kT0)));
  ASSERT_TRUE(add_connector(*store_, "b-stale", "Bloc", at("2026-03-01T07:00:00Z")));
  ConnectorIdentity enrolled_one = enrolled("c-enrolled", "0c");
  ASSERT_GT(enrolled_one.id, 0);
  ASSERT_TRUE(add_connector(*store_, "d-revoked", "CHU Sud/Imagerie", at(kT0)));
  ASSERT_TRUE(revoke_connector(*store_, "d-revoked", at(kT0)));

  auto listed = list_connectors(*store_, "2026-03-01T10:30:00Z");
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 4U);
  std::vector<std::string> names;
  std::vector<std::string> states;
  for (const auto& c : *listed) {
    names.push_back(c.name);
    states.push_back(c.state);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a-waiting", "b-stale", "c-enrolled", "d-revoked"}));
  EXPECT_EQ(states, (std::vector<std::string>{"awaiting-enrollment", "token-expired", "enrolled",
                                              "revoked"}));
  EXPECT_EQ((*listed)[0].zone, "CHU Nord/Bloc");
  EXPECT_EQ((*listed)[2].enrolled_at, "2026-03-01T10:05:00Z");
  EXPECT_EQ((*listed)[2].cert_not_after, "2026-06-01T10:00:00Z");
  EXPECT_TRUE((*listed)[0].enrolled_at.empty());
  EXPECT_TRUE((*listed)[0].cert_not_after.empty());
  EXPECT_EQ((*listed)[3].zone, "CHU Sud/Imagerie");

  // Two hours on, the waiting one's token has expired too.
  auto later = list_connectors(*store_, "2026-03-01T12:00:00Z");
  ASSERT_TRUE(later);
  EXPECT_EQ((*later)[0].state, "token-expired");
  EXPECT_EQ((*later)[2].state, "enrolled");
}

// ---- engineers -------------------------------------------------------------------------------

TEST_P(RegistryTest, EngineersAuthenticateWithTheirTokenOnly) {
  auto added = add_engineer(*store_, "Ada Lovelace", "Siemens Healthineers", at(kT0));
  ASSERT_TRUE(added) << added.error().to_string();
  const auto& [ada, token] = *added;
  EXPECT_GT(ada.id, 0);
  EXPECT_EQ(ada.name, "Ada Lovelace");
  EXPECT_EQ(ada.organisation, "Siemens Healthineers");
  EXPECT_TRUE(is_hex64(token)) << token;

  auto found = engineer_for_token(*store_, token);
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->id, ada.id);
  EXPECT_EQ(found->name, "Ada Lovelace");
  EXPECT_EQ(found->organisation, "Siemens Healthineers");

  auto bob = add_engineer(*store_, "Bob", "Philips", at(kT0));
  ASSERT_TRUE(bob);
  EXPECT_NE(bob->second, token);
  EXPECT_EQ(engineer_for_token(*store_, bob->second).value().id, bob->first.id);

  for (const std::string& wrong :
       {std::string(64, '0'), std::string(), token.substr(1), core::sha256_hex(token)}) {
    auto r = engineer_for_token(*store_, wrong);
    ASSERT_FALSE(r) << wrong;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  }

  auto dup = add_engineer(*store_, "ada  LOVELACE", "GE", at(kT0));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto no_org = add_engineer(*store_, "Carol", "", at(kT0));
  ASSERT_FALSE(no_org);
  EXPECT_EQ(no_org.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_engineers"), 2);

  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_engineers WHERE token_sha256 = ?",
                  {core::sha256_hex(token)}),
            1);
  for (const char* table : {"audit_log", "remote_engineers"}) {
    EXPECT_FALSE(appears_in(table, token)) << table;
    EXPECT_FALSE(appears_in(table, bob->second)) << table;
  }
  EXPECT_FALSE(appears_in("audit_log", core::sha256_hex(token)));
  EXPECT_EQ(audited("remote.engineer.add"), 2);
  expect_audit_chain_ok();
}

// ---- grants ----------------------------------------------------------------------------------

TEST_P(RegistryTest, AGrantNeedsAReachableDeviceInService) {
  Engineer ada = engineer("Ada");
  ASSERT_GT(ada.id, 0);

  auto missing = add_grant(*store_, "Ada", 999999, 22, "", at(kT0));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().where, "--device");

  auto no_engineer = add_grant(*store_, "Nobody", device("S-1"), 22, "", at(kT0));
  ASSERT_FALSE(no_engineer);
  EXPECT_EQ(no_engineer.error().code, ErrorCode::kNotFound);

  auto decommissioned = add_grant(*store_, "Ada", device("G-2"), 22, "", at(kT0));
  ASSERT_FALSE(decommissioned);
  EXPECT_EQ(decommissioned.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(decommissioned.error().message.find("is not in service"), std::string::npos)
      << decommissioned.error().message;

  auto no_zone = add_grant(*store_, "Ada", device("D-1"), 22, "", at(kT0));
  ASSERT_FALSE(no_zone);
  EXPECT_EQ(no_zone.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(no_zone.error().message.find("has no zone"), std::string::npos)
      << no_zone.error().message;

  auto no_address = add_grant(*store_, "Ada", device("M-1"), 22, "", at(kT0));
  ASSERT_FALSE(no_address);
  EXPECT_EQ(no_address.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(no_address.error().message.find("has no address"), std::string::npos)
      << no_address.error().message;

  for (int port : {0, -1, 65536, 100000}) {
    auto r = add_grant(*store_, "Ada", device("S-1"), port, "", at(kT0));
    ASSERT_FALSE(r) << port;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << port;
    EXPECT_EQ(r.error().where, "--port") << port;
  }
  for (const char* until : {"2026-03-01T09:00:00Z", kT0, "2025-12-31", "tomorrow"}) {
    auto r = add_grant(*store_, "Ada", device("S-1"), 22, until, at(kT0));
    ASSERT_FALSE(r) << until;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << until;
    EXPECT_EQ(r.error().where, "--until") << until;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_grants"), 0);
  EXPECT_EQ(audited("remote.grant.add"), 0);

  // The ports at both ends, and a standalone device, are fine.
  auto low = add_grant(*store_, "Ada", device("S-1"), 1, "", at(kT0));
  ASSERT_TRUE(low) << low.error().to_string();
  auto high = add_grant(*store_, "Ada", device("S-1"), 65535, "", at(kT0));
  ASSERT_TRUE(high) << high.error().to_string();
  auto standalone = add_grant(*store_, "Ada", device("P-1"), 443, "", at(kT0));
  ASSERT_TRUE(standalone) << standalone.error().to_string();
  EXPECT_EQ(standalone->host, "10.1.110.6");
  EXPECT_EQ(audited("remote.grant.add"), 3);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, AGrantDescribesItsDevice) {
  Engineer ada = engineer("Ada");
  auto g = add_grant(*store_, "ada", device("S-1"), 22, "2026-03-08T10:00:00Z", at(kT0));
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_GT(g->id, 0);
  EXPECT_EQ(g->engineer_id, ada.id);
  EXPECT_EQ(g->engineer, "Ada");
  EXPECT_EQ(g->device_id, device("S-1"));
  EXPECT_NE(g->device.find("Arcadis Varic"), std::string::npos) << g->device;
  EXPECT_NE(g->device.find("S-1"), std::string::npos) << g->device;
  EXPECT_EQ(g->zone_id, zone("CHU Nord", "Imagerie"));
  EXPECT_EQ(g->host, "10.1.110.5");
  EXPECT_EQ(g->port, 22);
  EXPECT_EQ(g->expires_at, "2026-03-08T10:00:00Z");

  auto forever = add_grant(*store_, "Ada", device("G-1"), 5900, "", at(kT0));
  ASSERT_TRUE(forever) << forever.error().to_string();
  EXPECT_EQ(forever->host, "10.2.110.7");
  EXPECT_EQ(forever->zone_id, zone("CHU Sud", "Imagerie"));
  EXPECT_TRUE(forever->expires_at.empty());
}

TEST_P(RegistryTest, FindGrantFindsOnlyALiveGrantForThatPort) {
  Engineer ada = engineer("Ada");
  Engineer bob = engineer("Bob");
  const std::string dev = std::to_string(device("S-1"));
  auto g = add_grant(*store_, "Ada", device("S-1"), 22, "", at(kT0));
  ASSERT_TRUE(g) << g.error().to_string();

  auto found = find_grant(*store_, ada.id, dev, 22, "2026-03-01T10:01:00Z");
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->id, g->id);
  EXPECT_EQ(found->host, "10.1.110.5");
  EXPECT_EQ(found->port, 22);

  auto expect_none = [&](std::int64_t engineer_id, const std::string& ref, int port) {
    auto r = find_grant(*store_, engineer_id, ref, port, "2026-03-01T10:01:00Z");
    ASSERT_FALSE(r) << ref << ":" << port;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << ref << ":" << port;
  };
  expect_none(ada.id, dev, 23);                            // wrong port
  expect_none(bob.id, dev, 22);                            // someone else's
  expect_none(ada.id, std::to_string(device("P-1")), 22);  // another device
  expect_none(ada.id, "Arcadis", 22);                      // not an id
  expect_none(ada.id, dev + "x", 22);                      // trailing junk
  expect_none(ada.id, "", 22);                             // empty
  expect_none(ada.id, " " + dev, 22);                      // leading space

  ASSERT_TRUE(revoke_grant(*store_, g->id, at("2026-03-01T11:00:00Z")));
  expect_none(ada.id, dev, 22);
  auto twice = revoke_grant(*store_, g->id, at("2026-03-01T11:00:00Z"));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kNotFound);
  auto unknown = revoke_grant(*store_, 424242, at(kT0));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(audited("remote.grant.add"), 1);
  EXPECT_EQ(audited("remote.grant.revoke"), 1);
  expect_audit_chain_ok();
}

TEST_P(RegistryTest, AnExpiredGrantIsNotLive) {
  Engineer ada = engineer("Ada");
  const std::string dev = std::to_string(device("S-1"));
  auto g = add_grant(*store_, "Ada", device("S-1"), 22, "2026-03-01T11:00:00Z", at(kT0));
  ASSERT_TRUE(g) << g.error().to_string();

  EXPECT_TRUE(find_grant(*store_, ada.id, dev, 22, "2026-03-01T10:59:59Z"));
  EXPECT_EQ(live_grants(*store_, "2026-03-01T10:59:59Z").value().size(), 1U);
  for (const char* now : {"2026-03-01T11:00:00Z", "2026-03-01T11:00:01Z", "2027-01-01T00:00:00Z"}) {
    auto r = find_grant(*store_, ada.id, dev, 22, now);
    ASSERT_FALSE(r) << now;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << now;
    EXPECT_TRUE(live_grants(*store_, now).value().empty()) << now;
    EXPECT_TRUE(grants_of_engineer(*store_, ada.id, now).value().empty()) << now;
    EXPECT_TRUE(grants_of_zone(*store_, g->zone_id, now).value().empty()) << now;
  }
  // Expiry is not revocation: the row stays unrevoked.
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_grants WHERE revoked_at IS NULL"), 1);
}

TEST_P(RegistryTest, AGrantOnADeviceTakenOutOfServiceIsNotLive) {
  Engineer ada = engineer("Ada");
  const std::string dev = std::to_string(device("S-1"));
  ASSERT_TRUE(add_grant(*store_, "Ada", device("S-1"), 22, "", at(kT0)));
  ASSERT_TRUE(store_->execute("UPDATE devices SET status = 'decommissioned' WHERE id = ?",
                              std::vector<Value>{device("S-1")}));
  auto r = find_grant(*store_, ada.id, dev, 22, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(live_grants(*store_, kT0).value().empty());
}

TEST_P(RegistryTest, GrantListsAreSelectedByZoneAndEngineer) {
  Engineer ada = engineer("Ada");
  Engineer bob = engineer("Bob");
  auto a_nord = add_grant(*store_, "Ada", device("S-1"), 22, "", at(kT0));
  auto a_nord2 = add_grant(*store_, "Ada", device("P-1"), 443, "2026-03-01T12:00:00Z", at(kT0));
  auto b_sud = add_grant(*store_, "Bob", device("G-1"), 5900, "", at(kT0));
  auto b_nord = add_grant(*store_, "Bob", device("S-1"), 3389, "", at(kT0));
  auto revoked = add_grant(*store_, "Bob", device("P-1"), 80, "", at(kT0));
  for (const auto* g : {&a_nord, &a_nord2, &b_sud, &b_nord, &revoked}) {
    ASSERT_TRUE(*g) << g->error().to_string();
  }
  ASSERT_TRUE(revoke_grant(*store_, revoked->id, at(kT0)));

  auto ids = [](const Result<std::vector<Grant>>& grants) {
    EXPECT_TRUE(grants) << grants.error().to_string();
    std::set<std::int64_t> out;
    if (grants) {
      for (const Grant& g : *grants) out.insert(g.id);
    }
    return out;
  };
  const std::string now = "2026-03-01T11:00:00Z";
  const std::string after_noon = "2026-03-01T13:00:00Z";
  const std::int64_t nord = zone("CHU Nord", "Imagerie");
  const std::int64_t sud = zone("CHU Sud", "Imagerie");

  EXPECT_EQ(ids(live_grants(*store_, now)),
            (std::set<std::int64_t>{a_nord->id, a_nord2->id, b_sud->id, b_nord->id}));
  EXPECT_EQ(ids(live_grants(*store_, after_noon)),
            (std::set<std::int64_t>{a_nord->id, b_sud->id, b_nord->id}));
  EXPECT_EQ(ids(grants_of_engineer(*store_, ada.id, now)),
            (std::set<std::int64_t>{a_nord->id, a_nord2->id}));
  EXPECT_EQ(ids(grants_of_engineer(*store_, ada.id, after_noon)),
            (std::set<std::int64_t>{a_nord->id}));
  EXPECT_EQ(ids(grants_of_engineer(*store_, bob.id, now)),
            (std::set<std::int64_t>{b_sud->id, b_nord->id}));
  EXPECT_EQ(ids(grants_of_zone(*store_, nord, now)),
            (std::set<std::int64_t>{a_nord->id, a_nord2->id, b_nord->id}));
  EXPECT_EQ(ids(grants_of_zone(*store_, sud, now)), (std::set<std::int64_t>{b_sud->id}));
  EXPECT_TRUE(ids(grants_of_zone(*store_, zone("CHU Nord", "Bloc"), now)).empty());
  EXPECT_TRUE(ids(grants_of_engineer(*store_, 424242, now)).empty());

  auto in_nord = grants_of_zone(*store_, nord, now);
  ASSERT_TRUE(in_nord);
  for (const Grant& g : *in_nord) {
    EXPECT_EQ(g.zone_id, nord);
    EXPECT_EQ(g.host, g.device_id == device("S-1") ? "10.1.110.5" : "10.1.110.6");
  }
  EXPECT_EQ(audited("remote.grant.add"), 5);
  EXPECT_EQ(audited("remote.grant.revoke"), 1);
  EXPECT_EQ(audited("remote.engineer.add"), 2);
  expect_audit_chain_ok();
}

// --until accepts "+HH:MM" offsets; the expiry is kept in UTC, so that the store's text
// comparisons and the broker's parsed times agree.
TEST_P(RegistryTest, GrantExpiryWithAUtcOffsetIsComparedInUtc) {
  Engineer ada = engineer("Ada");
  // 07:00Z: already past at 10:00Z.
  auto past = add_grant(*store_, "Ada", device("S-1"), 22, "2026-03-01T12:00:00+05:00", at(kT0));
  EXPECT_FALSE(past) << "a grant expiring at 07:00Z was accepted at 10:00Z";
  // 16:00Z: live at 13:00Z.
  auto future = add_grant(*store_, "Ada", device("S-1"), 23, "2026-03-01T11:00:00-05:00", at(kT0));
  ASSERT_TRUE(future) << future.error().to_string();
  auto r = find_grant(*store_, ada.id, std::to_string(device("S-1")), 23, "2026-03-01T13:00:00Z");
  EXPECT_TRUE(r) << "a grant expiring at 16:00Z is not live at 13:00Z";
}

// A disabled engineer is refused before anything is written.
TEST_P(RegistryTest, ADisabledEngineerGetsNoGrant) {
  Engineer ada = engineer("Ada");
  ASSERT_TRUE(store_->execute("UPDATE remote_engineers SET disabled_at = ? WHERE id = ?",
                              std::vector<Value>{std::string(kT0), ada.id}));
  auto g = add_grant(*store_, "Ada", device("S-1"), 22, "", at(kT0));
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().code, ErrorCode::kInternal) << g.error().to_string();
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_grants"), 0);
  EXPECT_EQ(audited("remote.grant.add"), 0);
}

TEST_P(RegistryTest, AuditEventAppendsToTheChain) {
  ASSERT_TRUE(audit_event(*store_, at(kT0), "remote.tunnel.open", "grant:1", R"({"port":22})"));
  ASSERT_TRUE(audit_event(*store_, at(kT0), "remote.tunnel.close", "grant:1", "{}"));
  EXPECT_EQ(audited("remote.tunnel.open"), 1);
  EXPECT_EQ(audited("remote.tunnel.close"), 1);
  auto rows = store_->query("SELECT actor, origin, at, details FROM audit_log ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].text(0), "alice");
  EXPECT_EQ((*rows)[0].text(1), "cli");
  EXPECT_EQ((*rows)[0].text(2), kT0);
  EXPECT_EQ((*rows)[0].text(3), R"({"port":22})");
  expect_audit_chain_ok();
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::remote
