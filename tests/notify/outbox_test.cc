// The outbox on both back-ends, with real channels (an SMTP server, a TCP syslog collector):
// queued in the caller's transaction, delivered once, retried with back-off while the relay is
// down, given up after the last attempt, whitelist refusals stored and audited, a notice held
// by one deliverer not taken by another, and kill -9 at either side of a delivery.
#include "vigie/notify/outbox.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "notify_test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/notify/syslog.h"

namespace vigie::notify {
namespace {

using testing::Listener;
using testing::Pki;
using testing::SmtpServer;
using vigie::testing::TempDir;

const core::TimePoint kT0 = core::parse_utc("2026-11-26T08:00:00Z").value();

Message alert(std::string subject = "PACS: last good backup is 3 days old") {
  return {"backup.stale", Severity::kWarning, "system:12", std::move(subject),
          "RPO 24 h; last good backup 2026-11-23."};
}

// A real channel, with something done after each delivery (a second deliverer, a crash).
class Hooked final : public Channel {
 public:
  Hooked(Channel& real, std::function<void()> after) : real_(real), after_(std::move(after)) {}
  Attempt deliver(const Notice& n) override {
    Attempt a = real_.deliver(n);
    after_();
    return a;
  }

 private:
  Channel& real_;
  std::function<void()> after_;
};

// A TCP port on 127.0.0.1 that refuses connections (bound, not listening).
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() { ::close(fd_); }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

class OutboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = vigie::testing::fresh_store_url(GetParam(), dir_);
    auto s = store::Store::open(url_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
  }

  SyslogOptions tcp_syslog(std::uint16_t port) const {
    SyslogOptions o;
    o.target.transport = SyslogTarget::Transport::kTcp;
    o.target.host = "127.0.0.1";
    o.target.port = port;
    o.hostname = "vigie-host";
    o.procid = "1";
    o.timeout = std::chrono::seconds(2);
    return o;
  }

  SmtpOptions smtp(std::uint16_t port) const {
    SmtpOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.ca_file = testing::suite_pki("relay").ca_cert;
    o.from = "vigie@hospital.example";
    o.timeout = std::chrono::seconds(5);
    return o;
  }
  std::vector<std::string> tls_args() const {
    const Pki& pki = testing::suite_pki("relay");
    return {"--tls-cert", pki.server_cert.string(), "--tls-key", pki.server_key.string()};
  }

  std::int64_t queue_syslog(const Message& m = alert()) {
    auto tx = store::Transaction::begin(*store_);
    EXPECT_TRUE(tx);
    auto id = enqueue_syslog(*store_, m, {"biomed", "cli"}, kT0);
    EXPECT_TRUE(id) << id.error().to_string();
    EXPECT_TRUE(tx->commit());
    return id ? *id : 0;
  }

  Queued queue_email(const std::vector<std::string>& to, const Whitelist& w) {
    auto tx = store::Transaction::begin(*store_);
    EXPECT_TRUE(tx);
    auto q = enqueue_email(*store_, w, alert(), to, {"system", "vigied"}, kT0);
    EXPECT_TRUE(q) << q.error().to_string();
    EXPECT_TRUE(tx->commit());
    return q ? *q : Queued{};
  }

  Notice notice(std::int64_t id) { return get_notice(*store_, id).value(); }

  // The audit actions about one notice, in order.
  std::vector<std::string> audit_actions(std::int64_t id) {
    std::vector<std::string> out;
    auto rows = store_->query("SELECT action FROM audit_log WHERE object = ? ORDER BY id",
                              std::vector<store::Value>{"notice:" + std::to_string(id)});
    EXPECT_TRUE(rows);
    for (const auto& r : *rows) out.push_back(r.text(0));
    return out;
  }

  static Whitelist hospital() { return Whitelist::parse({"@hospital.example"}).value(); }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{kT0};
};

TEST_P(OutboxTest, QueuedOnlyIfTheCallersTransactionCommits) {
  {
    auto tx = store::Transaction::begin(*store_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(enqueue_syslog(*store_, alert(), {}, kT0));
    ASSERT_TRUE(enqueue_email(*store_, hospital(), alert(),
                              std::vector<std::string>{"a@hospital.example"}, {}, kT0));
  }  // rolled back
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM notify_outbox").value(), 0);
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM audit_log").value(), 0);
}

TEST_P(OutboxTest, DeliveredOnceAndNeverAgain) {
  Listener collector(SOCK_STREAM);
  auto channel = std::make_unique<SyslogChannel>(tcp_syslog(collector.port()), clock_);
  SyslogChannel& syslog = *channel;
  const auto id = queue_syslog();
  auto first = deliver_pending(*store_, {nullptr, &syslog}, kT0);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->delivered, 1);
  EXPECT_EQ(first->attempted, std::vector<std::int64_t>{id});
  for (auto later : {kT0, kT0 + std::chrono::hours(1), kT0 + std::chrono::days(30)}) {
    auto again = deliver_pending(*store_, {nullptr, &syslog}, later);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->attempted.empty());
  }
  const Notice n = notice(id);
  EXPECT_EQ(n.state, State::kDelivered);
  EXPECT_EQ(n.attempts, 1);
  EXPECT_EQ(n.delivered_at, "2026-11-26T08:00:00.000Z");
  EXPECT_TRUE(n.last_error.empty());

  channel.reset();  // closes its connection: the collector reads to the end
  const int conn = ::accept(collector.fd(), nullptr, nullptr);
  ASSERT_GE(conn, 0);
  const std::string got = testing::read_stream(conn, 1 << 16);
  ::close(conn);
  EXPECT_EQ(std::count(got.begin(), got.end(), '<'), 1) << got;  // one frame, one PRI

  EXPECT_EQ(audit_actions(id), (std::vector<std::string>{"notify.queued", "notify.delivered"}));
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_P(OutboxTest, RelayDownThenUpIsRetriedWithBackoffAndDeliveredOnce) {
  std::uint16_t port = 0;
  {
    SmtpServer probe(dir_ / "probe");  // a free port, then nobody on it
    ASSERT_TRUE(probe.ready());
    port = probe.port();
  }
  EmailChannel email(smtp(port), hospital(), clock_);
  const auto id = queue_email({"biomed@hospital.example"}, hospital()).ids.at(0);
  RetryPolicy policy;  // 60 s, doubling

  auto down = deliver_pending(*store_, {&email, nullptr}, kT0, policy);
  ASSERT_TRUE(down) << down.error().to_string();
  EXPECT_EQ(down->retried, 1);
  Notice n = notice(id);
  EXPECT_EQ(n.state, State::kPending);
  EXPECT_EQ(n.attempts, 1);
  EXPECT_EQ(n.next_attempt_at, "2026-11-26T08:01:00.000Z");
  EXPECT_NE(n.last_error.find("cannot connect"), std::string::npos) << n.last_error;

  // Not due yet: nothing tried.
  auto early = deliver_pending(*store_, {&email, nullptr}, kT0 + std::chrono::seconds(59), policy);
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->attempted.empty());

  SmtpServer relay(dir_ / "mail", tls_args(), port);
  ASSERT_TRUE(relay.ready());
  auto up = deliver_pending(*store_, {&email, nullptr}, kT0 + std::chrono::seconds(60), policy);
  ASSERT_TRUE(up) << up.error().to_string();
  EXPECT_EQ(up->delivered, 1);
  auto after = deliver_pending(*store_, {&email, nullptr}, kT0 + std::chrono::days(1), policy);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->attempted.empty());

  n = notice(id);
  EXPECT_EQ(n.state, State::kDelivered);
  EXPECT_EQ(n.attempts, 2);
  ASSERT_EQ(relay.messages().size(), 1u);
  EXPECT_NE(relay.messages()[0].find("Message-ID: <" + n.message_id + "@hospital.example>"),
            std::string::npos);
  EXPECT_EQ(audit_actions(id),
            (std::vector<std::string>{"notify.queued", "notify.retry", "notify.delivered"}));
}

TEST_P(OutboxTest, GivesUpAfterTheLastAttempt) {
  RefusingPort nobody;
  SyslogChannel syslog(tcp_syslog(nobody.port()), clock_);
  const auto id = queue_syslog();
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.base = std::chrono::seconds(10);
  auto at = kT0;
  for (std::int64_t attempt = 1; attempt <= 3; ++attempt) {
    auto r = deliver_pending(*store_, {nullptr, &syslog}, at, policy);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->attempted.size(), 1u);
    EXPECT_EQ(notice(id).attempts, attempt);
    at += backoff(policy, attempt);
  }
  const Notice n = notice(id);
  EXPECT_EQ(n.state, State::kFailed);
  EXPECT_NE(n.last_error.find("cannot connect"), std::string::npos);
  auto later = deliver_pending(*store_, {nullptr, &syslog}, at + std::chrono::days(1), policy);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->attempted.empty());
  EXPECT_EQ(audit_actions(id), (std::vector<std::string>{"notify.queued", "notify.retry",
                                                         "notify.retry", "notify.failed"}));
}

TEST_P(OutboxTest, RecipientOffTheWhitelistIsStoredRefusedAuditedAndNeverSent) {
  SmtpServer relay(dir_ / "mail", tls_args());
  ASSERT_TRUE(relay.ready());
  const Whitelist w = hospital();
  auto q = queue_email({"biomed@hospital.example", "support@vendor.example"}, w);
  ASSERT_EQ(q.ids.size(), 1u);
  EXPECT_EQ(q.refused, std::vector<std::string>{"support@vendor.example"});
  auto rows = store_->query("SELECT id, state, last_error FROM notify_outbox WHERE recipient = ?",
                            std::vector<store::Value>{std::string("support@vendor.example")});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(1), "refused");
  const auto refused_id = rows->front().integer(0);
  EXPECT_EQ(audit_actions(refused_id), std::vector<std::string>{"notify.refused"});
  auto details = store_->query("SELECT details FROM audit_log WHERE object = ?",
                               std::vector<store::Value>{"notice:" + std::to_string(refused_id)});
  ASSERT_TRUE(details);
  auto j = nlohmann::json::parse(details->front().text(0));
  EXPECT_EQ(j["recipient"], "support@vendor.example");
  EXPECT_FALSE(j.contains("body"));

  EmailChannel email(smtp(relay.port()), w, clock_);
  auto r = deliver_pending(*store_, {&email, nullptr}, kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->delivered, 1);
  ASSERT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(relay.envelope(1))["rcpt_tos"],
            nlohmann::json::array({"biomed@hospital.example"}));
}

TEST_P(OutboxTest, RecipientDroppedFromTheWhitelistBeforeDeliveryIsRefused) {
  SmtpServer relay(dir_ / "mail", tls_args());
  ASSERT_TRUE(relay.ready());
  const auto id = queue_email({"biomed@hospital.example"}, hospital()).ids.at(0);
  EmailChannel email(smtp(relay.port()), Whitelist::parse({"it@hospital.example"}).value(), clock_);
  auto r = deliver_pending(*store_, {&email, nullptr}, kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->refused, 1);
  EXPECT_EQ(notice(id).state, State::kRefused);
  EXPECT_TRUE(relay.events().empty());
  EXPECT_EQ(audit_actions(id), (std::vector<std::string>{"notify.queued", "notify.refused"}));
}

TEST_P(OutboxTest, NoticeHeldByOneDelivererIsNotTakenByAnother) {
  Listener collector(SOCK_STREAM);
  SyslogChannel syslog(tcp_syslog(collector.port()), clock_);
  queue_syslog();
  auto second_store = store::Store::open(url_);
  ASSERT_TRUE(second_store);
  std::vector<std::int64_t> second_attempted;
  // While the first deliverer is sending, a second one (vigied and a cron job) runs.
  Hooked racing(syslog, [&] {
    auto r = deliver_pending(**second_store, {nullptr, &syslog}, kT0);
    ASSERT_TRUE(r) << r.error().to_string();
    second_attempted = r->attempted;
  });
  auto first = deliver_pending(*store_, {nullptr, &racing}, kT0);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->delivered, 1);
  EXPECT_TRUE(second_attempted.empty());
}

TEST_P(OutboxTest, KilledAfterQueueingLosesNothing) {
  Listener collector(SOCK_DGRAM);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = store::Store::open(url_);
    if (!s) ::_exit(2);
    auto tx = store::Transaction::begin(**s);
    if (!tx || !enqueue_syslog(**s, alert(), {}, kT0) || !tx->commit()) ::_exit(3);
    ::raise(SIGKILL);  // before any delivery
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  SyslogOptions o = tcp_syslog(collector.port());
  o.target.transport = SyslogTarget::Transport::kUdp;
  SyslogChannel syslog(o, clock_);
  auto r = deliver_pending(*store_, {nullptr, &syslog}, kT0);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->delivered, 1);
  EXPECT_NE(collector.receive().find("PACS: last good backup"), std::string::npos);
}

TEST_P(OutboxTest, KilledBetweenSendAndRecordSendsAgainAfterTheLeaseWithTheSameMessageId) {
  SmtpServer relay(dir_ / "mail", tls_args());
  ASSERT_TRUE(relay.ready());
  const auto id = queue_email({"biomed@hospital.example"}, hospital()).ids.at(0);
  RetryPolicy policy;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = store::Store::open(url_);
    if (!s) ::_exit(2);
    EmailChannel email(smtp(relay.port()), hospital(), clock_);
    Hooked crash(email, [] { ::raise(SIGKILL); });  // the relay has it, the row does not say so
    (void)deliver_pending(**s, {&crash, nullptr}, kT0, policy);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(notice(id).state, State::kPending);
  EXPECT_EQ(notice(id).attempts, 1);

  EmailChannel email(smtp(relay.port()), hospital(), clock_);
  auto leased = deliver_pending(*store_, {&email, nullptr},
                                kT0 + policy.lease - std::chrono::seconds(1), policy);
  ASSERT_TRUE(leased);
  EXPECT_TRUE(leased->attempted.empty());  // still held by the dead deliverer's lease
  auto r = deliver_pending(*store_, {&email, nullptr}, kT0 + policy.lease, policy);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->delivered, 1);
  auto messages = relay.messages();
  ASSERT_EQ(messages.size(), 2u);
  const std::string mid = "Message-ID: <" + notice(id).message_id + "@hospital.example>";
  EXPECT_NE(messages[0].find(mid), std::string::npos);
  EXPECT_NE(messages[1].find(mid), std::string::npos);
}

TEST_P(OutboxTest, ListsUndeliveredNewestFirst) {
  Listener collector(SOCK_DGRAM);
  SyslogOptions o = tcp_syslog(collector.port());
  o.target.transport = SyslogTarget::Transport::kUdp;
  SyslogChannel syslog(o, clock_);
  const auto a = queue_syslog(alert("first"));
  ASSERT_TRUE(deliver_pending(*store_, {nullptr, &syslog}, kT0));
  const auto b = queue_syslog(alert("second"));
  const auto c = queue_email({"x@vendor.example"}, hospital());
  auto pending = list_notices(*store_, {});
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ(pending->at(0).recipient, "x@vendor.example");
  EXPECT_EQ(pending->at(0).state, State::kRefused);
  EXPECT_EQ(pending->at(1).id, b);
  auto all = list_notices(*store_, {true, 10});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->back().id, a);
  EXPECT_TRUE(c.ids.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::notify
