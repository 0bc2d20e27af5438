#include "vigie/remote/access.h"

#include <argon2.h>
#include <fmt/format.h>
#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include "registry_internal.h"
#include "vigie/core/ids.h"
#include "vigie/core/text.h"
#include "vigie/inventory/normalize.h"
#include "vigie/notify/email.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own helpers
using core::ErrorCode;
using core::fail;
using store::Row;
using store::Value;

constexpr std::pair<std::string_view, Operation> kOperationNames[] = {{"screen", kScreen},
                                                                      {"service", kService},
                                                                      {"download", kDownload},
                                                                      {"upload", kUpload},
                                                                      {"update", kUpdate}};

constexpr unsigned kTotpStep = 30;
constexpr unsigned kTotpDigits = 6;

std::int64_t unix_seconds(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Splits "a, b,c" into trimmed non-empty items.
std::vector<std::string_view> items(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = core::trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

struct OathDeleter {
  void operator()(char* p) const { free(p); }  // NOLINT: liboath allocates with malloc
};
using OathString = std::unique_ptr<char, OathDeleter>;

Result<std::string> base32_decode(std::string_view text) {
  char* out = nullptr;
  size_t length = 0;
  if (oath_base32_decode(text.data(), text.size(), &out, &length) != OATH_OK) {
    return fail(ErrorCode::kInvalidInput, "the TOTP secret is not base32");
  }
  OathString owned(out);
  return std::string(out, length);
}

struct EngineerRow {
  std::int64_t id = 0;
  std::string name;
  std::string organisation;
};

Result<EngineerRow> engineer_by_name(store::Store& store, std::string_view name) {
  auto row = one_row(store,
                     "SELECT id, name, organisation FROM remote_engineers WHERE name_norm = ? "
                     "AND disabled_at IS NULL",
                     {inventory::normalize_words(name)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) {
    return fail(ErrorCode::kNotFound, fmt::format("no engineer '{}' (or disabled)", name),
                "ENGINEER");
  }
  return EngineerRow{(*row)->integer(0), (*row)->text(1), (*row)->text(2)};
}

Status check_password_policy(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("a password has at least {} characters", kMinPasswordLength),
                "password");
  }
  if (password.size() > 1024 || core::find_invalid_utf8(password)) {
    return fail(ErrorCode::kInvalidInput, "a password is UTF-8 text of at most 1024 bytes",
                "password");
  }
  return {};
}

// An argon2id hash of nothing anyone knows: an unknown engineer costs the same time as a
// known one (no timing oracle).
const std::string& decoy_hash() {
  static const std::string kHash = hash_password("decoy-password-never-used", {}).value_or("");
  return kHash;
}

}  // namespace

Result<Operations> parse_operations(std::string_view text) {
  Operations ops = 0;
  if (core::trim(text) == "none") return ops;
  for (auto item : items(text)) {
    auto it = std::find_if(std::begin(kOperationNames), std::end(kOperationNames),
                           [&](const auto& p) { return p.first == item; });
    if (it == std::end(kOperationNames)) {
      return fail(
          ErrorCode::kInvalidInput,
          fmt::format("unknown operation '{}' (screen, service, download, upload, update)", item),
          "operations");
    }
    ops |= it->second;
  }
  return ops;
}

std::string format_operations(Operations ops) {
  std::string out;
  for (const auto& [name, op] : kOperationNames) {
    if ((ops & op) != 0) out += (out.empty() ? "" : ",") + std::string(name);
  }
  return out.empty() ? "none" : out;
}

Result<AccessLevel> parse_access_level(std::string_view text) {
  if (text == "none") return AccessLevel::kNone;
  if (text == "limited") return AccessLevel::kLimited;
  if (text == "permanent-limited") return AccessLevel::kPermanentLimited;
  if (text == "full") return AccessLevel::kFull;
  return fail(
      ErrorCode::kInvalidInput,
      fmt::format("unknown access level '{}' (none, limited, permanent-limited, full)", text),
      "level");
}

std::string_view to_string(AccessLevel level) {
  switch (level) {
    case AccessLevel::kNone:
      return "none";
    case AccessLevel::kLimited:
      return "limited";
    case AccessLevel::kPermanentLimited:
      return "permanent-limited";
    case AccessLevel::kFull:
      return "full";
  }
  return "none";
}

Result<std::vector<ServicePort>> parse_ports(std::string_view text) {
  std::vector<ServicePort> out;
  for (auto item : items(text)) {
    auto slash = item.find('/');
    auto number = item.substr(0, slash);
    int port = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), port);
    if (ec != std::errc() || end != number.data() + number.size() || port < 1 || port > 65535) {
      return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a port (1-65535)", number),
                  "ports");
    }
    ServicePort p{port, kService};
    if (slash != std::string_view::npos) {
      auto op = parse_operations(item.substr(slash + 1));
      if (!op) return tl::unexpected(op.error());
      if (*op != kScreen && *op != kService) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("port {}: a port serves 'screen' or 'service'", port), "ports");
      }
      p.operation = static_cast<Operation>(*op);
    }
    if (std::any_of(out.begin(), out.end(), [&](const ServicePort& q) { return q.port == port; })) {
      return fail(ErrorCode::kInvalidInput, fmt::format("port {} is named twice", port), "ports");
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const ServicePort& a, const ServicePort& b) { return a.port < b.port; });
  return out;
}

std::string format_ports(const std::vector<ServicePort>& ports) {
  std::string out;
  for (const ServicePort& p : ports) {
    out += fmt::format("{}{}/{}", out.empty() ? "" : ",", p.port, format_operations(p.operation));
  }
  return out;
}

Result<DeviceAccess> device_access(store::Store& store, std::int64_t device_id) {
  auto row = one_row(store,
                     "SELECT level, COALESCE(window_from, ''), COALESCE(window_to, ''), ports, "
                     "operations, limited_operations, COALESCE(owner_email, ''), updated_by, "
                     "updated_at FROM remote_device_access WHERE device_id = ?",
                     {device_id});
  if (!row) return tl::unexpected(row.error());
  DeviceAccess access;
  access.device_id = device_id;
  if (!*row) return access;
  const Row& r = **row;
  auto level = parse_access_level(r.text(0));
  auto ports = parse_ports(r.text(3));
  auto ops = parse_operations(r.text(4));
  auto limited = parse_operations(r.text(5));
  if (!level || !ports || !ops || !limited) {
    return fail(ErrorCode::kStore,
                fmt::format("device {}'s stored access policy is unreadable", device_id));
  }
  access.level = *level;
  access.window_from = r.text(1);
  access.window_to = r.text(2);
  access.ports = std::move(*ports);
  access.operations = *ops;
  access.limited_operations = *limited;
  access.owner_email = r.text(6);
  access.updated_by = r.text(7);
  access.updated_at = r.text(8);
  return access;
}

Status set_device_access(store::Store& store, const DeviceAccess& access, const Actor& actor) {
  if (access.level == AccessLevel::kLimited) {
    auto from = core::parse_utc(access.window_from);
    auto to = core::parse_utc(access.window_to);
    if (!from || !to || *from >= *to) {
      return fail(ErrorCode::kInvalidInput,
                  "the limited level needs a time window: --from and --to, from before to",
                  "--from");
    }
  }
  for (const ServicePort& p : access.ports) {
    if ((access.operations & p.operation) == 0) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("port {} serves '{}', an operation the device does not allow", p.port,
                              format_operations(p.operation)),
                  "--ports");
    }
  }
  if (!access.owner_email.empty()) VIGIE_TRY(notify::check_address(access.owner_email));
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto exists = store.query_int("SELECT COUNT(*) FROM devices WHERE id = ?",
                                std::vector<Value>{access.device_id});
  if (!exists) return tl::unexpected(exists.error());
  if (*exists == 0) {
    return fail(ErrorCode::kNotFound, fmt::format("no device {}", access.device_id), "DEVICE");
  }
  auto before = device_access(store, access.device_id);
  if (!before) return tl::unexpected(before.error());
  const auto norm = [](const std::string& t) {
    auto p = core::parse_utc(t);
    return p ? seconds_text(*p) : std::string();
  };
  const bool windowed = access.level == AccessLevel::kLimited;
  const Value window_from = windowed ? Value(norm(access.window_from)) : Value();
  const Value window_to = windowed ? Value(norm(access.window_to)) : Value();
  const Value owner = access.owner_email.empty() ? Value() : Value(access.owner_email);
  std::vector<Value> row = {access.device_id,
                            std::string(to_string(access.level)),
                            window_from,
                            window_to,
                            format_ports(access.ports),
                            format_operations(access.operations),
                            format_operations(access.limited_operations),
                            owner,
                            actor.name,
                            actor.at};
  VIGIE_TRY(store.execute(
      "INSERT INTO remote_device_access (device_id, level, window_from, window_to, ports, "
      "operations, limited_operations, owner_email, updated_by, updated_at) VALUES "
      "(?,?,?,?,?,?,?,?,?,?) ON CONFLICT (device_id) DO UPDATE SET level = excluded.level, "
      "window_from = excluded.window_from, window_to = excluded.window_to, ports = "
      "excluded.ports, operations = excluded.operations, limited_operations = "
      "excluded.limited_operations, owner_email = excluded.owner_email, updated_by = "
      "excluded.updated_by, updated_at = excluded.updated_at",
      row));
  VIGIE_TRY(audit_in(store, actor, "remote.access.set", fmt::format("device:{}", access.device_id),
                     {{"level_before", to_string(before->level)},
                      {"level", to_string(access.level)},
                      {"window_from", windowed ? norm(access.window_from) : ""},
                      {"window_to", windowed ? norm(access.window_to) : ""},
                      {"ports", format_ports(access.ports)},
                      {"operations", format_operations(access.operations)},
                      {"limited_operations", format_operations(access.limited_operations)}}));
  VIGIE_TRY(bump_epoch(store));
  return tx->commit();
}

Result<std::int64_t> add_vendor(store::Store& store, std::string_view name, const Actor& actor) {
  std::string norm = inventory::normalize_words(name);
  if (norm.empty() || name.size() > 128) {
    return fail(ErrorCode::kInvalidInput, "a vendor's name has 1 to 128 characters", "NAME");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto taken = store.query_int("SELECT COUNT(*) FROM remote_vendors WHERE name_norm = ?",
                               std::vector<Value>{norm});
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("a vendor '{}' exists already", name), "NAME");
  }
  auto id = insert_with_id(store, "remote_vendors",
                           "INSERT INTO remote_vendors (id, name, name_norm, created_at) "
                           "VALUES (?,?,?,?)",
                           {std::string(name), norm, actor.at});
  if (!id) return tl::unexpected(id.error());
  VIGIE_TRY(
      audit_in(store, actor, "remote.vendor.add", fmt::format("vendor:{}", *id), {{"name", name}}));
  VIGIE_TRY(tx->commit());
  return *id;
}

Result<std::vector<Vendor>> list_vendors(store::Store& store) {
  auto rows = store.query(
      "SELECT v.id, v.name, (SELECT COUNT(*) FROM remote_engineers e WHERE e.vendor_id = v.id) "
      "FROM remote_vendors v ORDER BY v.name_norm");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Vendor> out;
  for (const Row& r : *rows) out.push_back({r.integer(0), r.text(1), r.integer(2)});
  return out;
}

Result<std::vector<EngineerAccount>> list_engineers(store::Store& store) {
  auto rows = store.query(
      "SELECT id, name, organisation, password_hash IS NOT NULL, totp_secret IS NOT NULL, "
      "COALESCE(cert_serial, ''), COALESCE(locked_until, ''), disabled_at IS NOT NULL, "
      "vendor_id IS NULL FROM remote_engineers ORDER BY name_norm");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<EngineerAccount> out;
  for (const Row& r : *rows) {
    out.push_back({r.integer(0), r.text(1), r.text(2), r.integer(3) != 0, r.integer(4) != 0,
                   r.text(5), r.text(6), r.integer(7) != 0, r.integer(8) != 0});
  }
  return out;
}

Result<std::string> hash_password(std::string_view password, const PasswordCost& cost) {
  std::array<unsigned char, 16> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return fail(ErrorCode::kInternal, "no random bytes for a password salt");
  }
  constexpr std::uint32_t kHashLength = 32;
  std::string encoded(
      argon2_encodedlen(cost.passes, cost.memory_kib, 1, salt.size(), kHashLength, Argon2_id),
      '\0');
  int rc =
      argon2id_hash_encoded(cost.passes, cost.memory_kib, 1, password.data(), password.size(),
                            salt.data(), salt.size(), kHashLength, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return fail(ErrorCode::kInternal, fmt::format("argon2id failed: {}", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool password_matches(std::string_view encoded, std::string_view password) {
  if (encoded.empty()) return false;
  const std::string hash(encoded);
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Result<Engineer> add_vendor_engineer(store::Store& store, std::string_view name,
                                     std::string_view vendor, std::string_view password,
                                     const PasswordCost& cost, const Actor& actor) {
  std::string norm = inventory::normalize_words(name);
  if (norm.empty() || name.size() > 128) {
    return fail(ErrorCode::kInvalidInput, "an engineer's name has 1 to 128 characters", "NAME");
  }
  VIGIE_TRY(check_password_policy(password));
  auto hash = hash_password(password, cost);  // before the transaction: it takes a while
  if (!hash) return tl::unexpected(hash.error());
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto org = one_row(store, "SELECT id, name FROM remote_vendors WHERE name_norm = ?",
                     {inventory::normalize_words(vendor)});
  if (!org) return tl::unexpected(org.error());
  if (!*org) {
    return fail(ErrorCode::kNotFound,
                fmt::format("no vendor '{}': add it first (vigie vendors add)", vendor),
                "--vendor");
  }
  auto taken = store.query_int("SELECT COUNT(*) FROM remote_engineers WHERE name_norm = ?",
                               std::vector<Value>{norm});
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("an engineer '{}' exists already", name), "NAME");
  }
  // No static bearer credential: the column holds the hash of a secret nobody is given.
  auto id = insert_with_id(
      store, "remote_engineers",
      "INSERT INTO remote_engineers (id, name, name_norm, organisation, token_sha256, "
      "created_at, vendor_id, password_hash) VALUES (?,?,?,?,?,?,?,?)",
      {std::string(name), norm, (*org)->text(1), core::sha256_hex(core::random_hex(32)), actor.at,
       (*org)->integer(0), *hash});
  if (!id) return tl::unexpected(id.error());
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.add", fmt::format("engineer:{}", *id),
                     {{"name", name}, {"vendor", (*org)->text(1)}}));
  VIGIE_TRY(tx->commit());
  return Engineer{*id, std::string(name), (*org)->text(1)};
}

Status set_password(store::Store& store, std::string_view engineer, std::string_view password,
                    const PasswordCost& cost, const Actor& actor) {
  VIGIE_TRY(check_password_policy(password));
  auto hash = hash_password(password, cost);
  if (!hash) return tl::unexpected(hash.error());
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = engineer_by_name(store, engineer);
  if (!who) return tl::unexpected(who.error());
  VIGIE_TRY(
      store.execute("UPDATE remote_engineers SET password_hash = ?, failed_logins = 0, "
                    "locked_until = NULL WHERE id = ?",
                    std::vector<Value>{*hash, who->id}));
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.password", fmt::format("engineer:{}", who->id),
                     nlohmann::json::object()));
  return tx->commit();
}

Result<TotpEnrollment> enroll_totp(store::Store& store, std::string_view engineer,
                                   std::string_view issuer, const Actor& actor) {
  std::array<unsigned char, 20> secret{};  // 160 bits, RFC 4226's recommendation
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return fail(ErrorCode::kInternal, "no random bytes for a TOTP secret");
  }
  char* b32 = nullptr;
  size_t b32_length = 0;
  if (oath_base32_encode(reinterpret_cast<const char*>(secret.data()), secret.size(), &b32,
                         &b32_length) != OATH_OK) {
    return fail(ErrorCode::kInternal, "cannot encode the TOTP secret");
  }
  OathString owned(b32);
  std::string secret_base32(b32, b32_length);
  OPENSSL_cleanse(secret.data(), secret.size());
  while (!secret_base32.empty() && secret_base32.back() == '=') secret_base32.pop_back();
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = engineer_by_name(store, engineer);
  if (!who) return tl::unexpected(who.error());
  VIGIE_TRY(store.execute(
      "UPDATE remote_engineers SET totp_secret = ?, totp_last_step = NULL WHERE id = ?",
      std::vector<Value>{secret_base32, who->id}));
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.totp_enroll",
                     fmt::format("engineer:{}", who->id), nlohmann::json::object()));
  VIGIE_TRY(tx->commit());
  TotpEnrollment out;
  out.secret_base32 = secret_base32;
  out.uri =
      fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}",
                  core::percent_encode(issuer), core::percent_encode(who->name), secret_base32,
                  core::percent_encode(issuer), kTotpDigits, kTotpStep);
  auto qr = qr_terminal(out.uri);
  if (!qr) return tl::unexpected(qr.error());
  out.qr = std::move(*qr);
  return out;
}

Status set_engineer_certificate(store::Store& store, std::string_view engineer,
                                std::string_view serial, const Actor& actor) {
  std::string lower = core::ascii_lower(serial);
  if (lower.empty() || !std::all_of(lower.begin(), lower.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return fail(ErrorCode::kInvalidInput, "a certificate serial is hexadecimal", "--serial");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = engineer_by_name(store, engineer);
  if (!who) return tl::unexpected(who.error());
  VIGIE_TRY(store.execute("UPDATE remote_engineers SET cert_serial = ? WHERE id = ?",
                          std::vector<Value>{lower, who->id}));
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.certificate",
                     fmt::format("engineer:{}", who->id), {{"serial", lower}}));
  return tx->commit();
}

Status disable_engineer(store::Store& store, std::string_view engineer, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = engineer_by_name(store, engineer);
  if (!who) return tl::unexpected(who.error());
  VIGIE_TRY(store.execute("UPDATE remote_engineers SET disabled_at = ? WHERE id = ?",
                          std::vector<Value>{actor.at, who->id}));
  VIGIE_TRY(
      store.execute("UPDATE remote_logins SET ended_at = ? WHERE engineer_id = ? AND "
                    "ended_at IS NULL",
                    std::vector<Value>{actor.at, who->id}));
  VIGIE_TRY(audit_in(store, actor, "remote.engineer.disable", fmt::format("engineer:{}", who->id),
                     nlohmann::json::object()));
  VIGIE_TRY(bump_epoch(store));
  return tx->commit();
}

Result<std::string> totp_code(std::string_view secret_base32, core::TimePoint now) {
  auto secret = base32_decode(secret_base32);
  if (!secret) return tl::unexpected(secret.error());
  std::array<char, kTotpDigits + 1> otp{};
  if (oath_totp_generate(secret->data(), secret->size(), unix_seconds(now), kTotpStep, 0,
                         kTotpDigits, otp.data()) != OATH_OK) {
    return fail(ErrorCode::kInternal, "cannot compute a TOTP code");
  }
  return std::string(otp.data());
}

Result<std::string> qr_terminal(std::string_view text) {
  const std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) return fail(ErrorCode::kInvalidInput, "the text is too long for a QR code");
  const int width = code->width;
  constexpr int kQuiet = 2;  // modules of margin around the symbol
  const auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (code->data[static_cast<size_t>(y) * static_cast<size_t>(width) +
                       static_cast<size_t>(x)] &
            1U) != 0;
  };
  std::string out;
  for (int y = -kQuiet; y < width + kQuiet; y += 2) {
    for (int x = -kQuiet; x < width + kQuiet; ++x) {
      // Light modules are drawn: a phone reads dark-on-light from a dark terminal too.
      const bool top = !dark(x, y);
      const bool bottom = !dark(x, y + 1);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += '\n';
  }
  return out;
}

Result<Login> login(store::Store& store, const LoginAttempt& attempt, core::TimePoint now,
                    const LoginPolicy& policy) {
  const std::string now_text = seconds_text(now);
  const Actor who{attempt.engineer.empty() ? "engineer:?" : attempt.engineer, attempt.origin,
                  now_text};
  auto row = one_row(store,
                     "SELECT id, name, organisation, COALESCE(password_hash, ''), "
                     "COALESCE(totp_secret, ''), COALESCE(cert_serial, ''), "
                     "COALESCE(locked_until, ''), disabled_at IS NOT NULL FROM remote_engineers "
                     "WHERE name_norm = ?",
                     {inventory::normalize_words(attempt.engineer)});
  if (!row) return tl::unexpected(row.error());
  const auto refuse_unknown = [&](std::string_view reason) -> Result<Login> {
    VIGIE_TRY(audit_event(store, who, "remote.login.refused", "engineer:?",
                          nlohmann::json{{"reason", reason}}.dump()));
    return fail(ErrorCode::kNotFound, "invalid credentials");
  };
  if (!*row || (*row)->integer(7) != 0) {
    (void)password_matches(decoy_hash(), attempt.password);
    return refuse_unknown(!*row ? "unknown engineer" : "disabled engineer");
  }
  const Row& r = **row;
  const std::int64_t id = r.integer(0);
  const std::string object = fmt::format("engineer:{}", id);
  if (!r.text(6).empty() && r.text(6) > now_text) {
    VIGIE_TRY(audit_event(store, who, "remote.login.refused", object,
                          nlohmann::json{{"reason", "locked"}, {"until", r.text(6)}}.dump()));
    return fail(ErrorCode::kConflict,
                fmt::format("the account is locked until {} after repeated failures", r.text(6)));
  }
  // The expensive checks run outside the transaction (argon2id takes a while).
  const bool password_ok = password_matches(r.text(3), attempt.password);
  std::optional<std::int64_t> step;  // the TOTP time step the code matched
  bool second_ok = false;
  std::string reason = password_ok ? "" : "password";
  if (!attempt.cert_serial.empty() && !r.text(5).empty() &&
      core::ascii_lower(attempt.cert_serial) == r.text(5)) {
    second_ok = true;
  } else if (!r.text(4).empty() && attempt.otp.size() == kTotpDigits) {
    auto secret = base32_decode(r.text(4));
    int position = 0;
    if (secret && oath_totp_validate2(secret->data(), secret->size(), unix_seconds(now), kTotpStep,
                                      0, 1, &position, attempt.otp.c_str()) >= 0) {
      step = unix_seconds(now) / kTotpStep + position;
      second_ok = true;
    }
  }
  if (reason.empty() && !second_ok) reason = "second factor";

  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto state = one_row(store,
                       "SELECT failed_logins, COALESCE(totp_last_step, -1) FROM remote_engineers "
                       "WHERE id = ?",
                       {id});
  if (!state) return tl::unexpected(state.error());
  if (!*state) return fail(ErrorCode::kNotFound, "invalid credentials");
  if (reason.empty() && step && *step <= (*state)->integer(1)) reason = "replayed code";
  if (!reason.empty()) {
    const std::int64_t failures = (*state)->integer(0) + 1;
    Value locked_until;
    if (failures > policy.free_failures) {
      const auto shift = std::min<std::int64_t>(failures - policy.free_failures - 1, 20);
      const auto lock =
          std::min<std::chrono::seconds>(policy.lock * (std::int64_t{1} << shift), policy.max_lock);
      locked_until = seconds_text(now + lock);
    }
    VIGIE_TRY(store.execute(
        "UPDATE remote_engineers SET failed_logins = ?, locked_until = ? WHERE id = ?",
        std::vector<Value>{failures, locked_until, id}));
    nlohmann::json details{{"reason", reason}, {"failures", failures}};
    if (!std::holds_alternative<std::nullptr_t>(locked_until))
      details["locked_until"] = std::get<std::string>(locked_until);
    VIGIE_TRY(audit_in(store, who, "remote.login.refused", object, details));
    VIGIE_TRY(tx->commit());
    return fail(ErrorCode::kNotFound, "invalid credentials");
  }
  Login out;
  out.engineer = Engineer{id, r.text(1), r.text(2)};
  out.token = core::random_hex(32);
  out.expires_at = seconds_text(now + policy.token_lifetime);
  // A certificate login keeps the last TOTP step used: replays stay refused.
  const std::int64_t previous = (*state)->integer(1);
  const Value last_step = step ? Value(*step) : previous >= 0 ? Value(previous) : Value();
  VIGIE_TRY(
      store.execute("UPDATE remote_engineers SET failed_logins = 0, locked_until = NULL, "
                    "totp_last_step = ? WHERE id = ?",
                    std::vector<Value>{last_step, id}));
  VIGIE_TRY(
      store.execute("INSERT INTO remote_logins (token_sha256, engineer_id, origin, "
                    "created_at, expires_at) VALUES (?,?,?,?,?)",
                    std::vector<Value>{core::sha256_hex(out.token), id, attempt.origin, now_text,
                                       out.expires_at}));
  VIGIE_TRY(
      audit_in(store, who, "remote.login", object,
               {{"second_factor", step ? "totp" : "certificate"}, {"expires_at", out.expires_at}}));
  VIGIE_TRY(tx->commit());
  return out;
}

Result<Engineer> engineer_for_login(store::Store& store, std::string_view token,
                                    core::TimePoint now) {
  auto row = one_row(store,
                     "SELECT e.id, e.name, e.organisation FROM remote_logins l JOIN "
                     "remote_engineers e ON e.id = l.engineer_id WHERE l.token_sha256 = ? AND "
                     "l.ended_at IS NULL AND l.expires_at > ? AND e.disabled_at IS NULL",
                     {core::sha256_hex(token), seconds_text(now)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, "invalid or expired login");
  return Engineer{(*row)->integer(0), (*row)->text(1), (*row)->text(2)};
}

Status logout(store::Store& store, std::string_view token, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto row = one_row(store,
                     "SELECT engineer_id FROM remote_logins WHERE token_sha256 = ? AND ended_at IS "
                     "NULL",
                     {core::sha256_hex(token)});
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::kNotFound, "invalid or expired login");
  VIGIE_TRY(store.execute("UPDATE remote_logins SET ended_at = ? WHERE token_sha256 = ?",
                          std::vector<Value>{actor.at, core::sha256_hex(token)}));
  VIGIE_TRY(audit_in(store, actor, "remote.logout", fmt::format("engineer:{}", (*row)->integer(0)),
                     nlohmann::json::object()));
  return tx->commit();
}

Result<std::int64_t> authorise(store::Store& store, std::string_view engineer,
                               const AuthorisationTarget& target, Operations ops,
                               const Actor& actor) {
  if (ops == 0 || (ops & ~kAllOperations) != 0) {
    return fail(ErrorCode::kInvalidInput, "an authorisation names at least one operation",
                "--operations");
  }
  if ((target.device_id != 0) == !target.zone.empty()) {
    return fail(ErrorCode::kUsage, "authorise one device (--device) or one zone (--zone)",
                "--device");
  }
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto who = engineer_by_name(store, engineer);
  if (!who) return tl::unexpected(who.error());
  Value device;
  Value zone;
  std::string object;
  if (target.device_id != 0) {
    auto n = store.query_int("SELECT COUNT(*) FROM devices WHERE id = ?",
                             std::vector<Value>{target.device_id});
    if (!n) return tl::unexpected(n.error());
    if (*n == 0) {
      return fail(ErrorCode::kNotFound, fmt::format("no device {}", target.device_id), "--device");
    }
    device = target.device_id;
    object = fmt::format("device:{}", target.device_id);
  } else {
    auto z = resolve_zone(store, target.zone);
    if (!z) return tl::unexpected(z.error());
    zone = *z;
    object = fmt::format("zone:{}", *z);
  }
  auto id = insert_with_id(store, "remote_authorisations",
                           "INSERT INTO remote_authorisations (id, engineer_id, device_id, "
                           "zone_id, operations, created_by, created_at) VALUES (?,?,?,?,?,?,?)",
                           {who->id, device, zone, format_operations(ops), actor.name, actor.at});
  if (!id) return tl::unexpected(id.error());
  VIGIE_TRY(audit_in(store, actor, "remote.authorisation.add", object,
                     {{"authorisation", *id},
                      {"engineer", who->name},
                      {"vendor", who->organisation},
                      {"operations", format_operations(ops)}}));
  VIGIE_TRY(tx->commit());
  return *id;
}

Status revoke_authorisation(store::Store& store, std::int64_t id, const Actor& actor) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  auto n = store.query_int(
      "SELECT COUNT(*) FROM remote_authorisations WHERE id = ? AND revoked_at IS NULL",
      std::vector<Value>{id});
  if (!n) return tl::unexpected(n.error());
  if (*n == 0) return fail(ErrorCode::kNotFound, fmt::format("no live authorisation {}", id), "ID");
  VIGIE_TRY(store.execute("UPDATE remote_authorisations SET revoked_at = ? WHERE id = ?",
                          std::vector<Value>{actor.at, id}));
  VIGIE_TRY(audit_in(store, actor, "remote.authorisation.revoke",
                     fmt::format("authorisation:{}", id), nlohmann::json::object()));
  return tx->commit();
}

Result<std::vector<Authorisation>> list_authorisations(store::Store& store) {
  auto rows = store.query(
      "SELECT a.id, e.name, e.organisation, a.device_id, a.zone_id, COALESCE(s.name || '/' || "
      "z.name, ''), a.operations, a.created_by, a.created_at FROM remote_authorisations a JOIN "
      "remote_engineers e ON e.id = a.engineer_id LEFT JOIN zones z ON z.id = a.zone_id LEFT "
      "JOIN sites s ON s.id = z.site_id WHERE a.revoked_at IS NULL ORDER BY a.id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Authorisation> out;
  for (const Row& r : *rows) {
    Authorisation a;
    a.id = r.integer(0);
    a.engineer = r.text(1);
    a.vendor = r.text(2);
    a.target = r.is_null(3) ? "zone:" + r.text(5) : fmt::format("device:{}", r.integer(3));
    a.operations = parse_operations(r.text(6)).value_or(0);
    a.created_by = r.text(7);
    a.created_at = r.text(8);
    out.push_back(std::move(a));
  }
  return out;
}

Result<Operations> authorised_operations(store::Store& store, std::int64_t engineer_id,
                                         std::int64_t device_id) {
  auto rows = store.query(
      "SELECT a.operations FROM remote_authorisations a JOIN remote_engineers e ON e.id = "
      "a.engineer_id WHERE a.engineer_id = ? AND a.revoked_at IS NULL AND e.disabled_at IS NULL "
      "AND (a.device_id = ? OR a.zone_id = (SELECT zone_id FROM devices WHERE id = ?))",
      std::vector<Value>{engineer_id, device_id, device_id});
  if (!rows) return tl::unexpected(rows.error());
  Operations ops = 0;
  for (const Row& r : *rows) ops |= parse_operations(r.text(0)).value_or(0);
  return ops;
}

}  // namespace vigie::remote
