// Who may connect, when, and the record of it (access.h, sessions.h) on both back-ends, with a
// manual clock: two factors, replay and lock-out; the authorisation matrix; approval within
// the window, the one-time password, the end of a session and its grants; access levels;
// e-mails only to whitelisted addresses; every step in an intact audit chain.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/inventory/import.h"
#include "vigie/notify/outbox.h"
#include "vigie/remote/access.h"
#include "vigie/remote/registry.h"
#include "vigie/remote/sessions.h"

namespace vigie::remote {
namespace {

using core::ErrorCode;
using std::chrono::seconds;
using store::Value;

constexpr PasswordCost kFastHash{1, 1024};  // tests only: production uses 64 MiB
constexpr const char* kPassword = "correct horse battery";

// Two devices of CHU Nord's imaging zone, one of its operating theatre, one not reachable.
constexpr const char* kInventory =
    "vendor,product,serial_number,site,zone,ip,status\n"
    "Siemens,Artis zee,S-1,CHU Nord,Imagerie,10.1.110.5,in-service\n"
    "Philips,Essenta DR,P-1,CHU Nord,Imagerie,10.1.110.6,in-service\n"
    "Mindray,BeneVision N12,M-1,CHU Nord,Bloc,10.1.120.7,in-service\n"
    "GE Healthcare,Logiq E9,G-2,CHU Nord,Imagerie,10.1.110.8,decommissioned\n";

class AccessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    auto path = dir_ / "devices.csv";
    vigie::testing::write_file(path, kInventory);
    auto r = inventory::import_devices(*store_, path, inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok());
    artis_ = device("S-1");
    essenta_ = device("P-1");
    monitor_ = device("M-1");
    ASSERT_TRUE(add_vendor(*store_, "Siemens Healthineers", admin()));
    ASSERT_TRUE(add_vendor(*store_, "Philips", admin()));
    policy_.approvers = {"biomed@chu.example"};
    policy_.whitelist = notify::Whitelist::parse({"@chu.example"}).value();
  }

  Actor admin() const { return {"admin", "cli", core::format_utc(clock_.now())}; }

  std::int64_t device(const std::string& serial) {
    return store_
        ->query_int("SELECT id FROM devices WHERE serial_number = ?", std::vector<Value>{serial})
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

  // An engineer of `vendor` with a password and TOTP; returns his id and sets secret_.
  std::int64_t engineer(const std::string& name, const std::string& vendor) {
    auto e = add_vendor_engineer(*store_, name, vendor, kPassword, kFastHash, admin());
    EXPECT_TRUE(e) << e.error().to_string();
    auto totp = enroll_totp(*store_, name, "Vigie CHU", admin());
    EXPECT_TRUE(totp) << totp.error().to_string();
    secrets_[name] = totp ? totp->secret_base32 : "";
    return e ? e->id : 0;
  }

  Result<Login> log_in(const std::string& name, const std::string& password, std::string otp = "") {
    if (otp.empty()) otp = totp_code(secrets_[name], clock_.now()).value();
    return login(*store_, {name, password, otp, "", "192.0.2.10"}, clock_.now(), logins_);
  }

  void set_access(std::int64_t device_id, AccessLevel level, const std::string& ports,
                  Operations ops, Operations limited = kScreen | kDownload) {
    DeviceAccess a;
    a.device_id = device_id;
    a.level = level;
    a.ports = parse_ports(ports).value();
    a.operations = ops;
    a.limited_operations = limited;
    if (level == AccessLevel::kLimited) {
      a.window_from = core::format_utc(clock_.now() - seconds(3600));
      a.window_to = core::format_utc(clock_.now() + seconds(3600));
    }
    auto st = set_device_access(*store_, a, admin());
    ASSERT_TRUE(st) << st.error().to_string();
  }

  Result<Session> ask(std::int64_t engineer_id, std::int64_t device_id, std::vector<int> ports,
                      Operations ops) {
    SessionRequest r;
    r.engineer_id = engineer_id;
    r.device_id = device_id;
    r.reason = "tube warm-up error E-4711";
    r.ticket = "SR-2026-118";
    r.ports = std::move(ports);
    r.operations = ops;
    r.origin = "192.0.2.10";
    return request_session(*store_, r, policy_, clock_.now());
  }

  SessionState state(std::int64_t id) { return get_session(*store_, id).value().state; }

  void expect_chain_ok() {
    auto v = audit::verify(*store_);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->problem;
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{core::parse_utc("2026-11-26T09:00:00Z").value()};
  SessionPolicy policy_;
  LoginPolicy logins_;
  std::map<std::string, std::string> secrets_;
  std::int64_t artis_ = 0;
  std::int64_t essenta_ = 0;
  std::int64_t monitor_ = 0;
};

// ---- two factors -------------------------------------------------------------------------------

TEST(PasswordTest, Argon2idHashesAndChecks) {
  auto hash = hash_password(kPassword, kFastHash);
  ASSERT_TRUE(hash) << hash.error().to_string();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0U) << *hash;
  EXPECT_TRUE(password_matches(*hash, kPassword));
  EXPECT_FALSE(password_matches(*hash, "correct horse battery!"));
  EXPECT_NE(*hash, hash_password(kPassword, kFastHash).value()) << "salted";
}

TEST(TotpTest, Rfc6238Sha1Vector) {
  // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s -> 94287082 (8 digits); the
  // 6-digit code is its last six digits.
  auto code = totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", core::TimePoint(seconds(59)));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, "287082");
}

TEST(QrTest, RendersAScannableBlock) {
  auto qr = qr_terminal("otpauth://totp/Vigie:alice?secret=ABC&issuer=Vigie");
  ASSERT_TRUE(qr);
  EXPECT_GT(std::count(qr->begin(), qr->end(), '\n'), 10);
  EXPECT_NE(qr->find("\u2588"), std::string::npos);
}

TEST_P(AccessTest, LoginNeedsBothFactors) {
  engineer("alice", "Siemens Healthineers");
  auto ok = log_in("alice", kPassword);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->token.size(), 64U);
  auto who = engineer_for_login(*store_, ok->token, clock_.now());
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(who->organisation, "Siemens Healthineers");

  clock_.advance(seconds(30));
  auto wrong_password = log_in("alice", "not the password");
  ASSERT_FALSE(wrong_password);
  EXPECT_EQ(wrong_password.error().message, "invalid credentials");  // no oracle
  clock_.advance(seconds(30));
  EXPECT_FALSE(log_in("alice", kPassword, "000000"));
  EXPECT_FALSE(log_in("nobody", kPassword, "123456"));
  EXPECT_EQ(audited("remote.login"), 1);
  EXPECT_EQ(audited("remote.login.refused"), 3);
  // The token lives remote.login_hours, and a logout ends it.
  EXPECT_FALSE(engineer_for_login(*store_, ok->token, clock_.now() + logins_.token_lifetime));
  ASSERT_TRUE(logout(*store_, ok->token, admin()));
  EXPECT_FALSE(engineer_for_login(*store_, ok->token, clock_.now()));
  expect_chain_ok();
}

TEST_P(AccessTest, ReplayedCodeIsRefused) {
  engineer("alice", "Siemens Healthineers");
  const std::string code = totp_code(secrets_["alice"], clock_.now()).value();
  ASSERT_TRUE(log_in("alice", kPassword, code));
  auto replay = log_in("alice", kPassword, code);
  ASSERT_FALSE(replay);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'remote.login.refused' AND "
                  "details LIKE '%replayed code%'"),
            1);
  // The previous step's code is inside the window but older than the last one used: refused.
  clock_.advance(seconds(30));
  const std::string previous = totp_code(secrets_["alice"], clock_.now() - seconds(30)).value();
  EXPECT_FALSE(log_in("alice", kPassword, previous));
  EXPECT_TRUE(log_in("alice", kPassword));
}

TEST_P(AccessTest, RepeatedFailuresLockWithGrowingDelays) {
  engineer("alice", "Siemens Healthineers");
  for (int i = 0; i < logins_.free_failures; ++i) EXPECT_FALSE(log_in("alice", "wrong password!"));
  EXPECT_TRUE(log_in("alice", kPassword)) << "the free failures do not lock";
  for (int i = 0; i < logins_.free_failures; ++i) EXPECT_FALSE(log_in("alice", "wrong password!"));
  clock_.advance(seconds(30));
  EXPECT_FALSE(log_in("alice", "wrong password!"));  // failure 4: locked 30 s
  clock_.advance(seconds(10));
  auto locked = log_in("alice", kPassword);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::kConflict);
  EXPECT_NE(locked.error().message.find("locked until"), std::string::npos);
  clock_.advance(seconds(25));
  EXPECT_FALSE(log_in("alice", "wrong password!"));  // failure 5: locked 60 s
  clock_.advance(seconds(45));
  EXPECT_FALSE(log_in("alice", kPassword)) << "still locked after 45 s of 60";
  clock_.advance(seconds(20));
  EXPECT_TRUE(log_in("alice", kPassword)) << "the lock passed; success resets the count";
  auto accounts = list_engineers(*store_).value();
  ASSERT_EQ(accounts.size(), 1U);
  EXPECT_TRUE(accounts[0].locked_until.empty());
}

TEST_P(AccessTest, CertificateIsASecondFactor) {
  engineer("carol", "Philips");
  ASSERT_TRUE(set_engineer_certificate(*store_, "carol", "7A3F01", admin()));
  auto with_cert =
      login(*store_, {"carol", kPassword, "", "7a3f01", "192.0.2.11"}, clock_.now(), logins_);
  ASSERT_TRUE(with_cert) << with_cert.error().to_string();
  EXPECT_FALSE(
      login(*store_, {"carol", kPassword, "", "7a3f02", "192.0.2.11"}, clock_.now(), logins_));
  EXPECT_FALSE(login(*store_, {"carol", "not the password", "", "7a3f01", "192.0.2.11"},
                     clock_.now(), logins_));
}

TEST_P(AccessTest, PasswordPolicyAndSecretsNeverStored) {
  EXPECT_FALSE(add_vendor_engineer(*store_, "dave", "Philips", "short", kFastHash, admin()));
  EXPECT_FALSE(add_vendor_engineer(*store_, "dave", "Nobody Inc", kPassword, kFastHash, admin()));
  engineer("dave", "Philips");
  auto token = log_in("dave", kPassword).value().token;
  auto rows = store_->query("SELECT * FROM audit_log");
  ASSERT_TRUE(rows);
  for (const auto& r : *rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r.text(i).find(kPassword), std::string::npos);
      EXPECT_EQ(r.text(i).find(secrets_["dave"]), std::string::npos);
      EXPECT_EQ(r.text(i).find(token), std::string::npos);
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_logins WHERE token_sha256 = ?", {token}), 0);
}

// ---- authorisation matrix ----------------------------------------------------------------------

// Every engineer x operation x device (his vendor's, the other vendor's): a request is accepted
// exactly when his authorisations and the device's policy both allow the operation.
TEST_P(AccessTest, AuthorisationMatrixHolds) {
  const auto siemens1 = engineer("siemens-1", "Siemens Healthineers");
  const auto siemens2 = engineer("siemens-2", "Siemens Healthineers");
  const auto philips1 = engineer("philips-1", "Philips");
  const auto disabled = engineer("siemens-3", "Siemens Healthineers");
  ASSERT_TRUE(
      authorise(*store_, "siemens-1", {artis_, ""}, kScreen | kService | kDownload, admin()));
  ASSERT_TRUE(authorise(*store_, "siemens-2", {0, "CHU Nord/Imagerie"}, kScreen, admin()));
  ASSERT_TRUE(authorise(*store_, "philips-1", {essenta_, ""}, kAllOperations, admin()));
  ASSERT_TRUE(authorise(*store_, "siemens-3", {artis_, ""}, kAllOperations, admin()));
  ASSERT_TRUE(disable_engineer(*store_, "siemens-3", admin()));
  // The Artis allows everything but updates; the Essenta everything.
  set_access(artis_, AccessLevel::kNone, "5900/screen,22/service",
             kScreen | kService | kDownload | kUpload);
  set_access(essenta_, AccessLevel::kNone, "5900/screen,22/service", kAllOperations);

  struct Case {
    Operations op;
    std::vector<int> ports;
  };
  const Case cases[] = {
      {kScreen, {5900}}, {kService, {22}}, {kDownload, {}}, {kUpload, {}}, {kUpdate, {}}};
  const std::map<std::pair<std::int64_t, std::int64_t>, Operations> allowed = {
      {{siemens1, artis_}, kScreen | kService | kDownload},
      {{siemens1, essenta_}, 0},
      {{siemens2, artis_}, kScreen},
      {{siemens2, essenta_}, kScreen},
      {{philips1, artis_}, 0},
      {{philips1, essenta_}, kAllOperations},
      {{disabled, artis_}, 0},
      {{disabled, essenta_}, 0}};
  int checked = 0;
  for (const auto& [pair, ops] : allowed) {
    for (const Case& c : cases) {
      auto s = ask(pair.first, pair.second, c.ports, c.op);
      const bool expected = (ops & c.op) != 0;
      EXPECT_EQ(static_cast<bool>(s), expected)
          << "engineer " << pair.first << " device " << pair.second << " "
          << format_operations(c.op) << ": " << (s ? "accepted" : s.error().message);
      if (s) {
        ASSERT_TRUE(end_session(*store_, s->id, admin(), "", policy_, clock_.now()));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 40);
  // A port the policy does not open, a port of another operation, a device not reachable.
  EXPECT_FALSE(ask(siemens1, artis_, {3389}, kScreen));
  EXPECT_FALSE(ask(siemens1, artis_, {22}, kScreen));
  EXPECT_FALSE(ask(siemens1, device("G-2"), {5900}, kScreen));
  EXPECT_GT(audited("remote.session.request_refused"), 20);
  expect_chain_ok();
}

// ---- sessions ----------------------------------------------------------------------------------

class SessionFlowTest : public AccessTest {
 protected:
  void SetUp() override {
    AccessTest::SetUp();
    alice_ = engineer("alice", "Siemens Healthineers");
    ASSERT_TRUE(authorise(*store_, "alice", {0, "Imagerie"}, kAllOperations, admin()));
    set_access(artis_, AccessLevel::kNone, "5900/screen,22/service", kAllOperations);
  }
  std::int64_t alice_ = 0;
};

TEST_P(SessionFlowTest, ApprovalMustComeWithinTheWindow) {
  auto s = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->state, SessionState::kRequested);
  EXPECT_EQ(s->request_expires_at, "2026-11-26T09:00:30Z");
  clock_.advance(seconds(31));
  auto late = approve_session(*store_, s->id, admin(), policy_, clock_.now());
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  EXPECT_EQ(state(s->id), SessionState::kExpired);
  EXPECT_EQ(audited("remote.session.expire"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM remote_grants"), 0);
  // An unanswered request is expired by the sweep too.
  auto again = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(again);
  clock_.advance(seconds(30));
  EXPECT_EQ(sweep_sessions(*store_, policy_, clock_.now()).value(), 0) << "30 s is still in time";
  clock_.advance(seconds(1));
  EXPECT_EQ(sweep_sessions(*store_, policy_, clock_.now()).value(), 1);
  EXPECT_EQ(state(again->id), SessionState::kExpired);
}

TEST_P(SessionFlowTest, OneTimePasswordOpensTheSessionOnce) {
  auto s = ask(alice_, artis_, {5900, 22}, kScreen | kService);
  ASSERT_TRUE(s);
  clock_.advance(seconds(20));
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now());
  ASSERT_TRUE(approval) << approval.error().to_string();
  EXPECT_EQ(approval->password.size(), 11U);  // "NNN-NNN-NNN"
  EXPECT_FALSE(
      open_session(*store_, s->id, alice_, "000-000-000", "192.0.2.10", policy_, clock_.now()));
  auto opened =
      open_session(*store_, s->id, alice_, approval->password, "192.0.2.10", policy_, clock_.now());
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_EQ(opened->state, SessionState::kActive);
  auto grants = grants_of_engineer(*store_, alice_, core::format_utc(clock_.now())).value();
  ASSERT_EQ(grants.size(), 2U);
  for (const auto& g : grants) {
    EXPECT_EQ(g.session_id, s->id);
    EXPECT_EQ(g.expires_at, opened->ends_at);
  }
  auto reused =
      open_session(*store_, s->id, alice_, approval->password, "192.0.2.10", policy_, clock_.now());
  ASSERT_FALSE(reused);
  EXPECT_EQ(audited("remote.session.password_refused"), 2);
  // Nobody else opens it, even with the password.
  const auto bob = engineer("bob", "Siemens Healthineers");
  EXPECT_FALSE(
      open_session(*store_, s->id, bob, approval->password, "192.0.2.66", policy_, clock_.now()));
  expect_chain_ok();
}

TEST_P(SessionFlowTest, LatePasswordAndTooManyWrongOnesAreRefused) {
  auto s = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(s);
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now()).value();
  clock_.advance(policy_.password_lifetime + seconds(1));
  EXPECT_FALSE(
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now()));
  EXPECT_EQ(state(s->id), SessionState::kExpired);

  auto t = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(t);
  auto second = approve_session(*store_, t->id, admin(), policy_, clock_.now()).value();
  for (int i = 0; i < policy_.password_attempts; ++i) {
    EXPECT_FALSE(
        open_session(*store_, t->id, alice_, "111-222-333", "192.0.2.10", policy_, clock_.now()));
  }
  EXPECT_EQ(state(t->id), SessionState::kRefused);
  EXPECT_FALSE(
      open_session(*store_, t->id, alice_, second.password, "192.0.2.10", policy_, clock_.now()));
}

TEST_P(SessionFlowTest, EndRevokesGrantsAndANewSessionNeedsANewApproval) {
  auto s = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(s);
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now()).value();
  ASSERT_TRUE(
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now()));
  const auto epoch = change_epoch(*store_).value();
  ASSERT_TRUE(
      find_grant(*store_, alice_, std::to_string(artis_), 5900, core::format_utc(clock_.now())));
  clock_.advance(seconds(600));
  ASSERT_TRUE(
      end_session(*store_, s->id, {"biomed", "cli", ""}, "exam starting", policy_, clock_.now()));
  EXPECT_GT(change_epoch(*store_).value(), epoch) << "the broker sees it at its next poll";
  EXPECT_FALSE(
      find_grant(*store_, alice_, std::to_string(artis_), 5900, core::format_utc(clock_.now())));
  auto ended = get_session(*store_, s->id).value();
  EXPECT_EQ(ended.state, SessionState::kEnded);
  EXPECT_EQ(ended.ended_by, "biomed");
  EXPECT_EQ(ended.end_reason, "exam starting");
  EXPECT_FALSE(end_session(*store_, s->id, admin(), "", policy_, clock_.now()));
  // The old password does not reopen it; a new request waits for a new approval.
  EXPECT_FALSE(
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now()));
  auto next = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->state, SessionState::kRequested);
  EXPECT_FALSE(
      find_grant(*store_, alice_, std::to_string(artis_), 5900, core::format_utc(clock_.now())));
  auto details = store_->query(
      "SELECT details FROM audit_log WHERE action = 'remote.session.end' ORDER BY id DESC");
  ASSERT_TRUE(details);
  EXPECT_NE(details->front().text(0).find("\"duration\":\"0h10m00s\""), std::string::npos)
      << details->front().text(0);
}

TEST_P(SessionFlowTest, IdleAndOverlongSessionsEnd) {
  policy_.idle = seconds(300);
  policy_.max_duration = seconds(3600);
  auto s = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(s);
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now()).value();
  ASSERT_TRUE(
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now()));
  for (int minute = 0; minute < 50; minute += 4) {
    clock_.advance(seconds(240));
    const SessionActivity traffic[] = {{s->id, 1000, 250000}};
    ASSERT_TRUE(record_activity(*store_, traffic, clock_.now()));
    EXPECT_EQ(sweep_sessions(*store_, policy_, clock_.now()).value(), 0);
  }
  auto running = get_session(*store_, s->id).value();
  EXPECT_EQ(running.bytes_to_device, 13000);
  EXPECT_EQ(running.bytes_from_device, 3250000);
  clock_.advance(seconds(301));
  EXPECT_EQ(sweep_sessions(*store_, policy_, clock_.now()).value(), 1);
  EXPECT_EQ(get_session(*store_, s->id).value().end_reason, "idle for 300 s");

  auto t = ask(alice_, artis_, {5900}, kScreen);
  auto second = approve_session(*store_, t->id, admin(), policy_, clock_.now()).value();
  ASSERT_TRUE(
      open_session(*store_, t->id, alice_, second.password, "192.0.2.10", policy_, clock_.now()));
  for (int i = 0; i < 13; ++i) {
    clock_.advance(seconds(280));
    const SessionActivity traffic[] = {{t->id, 1, 1}};
    ASSERT_TRUE(record_activity(*store_, traffic, clock_.now()));
    (void)sweep_sessions(*store_, policy_, clock_.now());
  }
  EXPECT_EQ(get_session(*store_, t->id).value().end_reason, "maximum duration reached");
}

TEST_P(SessionFlowTest, LimitedLevelsStartLimitedOperationsWithoutApproval) {
  set_access(artis_, AccessLevel::kLimited, "5900/screen,22/service", kAllOperations);
  auto screen = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(screen);
  EXPECT_EQ(screen->state, SessionState::kActive) << "inside the window";
  EXPECT_EQ(screen->decided_by, "policy:limited");
  auto service = ask(alice_, artis_, {22}, kService);
  ASSERT_TRUE(service);
  EXPECT_EQ(service->state, SessionState::kRequested) << "service disturbs exams";
  clock_.advance(seconds(7200));
  auto outside = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->state, SessionState::kRequested) << "outside the window";
  set_access(artis_, AccessLevel::kPermanentLimited, "5900/screen,22/service", kAllOperations);
  auto permanent = ask(alice_, artis_, {5900}, kScreen | kDownload);
  ASSERT_TRUE(permanent);
  EXPECT_EQ(permanent->state, SessionState::kActive);
  auto update = ask(alice_, artis_, {}, kUpdate);
  ASSERT_TRUE(update);
  EXPECT_EQ(update->state, SessionState::kRequested) << "updates always wait for a person";
}

TEST_P(SessionFlowTest, FullLevelIsServiceModeWhileItRuns) {
  set_access(artis_, AccessLevel::kFull, "5900/screen,22/service", kAllOperations);
  auto s = ask(alice_, artis_, {22}, kService | kUpdate);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, SessionState::kRequested);
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now()).value();
  auto running =
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now());
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->service_mode());
  EXPECT_TRUE(to_json(*running)["service_mode"].get<bool>());
  ASSERT_TRUE(end_session(*store_, s->id, admin(), "", policy_, clock_.now()));
  EXPECT_FALSE(get_session(*store_, s->id).value().service_mode());
  EXPECT_EQ(audited("remote.device.service_mode"), 2);  // on, then off
}

TEST_P(SessionFlowTest, ApproversAreToldOnlyAtWhitelistedAddresses) {
  policy_.approvers = {"biomed@chu.example", "someone@gmail.example"};
  set_access(artis_, AccessLevel::kNone, "5900/screen", kAllOperations);
  DeviceAccess a = device_access(*store_, artis_).value();
  a.owner_email = "radiologie@chu.example";
  ASSERT_TRUE(set_device_access(*store_, a, admin()));
  auto s = ask(alice_, artis_, {5900}, kScreen);
  ASSERT_TRUE(s);
  auto approval = approve_session(*store_, s->id, admin(), policy_, clock_.now()).value();
  ASSERT_TRUE(
      open_session(*store_, s->id, alice_, approval.password, "192.0.2.10", policy_, clock_.now()));
  ASSERT_TRUE(end_session(*store_, s->id, admin(), "done", policy_, clock_.now()));
  auto notices = notify::list_notices(*store_, {true, 100}).value();
  std::multiset<std::string> sent;
  std::multiset<std::string> refused;
  for (const auto& n : notices) {
    (n.state == notify::State::kRefused ? refused : sent).insert(n.kind + " " + n.recipient);
    EXPECT_EQ(n.body.find(approval.password), std::string::npos);
  }
  const std::multiset<std::string> expected_sent = {
      "session.request biomed@chu.example", "session.request radiologie@chu.example",
      "session.start biomed@chu.example",   "session.start radiologie@chu.example",
      "session.end biomed@chu.example",     "session.end radiologie@chu.example"};
  EXPECT_EQ(sent, expected_sent);
  EXPECT_EQ(refused.size(), 3U);
  EXPECT_EQ(refused.count("session.request someone@gmail.example"), 1U);
  expect_chain_ok();
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, SessionFlowTest, ::testing::ValuesIn(vigie::testing::backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vigie::remote
