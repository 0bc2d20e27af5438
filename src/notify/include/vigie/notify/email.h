// E-mail: the recipients' whitelist, the message (RFC 5322 headers, MIME UTF-8 text in
// quoted-printable) and a small SMTP client (RFC 5321) with STARTTLS (RFC 3207), AUTH PLAIN or
// LOGIN only inside TLS (RFC 4954), dot-stuffing and timeouts. Blocking: call it from a worker
// thread or a command, never from an I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/notify/notice.h"

namespace vigie::notify {

using core::Result;
using core::Status;

// An address Vigie accepts to write into an envelope and a header: local@domain, ASCII,
// dot-atom local part, a host name or [address literal] domain, at most 254 characters.
// Anything else (spaces, CR/LF, quotes, brackets...) is refused: no header injection.
Status check_address(std::string_view address);

// notify.email_allowed: exact addresses, or "@domain" for every address of that domain (not
// of its subdomains). Domains compare case-insensitively, local parts exactly.
class Whitelist {
 public:
  Whitelist() = default;
  static Result<Whitelist> parse(const std::vector<std::string>& entries);
  [[nodiscard]] bool allows(std::string_view address) const;
  [[nodiscard]] bool empty() const { return addresses_.empty() && domains_.empty(); }

 private:
  std::vector<std::string> addresses_;  // domain part lower-cased
  std::vector<std::string> domains_;    // lower-cased, without '@'
};

struct MailMessage {
  std::string from;
  std::string to;
  std::string subject;     // one line of UTF-8
  std::string body;        // UTF-8 text, any line ending
  std::string message_id;  // without angle brackets: "left@right"
  core::TimePoint date;
  std::string kind;      // X-Vigie-Kind
  std::string severity;  // X-Vigie-Severity
  std::string object;    // X-Vigie-Object
};

// The message as sent in DATA (before dot-stuffing): CRLF line endings, 7-bit clean.
std::string format_message(const MailMessage& message);

// RFC 5322 date-time in UTC: "Thu, 26 Nov 2026 01:00:00 +0000".
std::string rfc5322_date(core::TimePoint t);
// RFC 2045 quoted-printable with CRLF hard breaks and lines of at most 76 characters.
std::string quoted_printable(std::string_view text);
// RFC 2047 encoded-words (UTF-8, base64) when the text is not plain short ASCII; folded.
std::string encode_header_text(std::string_view text, size_t first_line_used);
// RFC 5321 4.5.2: a line starting with '.' gets another; appends the final CRLF.CRLF.
std::string dot_stuff(std::string_view message);

enum class StartTls { kRequired, kWhenOffered, kOff };

struct SmtpOptions {
  std::string host;
  std::uint16_t port = 587;
  StartTls starttls = StartTls::kRequired;
  std::filesystem::path ca_file;  // empty: the system's CAs
  std::string user;               // empty: no AUTH
  std::filesystem::path password_file;
  std::string from;
  std::chrono::milliseconds timeout{30000};
  std::string helo_name;  // empty: this host's name
};

struct SmtpReceipt {
  std::string reply;  // the relay's answer to the end of DATA, e.g. "250 2.0.0 Ok: queued"
  bool tls = false;
  bool authenticated = false;
};

// Sends one message to one recipient. The recipient must be allowed by `whitelist`
// (kInvalidInput otherwise, nothing is connected). Errors: kInvalidInput when the relay
// refused for good (5xx to MAIL, RCPT or DATA), kUnavailable for what may pass (unreachable,
// timeout, 4xx, STARTTLS missing or TLS refused, AUTH refused), kUsage for a configuration
// that cannot work (AUTH without TLS). The password is read from its file at each call and
// never appears in an error.
Result<SmtpReceipt> send_mail(const SmtpOptions& options, const Whitelist& whitelist,
                              const MailMessage& message);

// The e-mail channel of the outbox: one SMTP session per notice.
class EmailChannel final : public Channel {
 public:
  EmailChannel(SmtpOptions options, Whitelist whitelist, const core::Clock& clock)
      : options_(std::move(options)), whitelist_(std::move(whitelist)), clock_(clock) {}
  Attempt deliver(const Notice& notice) override;

 private:
  SmtpOptions options_;
  Whitelist whitelist_;
  const core::Clock& clock_;
};

}  // namespace vigie::notify
