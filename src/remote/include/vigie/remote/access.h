// Who may use the gateway, and for what (docs/remote.md, seed 003 §2a and §4a): vendors and
// their engineers, each engineer's two factors (an argon2id password and a TOTP code, or a
// certificate Vigie's CA issued him), login tokens, explicit authorisations (an engineer, a
// device or a zone, the operations) and each device's access level, chosen by the hospital.
// Every change and every login, refused or not, is audited in the transaction that records it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/remote/registry.h"
#include "vigie/store/store.h"

namespace vigie::remote {

// What an engineer may do on a device. A bit set: authorisations, device policies and
// sessions each name a set, and a session gets only what all three allow.
enum Operation : unsigned {
  kScreen = 1U << 0,    // screen sharing / remote desktop (VNC, RDP)
  kService = 1U << 1,   // the device's service ports (SSH, HTTPS, the vendor's tools)
  kDownload = 1U << 2,  // files from the device to the engineer (through the PHI filter)
  kUpload = 1U << 3,    // files from the engineer to the device
  kUpdate = 1U << 4,    // software update (service mode)
};
using Operations = unsigned;
inline constexpr Operations kAllOperations = kScreen | kService | kDownload | kUpload | kUpdate;

// "screen,service,download,upload,update" (any subset, any order); "none" is the empty set.
Result<Operations> parse_operations(std::string_view text);
std::string format_operations(Operations ops);

// Seed 003 §2a, chosen per device by the hospital.
enum class AccessLevel {
  kNone,              // no standing access: each session approved case by case
  kLimited,           // in a time window, the limited operations start without approval
  kPermanentLimited,  // the same without a window, until the hospital changes it
  kFull,              // service mode: approved case by case; no exams while it runs
};
Result<AccessLevel> parse_access_level(std::string_view text);
std::string_view to_string(AccessLevel level);

// One port of a device the gateway may reach, and the operation it serves.
struct ServicePort {
  int port = 0;
  Operation operation = kService;
};
// "5900/screen,22/service,443" (a bare port is a service port).
Result<std::vector<ServicePort>> parse_ports(std::string_view text);
std::string format_ports(const std::vector<ServicePort>& ports);

struct DeviceAccess {
  std::int64_t device_id = 0;
  AccessLevel level = AccessLevel::kNone;
  std::string window_from;  // kLimited: ISO 8601 UTC
  std::string window_to;
  std::vector<ServicePort> ports;                       // deny by default: no port, no tunnel
  Operations operations = 0;                            // what the device allows at all
  Operations limited_operations = kScreen | kDownload;  // those that do not disturb exams
  std::string owner_email;  // the device owner, told of each request (whitelist applies)
  std::string updated_by;
  std::string updated_at;
};

// The device's policy; a device never configured has level none, no port, no operation.
Result<DeviceAccess> device_access(store::Store& store, std::int64_t device_id);
Status set_device_access(store::Store& store, const DeviceAccess& access, const Actor& actor);

// Vendors (organisations) and their engineers.
Result<std::int64_t> add_vendor(store::Store& store, std::string_view name, const Actor& actor);

struct Vendor {
  std::int64_t id = 0;
  std::string name;
  std::int64_t engineers = 0;
};
Result<std::vector<Vendor>> list_vendors(store::Store& store);

struct EngineerAccount {
  std::int64_t id = 0;
  std::string name;
  std::string vendor;
  bool password = false;
  bool totp = false;
  std::string cert_serial;
  std::string locked_until;
  bool disabled = false;
  bool static_credential = false;  // added with --org (tests and pilots)
};
Result<std::vector<EngineerAccount>> list_engineers(store::Store& store);

struct PasswordCost {
  std::uint32_t passes = 3;
  std::uint32_t memory_kib = 65536;  // 64 MiB: OWASP's argon2id minimum is 19 MiB
};
inline constexpr std::size_t kMinPasswordLength = 12;

// argon2id "$argon2id$v=19$m=...,t=...,p=1$salt$hash", and its check.
Result<std::string> hash_password(std::string_view password, const PasswordCost& cost);
bool password_matches(std::string_view encoded, std::string_view password);

// An engineer of `vendor` with a password; the second factor is enrolled next.
Result<Engineer> add_vendor_engineer(store::Store& store, std::string_view name,
                                     std::string_view vendor, std::string_view password,
                                     const PasswordCost& cost, const Actor& actor);
Status set_password(store::Store& store, std::string_view engineer, std::string_view password,
                    const PasswordCost& cost, const Actor& actor);

struct TotpEnrollment {
  std::string secret_base32;  // shown once, for authenticator apps without a camera
  std::string uri;            // otpauth://totp/ISSUER:NAME?secret=...&issuer=...
  std::string qr;             // the URI as a QR code in terminal block characters
};
// A new TOTP secret (RFC 6238: HMAC-SHA1, 6 digits, 30 s) replaces the previous one.
Result<TotpEnrollment> enroll_totp(store::Store& store, std::string_view engineer,
                                   std::string_view issuer, const Actor& actor);
// The second factor as a certificate (smartcard-like): its serial, as the broker reads it.
Status set_engineer_certificate(store::Store& store, std::string_view engineer,
                                std::string_view serial, const Actor& actor);
Status disable_engineer(store::Store& store, std::string_view engineer, const Actor& actor);

// The current code of a base32 secret at `now` (the tests' authenticator).
Result<std::string> totp_code(std::string_view secret_base32, core::TimePoint now);
// The QR code of `text` as lines of "█", "▀", "▄" and spaces (two modules per character).
Result<std::string> qr_terminal(std::string_view text);

struct LoginPolicy {
  std::chrono::seconds token_lifetime{8 * 3600};
  int free_failures = 3;                // then each failure locks the account...
  std::chrono::seconds lock{30};        // ...for lock, doubling per further failure...
  std::chrono::seconds max_lock{3600};  // ...up to this
};

struct LoginAttempt {
  std::string engineer;
  std::string password;
  std::string otp;          // "" when a certificate is the second factor
  std::string cert_serial;  // the verified client certificate's serial, "" when none
  std::string origin;       // the client's address
};

struct Login {
  Engineer engineer;
  std::string token;  // the bearer token for the broker; only its hash is kept
  std::string expires_at;
};

// Checks both factors. A refusal says only "invalid credentials" or "locked until T" (no
// oracle), counts toward the lock and is audited; a replayed TOTP code (one already used, or
// older than the last one used) is refused.
Result<Login> login(store::Store& store, const LoginAttempt& attempt, core::TimePoint now,
                    const LoginPolicy& policy);
// The engineer a live login token belongs to (kNotFound otherwise).
Result<Engineer> engineer_for_login(store::Store& store, std::string_view token,
                                    core::TimePoint now);
Status logout(store::Store& store, std::string_view token, const Actor& actor);

// Explicit authorisations: an engineer, a device (its id) or a zone ("ZONE" or "SITE/ZONE"),
// the operations.
struct AuthorisationTarget {
  std::int64_t device_id = 0;
  std::string zone;
};
Result<std::int64_t> authorise(store::Store& store, std::string_view engineer,
                               const AuthorisationTarget& target, Operations ops,
                               const Actor& actor);
Status revoke_authorisation(store::Store& store, std::int64_t id, const Actor& actor);

struct Authorisation {
  std::int64_t id = 0;
  std::string engineer;
  std::string vendor;
  std::string target;  // "device:12" or "zone:SITE/ZONE"
  Operations operations = 0;
  std::string created_by;
  std::string created_at;
};
Result<std::vector<Authorisation>> list_authorisations(store::Store& store);

// What `engineer_id` is authorised to do on `device_id` (the union of his live
// authorisations for the device and its zone; 0 when none, or when he is disabled).
Result<Operations> authorised_operations(store::Store& store, std::int64_t engineer_id,
                                         std::int64_t device_id);

}  // namespace vigie::remote
