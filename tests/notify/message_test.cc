// What needs no network: addresses and the whitelist, the message's encodings (quoted-printable,
// RFC 2047 words, dot-stuffing), message checks, back-off, and settings from the configuration.
#include <gtest/gtest.h>

#include "vigie/core/config.h"
#include "vigie/notify/email.h"
#include "vigie/notify/outbox.h"
#include "vigie/notify/settings.h"

namespace vigie::notify {
namespace {

TEST(Address, AcceptsPlainAddressesAndRefusesInjection) {
  for (const char* ok : {"biomed@hospital.example", "it.security+alerts@chu-lyon.fr",
                         "a@[192.0.2.1]", "root@localhost"}) {
    EXPECT_TRUE(check_address(ok)) << ok;
  }
  for (const char* bad :
       {"", "biomed", "@hospital.example", "biomed@", "a b@x.org", "a@x.org\r\nBcc: e@evil.org",
        "\"quoted\"@x.org", "a@x.org>", "<a@x.org", "a..b@x.org", ".a@x.org", "a@-x.org",
        "a@x..org", "é@x.org", "a@b@c.org"}) {
    EXPECT_FALSE(check_address(bad)) << bad;
  }
  EXPECT_FALSE(check_address(std::string(250, 'a') + "@x.org"));
}

TEST(Whitelist, ExactAddressesAndWholeDomainsOnly) {
  auto w = Whitelist::parse({"biomed@hospital.example", "@it.hospital.example"});
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_TRUE(w->allows("biomed@hospital.example"));
  EXPECT_TRUE(w->allows("biomed@HOSPITAL.example"));   // domains compare without case
  EXPECT_FALSE(w->allows("Biomed@hospital.example"));  // local parts exactly
  EXPECT_FALSE(w->allows("other@hospital.example"));
  EXPECT_TRUE(w->allows("anyone@it.hospital.example"));
  EXPECT_FALSE(w->allows("anyone@sub.it.hospital.example"));  // not subdomains
  EXPECT_FALSE(w->allows("anyone@evil-it.hospital.example.attacker.org"));
  EXPECT_FALSE(w->allows("biomed@hospital.example\r\nBcc: x@y.org"));
  EXPECT_FALSE(Whitelist().allows("biomed@hospital.example"));  // empty: nobody

  auto bad = Whitelist::parse({"@"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, "notify.email_allowed: @");
}

TEST(Mime, QuotedPrintableKeepsLinesShortAndEncodesWhatMust) {
  EXPECT_EQ(quoted_printable("plain"), "plain");
  EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(quoted_printable("é"), "=C3=A9");
  EXPECT_EQ(quoted_printable("end  \nnext"), "end =20\r\nnext");  // trailing space encoded
  EXPECT_EQ(quoted_printable("a\r\nb\rc"), "a\r\nb\r\nc");
  EXPECT_EQ(quoted_printable(".dot"), ".dot");  // dot-stuffing handles it, in SMTP
  const std::string long_line = quoted_printable(std::string(200, 'x'));
  EXPECT_EQ(long_line,
            std::string(75, 'x') + "=\r\n" + std::string(75, 'x') + "=\r\n" + std::string(50, 'x'));
  // An =XX triplet is never split by a soft break.
  const std::string accents = quoted_printable(std::string(30, 'a') + std::string(20, '\xe9'));
  for (size_t pos = 0, eol = 0; (eol = accents.find("\r\n", pos)) != std::string::npos;
       pos = eol + 2) {
    EXPECT_LE(eol - pos, 76u);
    EXPECT_EQ(accents[eol - 1], '=');
  }
}

TEST(Mime, HeaderTextIsEncodedWordsWhenNotShortAscii) {
  EXPECT_EQ(encode_header_text("Backup overdue", 9), "Backup overdue");
  EXPECT_EQ(encode_header_text("Sauvegarde réussie", 9),
            "=?UTF-8?B?U2F1dmVnYXJkZSByw6l1c3NpZQ==?=");
  // Long text: several words, folded, none splitting a UTF-8 character.
  const std::string folded = encode_header_text(std::string(60, 'e') + "éééé", 9);
  EXPECT_NE(folded.find("?=\r\n =?UTF-8?B?"), std::string::npos);
}

TEST(Mime, DotStuffingDoublesLeadingDotsAndTerminates) {
  EXPECT_EQ(dot_stuff("a\r\n.b\r\n.\r\n..c\r\n"), "a\r\n..b\r\n..\r\n...c\r\n.\r\n");
  EXPECT_EQ(dot_stuff(".x"), "..x\r\n.\r\n");
}

TEST(Mime, DateIsRfc5322InUtc) {
  EXPECT_EQ(rfc5322_date(core::parse_utc("2026-11-26T01:02:03Z").value()),
            "Thu, 26 Nov 2026 01:02:03 +0000");
  EXPECT_EQ(rfc5322_date(core::parse_utc("2024-02-29T23:59:59+02:00").value()),
            "Thu, 29 Feb 2024 21:59:59 +0000");
}

TEST(Outbox, MessagesAreCheckedBeforeQueueing) {
  Message m{"backup.stale", Severity::kWarning, "system:12", "PACS backup late", "body"};
  EXPECT_TRUE(check_message(m));
  auto with = [&](auto change) {
    Message c = m;
    change(c);
    return check_message(c);
  };
  EXPECT_EQ(with([](Message& c) { c.kind = "Backup Stale"; }).error().where, "kind");
  EXPECT_EQ(with([](Message& c) { c.kind = std::string(33, 'a'); }).error().where, "kind");
  EXPECT_EQ(with([](Message& c) { c.subject = "two\r\nlines"; }).error().where, "subject");
  EXPECT_EQ(with([](Message& c) { c.subject = ""; }).error().where, "subject");
  EXPECT_EQ(with([](Message& c) { c.subject = "bad \xff utf-8"; }).error().where, "subject");
  EXPECT_EQ(with([](Message& c) { c.object = "line\nbreak"; }).error().where, "object");
  EXPECT_EQ(with([](Message& c) { c.body = std::string(70000, 'x'); }).error().where, "body");
  EXPECT_TRUE(with([](Message& c) { c.body = "multi\nline\r\nbody\twith tab"; }));
}

TEST(Outbox, BackoffDoublesUpToTheMaximum) {
  RetryPolicy p;
  p.base = std::chrono::seconds(60);
  p.max = std::chrono::seconds(600);
  EXPECT_EQ(backoff(p, 1).count(), 60);
  EXPECT_EQ(backoff(p, 2).count(), 120);
  EXPECT_EQ(backoff(p, 4).count(), 480);
  EXPECT_EQ(backoff(p, 5).count(), 600);
  EXPECT_EQ(backoff(p, 90).count(), 600);
}

TEST(Settings, ComeFromTheNotifyKeys) {
  auto c = core::parse_config(R"(
[notify]
smtp_host = "relay.hospital.example"
smtp_port = 25
smtp_starttls = "when-offered"
smtp_ca_file = "tls/relay-ca.pem"
smtp_user = "vigie"
smtp_password_file = "/etc/vigie/smtp.pass"
smtp_from = "vigie@hospital.example"
smtp_timeout_seconds = 10
email_allowed = ["biomed@hospital.example", "@it.hospital.example"]
email_to = ["biomed@hospital.example"]
syslog = "tcp://siem.hospital.example:6514"
syslog_facility = "local3"
retry_max_attempts = 5
retry_base_seconds = 30
retry_max_seconds = 900
)",
                              "vigie.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  auto s = Settings::from(*c, "/var/lib/vigie");
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE(s->smtp);
  EXPECT_EQ(s->smtp->host, "relay.hospital.example");
  EXPECT_EQ(s->smtp->port, 25);
  EXPECT_EQ(s->smtp->starttls, StartTls::kWhenOffered);
  EXPECT_EQ(s->smtp->ca_file, "/var/lib/vigie/tls/relay-ca.pem");
  EXPECT_EQ(s->smtp->password_file, "/etc/vigie/smtp.pass");
  EXPECT_EQ(s->smtp->timeout, std::chrono::seconds(10));
  EXPECT_TRUE(s->whitelist.allows("x@it.hospital.example"));
  EXPECT_EQ(s->email_to, std::vector<std::string>{"biomed@hospital.example"});
  ASSERT_TRUE(s->syslog);
  EXPECT_EQ(s->syslog->target.transport, SyslogTarget::Transport::kTcp);
  EXPECT_EQ(s->syslog->target.port, 6514);
  EXPECT_EQ(s->syslog->facility, 19);
  EXPECT_EQ(s->retry.max_attempts, 5);
  EXPECT_EQ(s->retry.base, std::chrono::seconds(30));

  auto defaults = Settings::from(core::parse_config("", "v.toml").value(), "/h");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->smtp);
  EXPECT_FALSE(defaults->syslog);
  EXPECT_TRUE(defaults->whitelist.empty());
}

TEST(Settings, BadValuesAreRefusedWithTheirPlace) {
  auto bad_type = core::parse_config("[notify]\nemail_allowed = \"a@b.org\"\n", "v.toml");
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().where, "v.toml:2:17");
  auto bad_address = core::parse_config("[notify]\nemail_to = [\"not an address\"]\n", "v.toml");
  ASSERT_FALSE(bad_address);
  EXPECT_NE(bad_address.error().message.find("'not an address'"), std::string::npos);
  EXPECT_FALSE(core::parse_config("[notify]\nsmtp_starttls = \"maybe\"\n", "v.toml"));
  EXPECT_FALSE(core::parse_config("[notify]\nsyslog = \"siem:514\"\n", "v.toml"));
  EXPECT_FALSE(core::parse_config("[notify]\nsmtp_port = 0\n", "v.toml"));

  auto no_sender = Settings::from(
      core::parse_config("[notify]\nsmtp_host = \"relay\"\n", "v.toml").value(), "/h");
  ASSERT_FALSE(no_sender);
  EXPECT_EQ(no_sender.error().where, "notify.smtp_from");
  auto backwards = Settings::from(
      core::parse_config("[notify]\nretry_base_seconds = 600\nretry_max_seconds = 60\n", "v.toml")
          .value(),
      "/h");
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().where, "notify.retry_max_seconds");
}

}  // namespace
}  // namespace vigie::notify
