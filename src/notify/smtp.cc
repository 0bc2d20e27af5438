// The SMTP client. TLS goes through memory BIOs: OpenSSL never touches the socket, so every
// byte passes through send_all/recv_some, with their deadlines and without SIGPIPE.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "net_internal.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/core/tls.h"
#include "vigie/notify/email.h"

namespace vigie::notify {
namespace {

using core::ErrorCode;

constexpr size_t kMaxReplyLine = 4096;
constexpr size_t kMaxReplyLines = 100;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "unknown TLS error" : out;
}

// A password held for one session, wiped when done.
class Secret {
 public:
  explicit Secret(std::string text) : text_(std::move(text)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(text_.data(), text_.size()); }
  [[nodiscard]] const std::string& get() const { return text_; }

 private:
  std::string text_;
};

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // text after the code and separator
  [[nodiscard]] std::string text() const {
    return fmt::format("{} {}", code, lines.empty() ? std::string() : lines.back());
  }
};

class SmtpStream {
 public:
  SmtpStream(internal::Fd fd, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), timeout_(timeout) {}

  [[nodiscard]] bool tls() const { return ssl_ != nullptr; }

  Status start_tls(const SmtpOptions& options) {
    if (!in_.empty()) {
      // Anything after the 220 was sent in clear before the handshake: an injection attempt.
      return core::fail(ErrorCode::kUnavailable, "the relay sent data after STARTTLS's 220");
    }
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return core::fail(ErrorCode::kInternal, openssl_errors());
    VIGIE_TRY(core::apply_tls_policy(ctx_.get()));
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    if (!options.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_.get(), options.ca_file.c_str(), nullptr) != 1) {
        return core::fail(
            ErrorCode::kUsage,
            "cannot read the relay's CA file (notify.smtp_ca_file): " + openssl_errors(),
            options.ca_file.string());
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx_.get()) != 1) {
      return core::fail(ErrorCode::kInternal, "cannot load the system's CAs");
    }
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_) return core::fail(ErrorCode::kInternal, openssl_errors());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
      BIO_free(rbio);
      BIO_free(wbio);
      return core::fail(ErrorCode::kInternal, "cannot allocate TLS buffers");
    }
    SSL_set_bio(ssl_.get(), rbio, wbio);  // the SSL owns both from here
    rbio_ = rbio;
    wbio_ = wbio;
    // The relay's name must be in its certificate: an IP address as an IP SAN.
    in6_addr ip{};
    const bool is_ip = ::inet_pton(AF_INET, options.host.c_str(), &ip) == 1 ||
                       ::inet_pton(AF_INET6, options.host.c_str(), &ip) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, options.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_.get(), options.host.c_str());
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl_.get(), options.host.c_str());
    }
    SSL_set_connect_state(ssl_.get());
    const auto failed = [this](const std::string& why) {
      ssl_.reset();
      return core::fail(ErrorCode::kUnavailable, "TLS handshake with the relay failed: " + why);
    };
    for (;;) {
      ERR_clear_error();
      int rc = SSL_do_handshake(ssl_.get());
      if (auto sent = flush(); !sent) return failed(sent.error().message);
      if (rc == 1) return {};
      int err = SSL_get_error(ssl_.get(), rc);
      if (err == SSL_ERROR_WANT_READ) {
        if (auto got = fill(); !got) return failed(got.error().message);
        continue;
      }
      long verify = SSL_get_verify_result(ssl_.get());
      std::string why = verify != X509_V_OK ? std::string(X509_verify_cert_error_string(verify))
                                            : openssl_errors();
      return failed(why);
    }
  }

  Status write(std::string_view data) {
    if (!ssl_) return internal::send_all(fd_.get(), data, timeout_);
    while (!data.empty()) {
      ERR_clear_error();
      size_t written = 0;
      int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &written);
      VIGIE_TRY(flush());
      if (rc == 1) {
        data.remove_prefix(written);
        continue;
      }
      if (SSL_get_error(ssl_.get(), rc) == SSL_ERROR_WANT_READ) {
        VIGIE_TRY(fill());
        continue;
      }
      return core::fail(ErrorCode::kUnavailable, "TLS write failed: " + openssl_errors());
    }
    return {};
  }

  Result<Reply> read_reply() {
    Reply reply;
    for (;;) {
      auto line = read_line();
      if (!line) return tl::unexpected(line.error());
      const auto digit = [](char c) { return c >= '0' && c <= '9'; };
      if (line->size() < 3 || !std::all_of(line->begin(), line->begin() + 3, digit) ||
          (line->size() > 3 && (*line)[3] != ' ' && (*line)[3] != '-')) {
        return core::fail(ErrorCode::kUnavailable,
                          fmt::format("the relay's reply is not SMTP: '{}'", line->substr(0, 80)));
      }
      const int code = std::stoi(line->substr(0, 3));
      if (reply.code != 0 && code != reply.code) {
        return core::fail(ErrorCode::kUnavailable, "the relay mixed reply codes in one reply");
      }
      reply.code = code;
      reply.lines.push_back(line->size() > 4 ? line->substr(4) : std::string());
      if (line->size() == 3 || (*line)[3] == ' ') return reply;
      if (reply.lines.size() >= kMaxReplyLines) {
        return core::fail(ErrorCode::kUnavailable, "the relay's reply has too many lines");
      }
    }
  }

 private:
  // Sends what TLS has written into its buffer.
  Status flush() {
    std::array<char, 16384> buf{};
    for (;;) {
      int n = BIO_read(wbio_, buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) return {};
      VIGIE_TRY(internal::send_all(fd_.get(), {buf.data(), static_cast<size_t>(n)}, timeout_));
    }
  }

  // Reads from the socket into TLS's buffer.
  Status fill() {
    std::array<char, 16384> buf{};
    auto n = internal::recv_some(fd_.get(), buf.data(), buf.size(), timeout_);
    if (!n) return tl::unexpected(n.error());
    if (*n == 0) return core::fail(ErrorCode::kUnavailable, "the relay closed the connection");
    BIO_write(rbio_, buf.data(), static_cast<int>(*n));
    return {};
  }

  // More received text into in_.
  Status receive() {
    std::array<char, 16384> buf{};
    if (!ssl_) {
      auto n = internal::recv_some(fd_.get(), buf.data(), buf.size(), timeout_);
      if (!n) return tl::unexpected(n.error());
      if (*n == 0) return core::fail(ErrorCode::kUnavailable, "the relay closed the connection");
      in_.append(buf.data(), *n);
      return {};
    }
    for (;;) {
      ERR_clear_error();
      size_t got = 0;
      int rc = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &got);
      VIGIE_TRY(flush());
      if (rc == 1) {
        in_.append(buf.data(), got);
        return {};
      }
      int err = SSL_get_error(ssl_.get(), rc);
      if (err == SSL_ERROR_WANT_READ) {
        VIGIE_TRY(fill());
        continue;
      }
      if (err == SSL_ERROR_ZERO_RETURN) {
        return core::fail(ErrorCode::kUnavailable, "the relay closed the TLS connection");
      }
      return core::fail(ErrorCode::kUnavailable, "TLS read failed: " + openssl_errors());
    }
  }

  Result<std::string> read_line() {
    for (;;) {
      auto eol = in_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = in_.substr(0, eol);
        in_.erase(0, eol + 2);
        return line;
      }
      if (in_.size() > kMaxReplyLine) {
        return core::fail(ErrorCode::kUnavailable, "the relay's reply line is too long");
      }
      VIGIE_TRY(receive());
    }
  }

  internal::Fd fd_;
  std::chrono::milliseconds timeout_;
  std::string in_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
};

// A refusal for good (5xx) is kInvalidInput; anything else may pass later.
tl::unexpected<core::Error> refused(std::string_view step, const Reply& reply) {
  const auto code = reply.code >= 500 ? ErrorCode::kInvalidInput : ErrorCode::kUnavailable;
  return core::fail(code, fmt::format("the relay refused {}: {}", step, reply.text()));
}

class Session {
 public:
  Session(SmtpStream& stream, const SmtpOptions& options) : s_(stream), options_(options) {}

  Result<Reply> command(std::string_view line) {
    VIGIE_TRY(s_.write(std::string(line) + "\r\n"));
    return s_.read_reply();
  }

  // Sends `line` and expects `code`.
  Status expect(std::string_view line, std::string_view step, int code) {
    auto r = command(line);
    if (!r) return tl::unexpected(r.error());
    if (r->code != code) return refused(step, *r);
    return {};
  }

  Result<std::vector<std::string>> ehlo() {
    const std::string name =
        options_.helo_name.empty() ? internal::host_name() : options_.helo_name;
    auto r = command("EHLO " + name);
    if (!r) return tl::unexpected(r.error());
    if (r->code != 250) return refused("EHLO", *r);
    std::vector<std::string> extensions;
    for (size_t i = 1; i < r->lines.size(); ++i) extensions.push_back(r->lines[i]);
    return extensions;
  }

  Status authenticate(const std::vector<std::string>& extensions) {
    if (!s_.tls()) {
      return core::fail(ErrorCode::kUsage,
                        "SMTP AUTH without TLS is refused: the password would travel in clear "
                        "(set notify.smtp_starttls = \"required\")");
    }
    bool plain = false;
    bool login = false;
    for (const auto& e : extensions) {
      const std::string up = core::ascii_lower(e);
      if (!up.starts_with("auth ") && !up.starts_with("auth=")) continue;
      plain = plain || up.find(" plain") != std::string::npos;
      login = login || up.find(" login") != std::string::npos;
    }
    if (!plain && !login) {
      return core::fail(ErrorCode::kUnavailable, "the relay offers neither AUTH PLAIN nor LOGIN");
    }
    auto text = core::read_file(options_.password_file);
    if (!text) {
      return core::fail(ErrorCode::kUsage, "cannot read the SMTP password file",
                        options_.password_file.string());
    }
    Secret password(std::string(core::trim(
        std::string_view(*text).substr(0, std::string_view(*text).find_first_of("\r\n")))));
    OPENSSL_cleanse(text->data(), text->size());
    if (plain) {
      Secret token(base64(std::string(1, '\0') + options_.user + '\0' + password.get()));
      auto r = command("AUTH PLAIN " + token.get());
      if (!r) return tl::unexpected(r.error());
      if (r->code != 235) return auth_refused(*r);
      return {};
    }
    auto r = command("AUTH LOGIN");
    if (!r) return tl::unexpected(r.error());
    if (r->code != 334) return auth_refused(*r);
    r = command(base64(options_.user));
    if (!r) return tl::unexpected(r.error());
    if (r->code != 334) return auth_refused(*r);
    Secret token(base64(password.get()));
    r = command(token.get());
    if (!r) return tl::unexpected(r.error());
    if (r->code != 235) return auth_refused(*r);
    return {};
  }

 private:
  // A wrong password is not fixed by retrying at once, but by a person: still retried with
  // back-off so that the alert goes out once the configuration is repaired.
  static tl::unexpected<core::Error> auth_refused(const Reply& r) {
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("the relay refused the authentication: {}", r.text()));
  }

  SmtpStream& s_;
  const SmtpOptions& options_;
};

bool offers(const std::vector<std::string>& extensions, std::string_view name) {
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) {
    const std::string low = core::ascii_lower(e);
    return low == name || low.starts_with(std::string(name) + " ");
  });
}

}  // namespace

Result<SmtpReceipt> send_mail(const SmtpOptions& options, const Whitelist& whitelist,
                              const MailMessage& message) {
  VIGIE_TRY(check_address(message.from));
  VIGIE_TRY(check_address(message.to));
  if (!whitelist.allows(message.to)) {
    return core::fail(ErrorCode::kInvalidInput, "recipient not on notify.email_allowed",
                      message.to);
  }
  auto fd = internal::connect_tcp(options.host, options.port, options.timeout);
  if (!fd) return tl::unexpected(fd.error());
  SmtpStream stream(std::move(*fd), options.timeout);
  Session session(stream, options);
  SmtpReceipt receipt;

  auto greeting = stream.read_reply();
  if (!greeting) return tl::unexpected(greeting.error());
  if (greeting->code != 220) return refused("the connection", *greeting);
  auto extensions = session.ehlo();
  if (!extensions) return tl::unexpected(extensions.error());

  if (options.starttls != StartTls::kOff && offers(*extensions, "starttls")) {
    VIGIE_TRY(session.expect("STARTTLS", "STARTTLS", 220));
    VIGIE_TRY(stream.start_tls(options));
    receipt.tls = true;
    extensions = session.ehlo();  // RFC 3207: forget what was said in clear
    if (!extensions) return tl::unexpected(extensions.error());
  } else if (options.starttls == StartTls::kRequired) {
    (void)session.command("QUIT");
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("the relay {}:{} does not offer STARTTLS, which "
                                  "notify.smtp_starttls requires; nothing was sent",
                                  options.host, options.port));
  }
  if (!options.user.empty()) {
    VIGIE_TRY(session.authenticate(*extensions));
    receipt.authenticated = true;
  }
  VIGIE_TRY(session.expect("MAIL FROM:<" + message.from + ">", "the sender", 250));
  auto rcpt = session.command("RCPT TO:<" + message.to + ">");
  if (!rcpt) return tl::unexpected(rcpt.error());
  if (rcpt->code != 250 && rcpt->code != 251) return refused("the recipient", *rcpt);
  VIGIE_TRY(session.expect("DATA", "DATA", 354));
  VIGIE_TRY(stream.write(dot_stuff(format_message(message))));
  auto done = stream.read_reply();
  if (!done) return tl::unexpected(done.error());
  if (done->code != 250) return refused("the message", *done);
  receipt.reply = done->text();
  (void)session.command("QUIT");  // the message is accepted whatever QUIT gets
  return receipt;
}

Attempt EmailChannel::deliver(const Notice& notice) {
  if (!whitelist_.allows(notice.recipient)) {
    return {Attempt::Outcome::kRefused, "recipient not on notify.email_allowed"};
  }
  MailMessage m;
  m.from = options_.from;
  m.to = notice.recipient;
  m.subject = notice.subject;
  m.body = notice.body;
  const std::string domain = options_.from.substr(options_.from.rfind('@') + 1);
  m.message_id = notice.message_id + "@" + domain;
  m.date = clock_.now();
  m.kind = notice.kind;
  m.severity = std::string(to_string(notice.severity));
  m.object = notice.object;
  auto sent = send_mail(options_, whitelist_, m);
  if (sent) return {Attempt::Outcome::kDelivered, sent->reply};
  const bool permanent = sent.error().code == ErrorCode::kInvalidInput;
  return {permanent ? Attempt::Outcome::kPermanent : Attempt::Outcome::kRetry,
          sent.error().to_string()};
}

}  // namespace vigie::notify
