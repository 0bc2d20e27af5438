// The SMTP client against a real server (aiosmtpd) on loopback: what arrives (headers, UTF-8,
// quoted-printable, dot-stuffing), STARTTLS required and verified, AUTH only inside TLS, the
// whitelist, refusals and timeouts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify_test_support.h"
#include "vigie/notify/email.h"

namespace vigie::notify {
namespace {

using testing::Pki;
using testing::SmtpServer;
using vigie::testing::TempDir;

class SmtpTest : public ::testing::Test {
 protected:
  const Pki& relay_ = testing::suite_pki("relay");

  [[nodiscard]] std::vector<std::string> tls_args() const {
    return {"--tls-cert", relay_.server_cert.string(), "--tls-key", relay_.server_key.string()};
  }

  SmtpOptions options(const SmtpServer& server) const {
    SmtpOptions o;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.ca_file = relay_.ca_cert;
    o.from = "vigie@hospital.example";
    o.timeout = std::chrono::seconds(5);
    o.helo_name = "vigie.hospital.example";
    return o;
  }

  static MailMessage message(std::string to = "biomed@hospital.example") {
    MailMessage m;
    m.from = "vigie@hospital.example";
    m.to = std::move(to);
    m.subject = "ok";
    m.body = "ok\n";
    m.message_id = "20261126T010000000Z.0123456789abcdef.vigie@hospital.example";
    m.date = core::parse_utc("2026-11-26T01:00:00Z").value();
    return m;
  }

  static Whitelist allow_hospital() { return Whitelist::parse({"@hospital.example"}).value(); }

  // The message as Python's e-mail package reads it.
  nlohmann::json decode(int n) const {
    const auto path = dir_ / "mail" / (std::to_string(n) + ".eml");
    std::string cmd = "/usr/bin/python3 " + std::string(VIGIE_SOURCE_DIR) +
                      "/tests/notify/decode_mail.py " + path.string();
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return {};
    std::array<char, 4096> buf{};
    size_t n_read = 0;
    while ((n_read = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n_read);
    ::pclose(p);
    return nlohmann::json::parse(out, nullptr, false);
  }

  TempDir dir_;
};

TEST_F(SmtpTest, MessageArrivesOverStartTlsWithItsHeadersUtf8AndDotLines) {
  SmtpServer server(dir_ / "mail", tls_args());
  ASSERT_TRUE(server.ready());
  MailMessage m = message();
  m.subject = "Sauvegarde du PACS en retard de 3 jours — système critique «radiologie»";
  m.body =
      "La dernière sauvegarde réussie date du 2026-11-23.\n"
      ".hidden line that starts with a dot\n"
      ".\n"
      "..two dots\n"
      "trailing spaces   \n"
      "= signs = and a long line: " +
      std::string(120, 'x') + " end\n";
  m.kind = "backup.stale";
  m.severity = "warning";
  m.object = "system:12";
  auto sent = send_mail(options(server), allow_hospital(), m);
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_TRUE(sent->tls);
  EXPECT_EQ(sent->reply, "250 2.0.0 Ok: queued as 1");

  ASSERT_EQ(server.messages().size(), 1u);
  auto envelope = nlohmann::json::parse(server.envelope(1));
  EXPECT_EQ(envelope["mail_from"], "vigie@hospital.example");
  EXPECT_EQ(envelope["rcpt_tos"], nlohmann::json::array({"biomed@hospital.example"}));
  EXPECT_TRUE(envelope["tls"].get<bool>());

  auto d = decode(1);
  ASSERT_TRUE(d.is_object());
  EXPECT_TRUE(d["defects"].empty()) << d["defects"].dump();
  EXPECT_EQ(d["subject"], m.subject);
  EXPECT_EQ(d["body"], m.body);  // every dot line, the spaces and the long line intact
  EXPECT_EQ(d["charset"], "utf-8");
  const auto& h = d["headers"];
  EXPECT_EQ(h["Date"], "Thu, 26 Nov 2026 01:00:00 +0000");
  EXPECT_EQ(h["From"], "vigie@hospital.example");
  EXPECT_EQ(h["To"], "biomed@hospital.example");
  EXPECT_EQ(h["Message-ID"], "<20261126T010000000Z.0123456789abcdef.vigie@hospital.example>");
  EXPECT_EQ(h["MIME-Version"], "1.0");
  EXPECT_EQ(h["Content-Transfer-Encoding"], "quoted-printable");
  EXPECT_EQ(h["Auto-Submitted"], "auto-generated");
  EXPECT_EQ(h["X-Vigie-Kind"], "backup.stale");
  EXPECT_EQ(h["X-Vigie-Object"], "system:12");

  // On the wire: 7-bit, CRLF, no line over 78 characters.
  const std::string raw = server.messages().front();
  for (unsigned char c : raw) EXPECT_LT(c, 0x80);
  size_t start = 0;
  while (start < raw.size()) {
    size_t eol = raw.find("\r\n", start);
    ASSERT_NE(eol, std::string::npos) << "a line without CRLF";
    EXPECT_LE(eol - start, 78u) << raw.substr(start, eol - start);
    start = eol + 2;
  }
}

TEST_F(SmtpTest, AuthenticatesWithPlainInsideTls) {
  SmtpServer server(dir_ / "mail", [&] {
    auto a = tls_args();
    a.insert(a.end(), {"--auth-user", "vigie", "--auth-password", "s3cret pass"});
    return a;
  }());
  ASSERT_TRUE(server.ready());
  vigie::testing::write_file(dir_ / "password", "s3cret pass\n");
  auto o = options(server);
  o.user = "vigie";
  o.password_file = dir_ / "password";
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_TRUE(sent->authenticated);
  EXPECT_EQ(nlohmann::json::parse(server.envelope(1))["user"], "vigie");
  EXPECT_EQ(server.events(), "AUTH PLAIN vigie tls=True\nMAIL vigie@hospital.example tls=True\n");
}

TEST_F(SmtpTest, WrongPasswordIsRefusedWithoutShowingIt) {
  SmtpServer server(dir_ / "mail", [&] {
    auto a = tls_args();
    a.insert(a.end(), {"--auth-user", "vigie", "--auth-password", "right"});
    return a;
  }());
  ASSERT_TRUE(server.ready());
  vigie::testing::write_file(dir_ / "password", "wrong-Secret-42\n");
  auto o = options(server);
  o.user = "vigie";
  o.password_file = dir_ / "password";
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("refused the authentication: 535"), std::string::npos)
      << sent.error().message;
  EXPECT_EQ(sent.error().to_string().find("wrong-Secret-42"), std::string::npos);
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(SmtpTest, RequiredStartTlsNotOfferedSendsNothing) {
  SmtpServer server(dir_ / "mail");  // no certificate: no STARTTLS
  ASSERT_TRUE(server.ready());
  auto sent = send_mail(options(server), allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("does not offer STARTTLS"), std::string::npos);
  EXPECT_TRUE(server.events().empty());  // not even MAIL FROM
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(SmtpTest, WhenOfferedSendsInClearButNeverThePassword) {
  SmtpServer server(dir_ / "mail",
                    {"--auth-user", "vigie", "--auth-password", "pw", "--auth-in-clear"});
  ASSERT_TRUE(server.ready());
  vigie::testing::write_file(dir_ / "password", "pw\n");
  auto o = options(server);
  o.starttls = StartTls::kWhenOffered;
  ASSERT_TRUE(send_mail(o, allow_hospital(), message()));  // no AUTH asked: goes in clear
  EXPECT_FALSE(nlohmann::json::parse(server.envelope(1))["tls"].get<bool>());

  o.user = "vigie";
  o.password_file = dir_ / "password";
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUsage);
  EXPECT_EQ(server.events().find("AUTH"), std::string::npos) << server.events();
  EXPECT_EQ(server.messages().size(), 1u);
}

TEST_F(SmtpTest, RelayCertificateFromAnotherCaIsRefused) {
  SmtpServer server(dir_ / "mail", tls_args());
  ASSERT_TRUE(server.ready());
  auto o = options(server);
  o.ca_file = testing::suite_pki("other").ca_cert;
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("TLS handshake with the relay failed"), std::string::npos)
      << sent.error().message;
  EXPECT_TRUE(server.events().empty());
}

TEST_F(SmtpTest, RelayNameMustMatchItsCertificate) {
  const Pki& elsewhere = testing::suite_pki("elsewhere");  // a certificate for another name
  SmtpServer server(dir_ / "mail", {"--tls-cert", elsewhere.server_cert.string(), "--tls-key",
                                    elsewhere.server_key.string()});
  ASSERT_TRUE(server.ready());
  auto o = options(server);
  o.ca_file = elsewhere.ca_cert;  // a trusted CA, but its certificate names another relay
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().message.find("TLS handshake with the relay failed"), std::string::npos)
      << sent.error().message;
  EXPECT_TRUE(server.events().empty());
}

TEST_F(SmtpTest, Tls12WithoutAeadCipherIsRefused) {
  SmtpServer server(dir_ / "mail", [&] {
    auto a = tls_args();
    a.emplace_back("--tls12-cbc-only");
    return a;
  }());
  ASSERT_TRUE(server.ready());
  auto sent = send_mail(options(server), allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().message.find("TLS handshake with the relay failed"), std::string::npos)
      << sent.error().message;
  EXPECT_TRUE(server.events().empty());
}

TEST_F(SmtpTest, RecipientOutsideTheWhitelistIsRefusedBeforeConnecting) {
  SmtpServer server(dir_ / "mail", tls_args());
  ASSERT_TRUE(server.ready());
  auto sent = send_mail(options(server), allow_hospital(), message("someone@vendor.example"));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kInvalidInput);
  EXPECT_EQ(sent.error().where, "someone@vendor.example");
  EXPECT_TRUE(server.events().empty());

  EmailChannel channel(options(server), allow_hospital(), core::SystemClock{});
  Notice n;
  n.recipient = "someone@vendor.example";
  EXPECT_EQ(channel.deliver(n).outcome, Attempt::Outcome::kRefused);
  EXPECT_TRUE(server.events().empty());
}

TEST_F(SmtpTest, RecipientRefusedByTheRelayIsAPermanentFailure) {
  SmtpServer server(dir_ / "mail", [&] {
    auto a = tls_args();
    a.insert(a.end(), {"--reject-rcpt", "gone@hospital.example"});
    return a;
  }());
  ASSERT_TRUE(server.ready());
  const core::SystemClock clock;
  EmailChannel channel(options(server), allow_hospital(), clock);
  Notice n;
  n.kind = "backup.stale";
  n.subject = "s";
  n.recipient = "gone@hospital.example";
  n.message_id = "x.vigie";
  auto attempt = channel.deliver(n);
  EXPECT_EQ(attempt.outcome, Attempt::Outcome::kPermanent) << attempt.detail;
  EXPECT_NE(attempt.detail.find("550"), std::string::npos) << attempt.detail;
  EXPECT_TRUE(server.messages().empty());
}

TEST_F(SmtpTest, SilentServerTimesOut) {
  testing::Listener silent(SOCK_STREAM);  // accepts in the kernel, never answers
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = silent.port();
  o.from = "vigie@hospital.example";
  o.timeout = std::chrono::milliseconds(200);
  auto sent = send_mail(o, allow_hospital(), message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("timed out"), std::string::npos) << sent.error().message;
}

TEST_F(SmtpTest, UnreachableRelayIsTransient) {
  // A bound TCP socket that does not listen: connecting to its port is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = ntohs(a.sin_port);
  o.from = "vigie@hospital.example";
  auto sent = send_mail(o, allow_hospital(), message());
  ::close(fd);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("cannot connect"), std::string::npos) << sent.error().message;
}

}  // namespace
}  // namespace vigie::notify
