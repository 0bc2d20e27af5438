// Addresses, the whitelist and the message text: everything e-mail that needs no network.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "vigie/core/text.h"
#include "vigie/notify/email.h"

namespace vigie::notify {
namespace {

using core::ErrorCode;

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return false;
  }
  if (local.find("..") != std::string_view::npos) return false;
  return std::all_of(local.begin(), local.end(), [](char c) { return c == '.' || is_atext(c); });
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  if (domain.front() == '[') {  // address literal: [192.0.2.1], [IPv6:2001:db8::1]
    if (domain.back() != ']' || domain.size() < 3) return false;
    auto inside = domain.substr(1, domain.size() - 2);
    return std::all_of(inside.begin(), inside.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':' ||
             c == 'I' || c == 'P' || c == 'v';
    });
  }
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    auto label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    bool ok = std::all_of(label.begin(), label.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
    });
    if (!ok) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// Address with its domain lower-cased (local parts are compared exactly).
std::string canonical(std::string_view address) {
  auto at = address.rfind('@');
  return std::string(address.substr(0, at + 1)) + core::ascii_lower(address.substr(at + 1));
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Length of the UTF-8 sequence its lead byte starts (1 for anything else).
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

constexpr size_t kQpLine = 75;  // characters before a soft break's '=' (76 in all)

void qp_line(std::string_view line, std::string& out) {
  size_t column = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    // Spaces and tabs stay literal except at the end of a line, where transports drop them.
    const bool literal = ((c == ' ' || c == '\t') && !last) || (c >= 33 && c <= 126 && c != '=');
    const std::string token =
        literal ? std::string(1, static_cast<char>(c)) : fmt::format("={:02X}", c);
    if (column + token.size() > kQpLine) {
      out += "=\r\n";
      column = 0;
    }
    out += token;
    column += token.size();
  }
}

}  // namespace

Status check_address(std::string_view address) {
  if (address.size() > 254) {
    return core::fail(ErrorCode::kInvalidInput, "an e-mail address is at most 254 characters",
                      std::string(address.substr(0, 40)) + "...");
  }
  auto at = address.rfind('@');
  if (at == std::string_view::npos || !valid_local_part(address.substr(0, at)) ||
      !valid_domain(address.substr(at + 1))) {
    return core::fail(ErrorCode::kInvalidInput,
                      "not an e-mail address Vigie sends to (local@domain, ASCII, no spaces, "
                      "quotes or line breaks)",
                      std::string(address));
  }
  return {};
}

Result<Whitelist> Whitelist::parse(const std::vector<std::string>& entries) {
  Whitelist w;
  for (const auto& e : entries) {
    if (e.starts_with("@")) {
      if (!valid_domain(e.substr(1))) {
        return core::fail(ErrorCode::kInvalidInput, "not a domain", "notify.email_allowed: " + e);
      }
      w.domains_.push_back(core::ascii_lower(e.substr(1)));
      continue;
    }
    if (auto st = check_address(e); !st) {
      return core::fail(ErrorCode::kInvalidInput, st.error().message, "notify.email_allowed: " + e);
    }
    w.addresses_.push_back(canonical(e));
  }
  return w;
}

bool Whitelist::allows(std::string_view address) const {
  if (!check_address(address)) return false;
  const std::string c = canonical(address);
  if (std::find(addresses_.begin(), addresses_.end(), c) != addresses_.end()) return true;
  const std::string domain = c.substr(c.rfind('@') + 1);
  return std::find(domains_.begin(), domains_.end(), domain) != domains_.end();
}

std::string rfc5322_date(core::TimePoint t) {
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::seconds>(t - day));
  const std::chrono::weekday wd(day);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays.at(wd.c_encoding()),
                     static_cast<unsigned>(ymd.day()),
                     kMonths.at(static_cast<unsigned>(ymd.month()) - 1),
                     static_cast<int>(ymd.year()), hms.hours().count(), hms.minutes().count(),
                     hms.seconds().count());
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    qp_line(text.substr(start, end == std::string_view::npos ? end : end - start), out);
    if (end == std::string_view::npos) break;
    out += "\r\n";
    start = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  return out;
}

std::string encode_header_text(std::string_view text, size_t first_line_used) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (plain && first_line_used + text.size() <= 78 && text.find("=?") == std::string_view::npos) {
    return std::string(text);
  }
  // 39 bytes of text make 52 characters of base64: a 64-character encoded-word, folded lines
  // within 78 characters.
  constexpr size_t kChunk = 39;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    while (end < text.size()) {
      size_t len = utf8_length(static_cast<unsigned char>(text[end]));
      if (end + len - i > kChunk) break;
      end += len;
    }
    if (end == i) end = std::min(text.size(), i + kChunk);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string format_message(const MailMessage& m) {
  std::string out;
  out += "Date: " + rfc5322_date(m.date) + "\r\n";
  out += "From: " + m.from + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + encode_header_text(m.subject, 9) + "\r\n";
  out += "Message-ID: <" + m.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n";
  // RFC 3834: no auto-reply to an alert.
  out += "Auto-Submitted: auto-generated\r\n";
  if (!m.kind.empty()) out += "X-Vigie-Kind: " + m.kind + "\r\n";
  if (!m.severity.empty()) out += "X-Vigie-Severity: " + m.severity + "\r\n";
  if (!m.object.empty()) out += "X-Vigie-Object: " + encode_header_text(m.object, 16) + "\r\n";
  out += "\r\n";
  out += quoted_printable(m.body);
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 16);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace vigie::notify
