// What the exports carry besides the inventory and findings (procedures, vendor contacts), the
// strategic PCs they go to, and the keys that sign them: each change in one transaction with
// its audit entry.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "dr_export_internal.h"
#include "vigie/audit/audit.h"
#include "vigie/core/csv.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/text.h"
#include "vigie/inventory/normalize.h"
#include "vigie/resilience/dr_export.h"
#include "vigie/store/store.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;
using store::Value;

constexpr std::int64_t kMaxProcedureBytes = std::int64_t{64} << 20;

Value opt(const std::string& v) { return v.empty() ? Value(nullptr) : Value(v); }

bool slug(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string_view::npos &&
         s.front() != '.' && s.front() != '-';
}

}  // namespace

namespace internal {

Status audited(store::Store& store, const ExportActor& actor, const std::string& action,
               const std::string& object, const json& details,
               const std::function<Status()>& body) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(body());
  auto entry = audit::append(store,
                             {actor.name, action, object, actor.origin,
                              details.dump(-1, ' ', false, json::error_handler_t::replace)},
                             core::format_utc(actor.clock.now()));
  if (!entry) return tl::unexpected(entry.error());
  return tx->commit();
}

}  // namespace internal

ExportPaths export_paths(const std::filesystem::path& home, const core::Config& config) {
  ExportPaths p;
  p.dir = home / "export";
  p.signing_key = p.dir / "signing.key";
  p.signing_pub = p.dir / "signing.pub";
  p.ssh_key = p.dir / "ssh" / "id_ed25519";
  p.known_hosts_dir = p.dir / "ssh" / "known_hosts.d";
  std::filesystem::path outbox(config.export_outbox_dir);
  p.outbox = outbox.is_absolute() ? outbox : home / outbox;
  return p;
}

Result<KeygenResult> create_export_keys(store::Store& store, const std::filesystem::path& home,
                                        const core::Config& config, const ExportActor& actor) {
  const ExportPaths paths = export_paths(home, config);
  std::error_code ec;
  std::filesystem::create_directories(paths.ssh_key.parent_path(), ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create " + ec.message(), paths.dir.string());
  ::chmod(paths.dir.c_str(), 0700);
  ::chmod(paths.ssh_key.parent_path().c_str(), 0700);
  const bool have_signing = std::filesystem::exists(paths.signing_key, ec);
  const bool have_ssh = std::filesystem::exists(paths.ssh_key, ec);
  if (have_signing && have_ssh) {
    return fail(ErrorCode::kConflict,
                "the export keys already exist; they are never overwritten (remove them by hand "
                "to start over, then re-install the public key on every strategic PC)",
                paths.dir.string());
  }
  KeygenResult out;
  json details = json::object();
  if (!have_signing) {
    SigningKeyPair key = generate_signing_key();
    VIGIE_TRY(write_secret_key_file(paths.signing_key, key_text(key)));
    VIGIE_TRY(core::write_file_durably(paths.signing_pub, key_text(key.public_key), 0644));
    details["signing_key_id"] = key.public_key.key_id();
    details["created"] = "signing key";
  }
  if (!have_ssh) {
    auto made = internal::run_process({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                       "vigie-export", "-f", paths.ssh_key.string()});
    if (!made) return tl::unexpected(made.error());
    if (made->exit_code != 0) {
      return fail(ErrorCode::kIo, "ssh-keygen failed: " + made->output, paths.ssh_key.string());
    }
    details["ssh_key"] = paths.ssh_key.string();
  }
  auto key = load_signing_key(home, config);
  if (!key) return tl::unexpected(key.error());
  out.signing_key_id = key->public_key.key_id();
  out.signing_public_text = key_text(key->public_key);
  auto ssh_pub = core::read_file(paths.ssh_key.string() + ".pub");
  if (!ssh_pub) return tl::unexpected(ssh_pub.error());
  out.ssh_public_key = std::string(core::trim(*ssh_pub));
  while (!out.ssh_public_key.empty() && out.ssh_public_key.back() == '\n') {
    out.ssh_public_key.pop_back();
  }
  details["signing_key_id"] = out.signing_key_id;
  VIGIE_TRY(internal::audited(store, actor, "export.keygen", "export:keys/" + out.signing_key_id,
                              details, [] { return Status{}; }));
  return out;
}

Result<SigningKeyPair> load_signing_key(const std::filesystem::path& home,
                                        const core::Config& config) {
  const auto path = export_paths(home, config).signing_key;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(ErrorCode::kNotFound, "no export signing key: run `vigie export keygen` first",
                path.string());
  }
  auto text = read_secret_key_file(path);
  if (!text) return tl::unexpected(text.error());
  auto key = parse_signing_secret(*text, path.string());
  wipe(text->data(), text->size());
  return key;
}

// ---- procedures ------------------------------------------------------------------------

Result<std::int64_t> register_procedure(store::Store& store, const std::filesystem::path& home,
                                        const ProcedureInput& input, const ExportActor& actor) {
  if (!slug(input.name)) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("procedure name '{}': 1 to 64 of a-z 0-9 . _ - (not starting with . "
                            "or -)",
                            input.name));
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(input.file, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot read the document: " + ec.message(), input.file);
  if (static_cast<std::int64_t>(size) > kMaxProcedureBytes) {
    return fail(ErrorCode::kInvalidInput, "a procedure document may be at most 64 MiB",
                input.file.string());
  }
  if (size == 0) return fail(ErrorCode::kInvalidInput, "the document is empty", input.file);
  std::string title(core::trim(input.title));
  if (title.empty()) title = input.file.stem().string();
  if (core::find_invalid_utf8(title) || core::find_invalid_utf8(input.applies_to)) {
    return fail(ErrorCode::kInvalidInput, "title and applies-to must be UTF-8 text");
  }
  auto content = core::read_file(input.file);
  if (!content) return tl::unexpected(content.error());
  const std::string sha = core::sha256_hex(*content);
  std::string ext = core::ascii_lower(input.file.extension().string());
  if (ext.size() > 8 ||
      ext.find_first_not_of(".abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
    ext.clear();
  }
  const std::filesystem::path relative = std::filesystem::path("documents") / (sha + ext);
  std::filesystem::create_directories(home / "documents", ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the documents folder: " + ec.message());
  if (!std::filesystem::exists(home / relative, ec)) {
    VIGIE_TRY(core::write_file_durably(home / relative, *content, 0640));
  }
  std::int64_t id = 0;
  const std::string now = core::format_utc(actor.clock.now());
  json details = {{"title", title},
                  {"document", input.file.filename().string()},
                  {"sha256", sha},
                  {"size", size}};
  VIGIE_TRY(internal::audited(
      store, actor, "export.procedure.register", "procedure:" + input.name, details,
      [&]() -> Status {
        VIGIE_TRY(store.lock_table("dr_procedures"));
        std::vector<Value> key = {input.name};
        auto existing = store.query_int(
            "SELECT COALESCE(MAX(id), 0) FROM dr_procedures WHERE "
            "name = ?",
            key);
        if (!existing) return tl::unexpected(existing.error());
        std::vector<Value> p = {title,
                                opt(std::string(core::trim(input.applies_to))),
                                input.file.filename().string(),
                                relative.string(),
                                sha,
                                static_cast<std::int64_t>(size),
                                now,
                                actor.name};
        if (*existing != 0) {
          id = *existing;
          p.emplace_back(id);
          return store.execute(
              "UPDATE dr_procedures SET title = ?, applies_to = ?, document_name = ?, "
              "document_path = ?, document_sha256 = ?, document_size = ?, registered_at = ?, "
              "registered_by = ? WHERE id = ?",
              p);
        }
        auto next = store.next_id("dr_procedures");
        if (!next) return tl::unexpected(next.error());
        id = *next;
        p.insert(p.begin(), Value(input.name));
        p.insert(p.begin(), Value(id));
        return store.execute(
            "INSERT INTO dr_procedures (id, name, title, applies_to, document_name, "
            "document_path, document_sha256, document_size, registered_at, registered_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            p);
      }));
  return id;
}

Status remove_procedure(store::Store& store, std::string_view name, const ExportActor& actor) {
  return internal::audited(
      store, actor, "export.procedure.remove", "procedure:" + std::string(name), json::object(),
      [&]() -> Status {
        std::vector<Value> key = {std::string(name)};
        auto n = store.query_int("SELECT COUNT(*) FROM dr_procedures WHERE name = ?", key);
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) {
          return fail(ErrorCode::kNotFound, fmt::format("no procedure '{}'", name));
        }
        return store.execute("DELETE FROM dr_procedures WHERE name = ?", key);
      });
}

Result<std::vector<Procedure>> list_procedures(store::Store& store) {
  auto rows = store.query(
      "SELECT id, name, title, applies_to, document_name, document_path, document_sha256, "
      "document_size, registered_at, registered_by FROM dr_procedures ORDER BY name");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Procedure> out;
  for (const auto& r : *rows) {
    out.push_back({r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6),
                   r.integer(7), r.text(8), r.text(9)});
  }
  return out;
}

// ---- vendor contacts -------------------------------------------------------------------

namespace {

constexpr std::string_view kContactColumns[] = {"vendor", "service", "contact_name", "phone",
                                                "email",  "hours",   "contract",     "notes"};

std::string check_contact(const VendorContact& c, std::string& column) {
  auto bad = [&](std::string_view col, std::string why) {
    column = col;
    return why;
  };
  if (c.vendor.empty()) return bad("vendor", "the vendor is required");
  if (c.service.empty()) return bad("service", "the service is required (hotline, PSIRT...)");
  if (c.phone.empty() && c.email.empty()) return bad("phone", "a phone number or an e-mail");
  if (!c.phone.empty()) {
    if (c.phone.find_first_not_of("0123456789 +()-./") != std::string::npos) {
      return bad("phone", fmt::format("'{}' is not a phone number", c.phone));
    }
    if (std::count_if(c.phone.begin(), c.phone.end(),
                      [](char ch) { return ch >= '0' && ch <= '9'; }) < 3) {
      return bad("phone", fmt::format("'{}' has too few digits", c.phone));
    }
  }
  if (!c.email.empty()) {
    auto at = c.email.find('@');
    if (at == std::string::npos || at == 0 || c.email.find('.', at) == std::string::npos ||
        c.email.find_first_of(" ,;<>") != std::string::npos) {
      return bad("email", fmt::format("'{}' is not an e-mail address", c.email));
    }
  }
  return "";
}

}  // namespace

Result<ContactImport> import_vendor_contacts(store::Store& store, const std::filesystem::path& csv,
                                             const ExportActor& actor) {
  auto reader = core::CsvReader::open(csv);
  if (!reader) return tl::unexpected(reader.error());
  const std::string file = csv.string();
  std::vector<std::string_view> fields;
  auto more = reader->next(fields);
  if (!more) return tl::unexpected(more.error());
  if (!*more) return fail(ErrorCode::kInvalidInput, "empty file: a header line is expected", file);
  std::vector<int> slot;  // header position -> kContactColumns index
  std::vector<bool> seen(std::size(kContactColumns), false);
  for (const auto field : fields) {
    const std::string name = core::ascii_lower(core::trim(field));
    auto it = std::find(std::begin(kContactColumns), std::end(kContactColumns), name);
    if (it == std::end(kContactColumns)) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("unknown column '{}' (expected: vendor, service, contact_name, "
                              "phone, email, hours, contract, notes)",
                              name),
                  fmt::format("{}:1", file));
    }
    const auto index = static_cast<size_t>(it - std::begin(kContactColumns));
    if (seen[index]) {
      return fail(ErrorCode::kInvalidInput, fmt::format("column '{}' appears twice", name),
                  fmt::format("{}:1", file));
    }
    seen[index] = true;
    slot.push_back(static_cast<int>(index));
  }
  for (std::string_view required : {"vendor", "service"}) {
    auto index = std::find(std::begin(kContactColumns), std::end(kContactColumns), required) -
                 std::begin(kContactColumns);
    if (!seen[static_cast<size_t>(index)]) {
      return fail(ErrorCode::kInvalidInput, fmt::format("missing column '{}'", required),
                  fmt::format("{}:1", file));
    }
  }
  std::vector<VendorContact> contacts;
  std::map<std::tuple<std::string, std::string, std::string>, size_t> keys;
  while (true) {
    more = reader->next(fields);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    if (fields.size() == 1 && core::trim(fields[0]).empty()) continue;  // blank line
    const std::string where = fmt::format("{}:{}", file, reader->line());
    if (fields.size() != slot.size()) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("{} fields, the header has {}", fields.size(), slot.size()), where);
    }
    std::array<std::string, std::size(kContactColumns)> v;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (auto bad = core::find_invalid_utf8(fields[i])) {
        return fail(
            ErrorCode::kInvalidInput, fmt::format("invalid UTF-8 at byte {}", *bad + 1),
            fmt::format("{} column '{}'", where, kContactColumns[static_cast<size_t>(slot[i])]));
      }
      v[static_cast<size_t>(slot[i])] = std::string(core::trim(fields[i]));
    }
    VendorContact c{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], {}};
    std::string column;
    if (std::string why = check_contact(c, column); !why.empty()) {
      return fail(ErrorCode::kInvalidInput, why, fmt::format("{} column '{}'", where, column));
    }
    auto key = std::make_tuple(inventory::normalize_vendor(c.vendor), core::ascii_lower(c.service),
                               c.contact_name);
    if (auto [it, fresh] = keys.emplace(key, reader->line()); !fresh) {
      return fail(ErrorCode::kInvalidInput,
                  fmt::format("the same vendor, service and name as line {}", it->second), where);
    }
    contacts.push_back(std::move(c));
  }
  ContactImport result;
  result.records = contacts.size();
  const std::string now = core::format_utc(actor.clock.now());
  json details = {{"file", csv.filename().string()}};
  VIGIE_TRY(internal::audited(
      store, actor, "export.contacts.import", "vendor-contacts", details, [&]() -> Status {
        VIGIE_TRY(store.lock_table("vendor_contacts"));
        for (const auto& c : contacts) {
          const std::string norm = inventory::normalize_vendor(c.vendor);
          std::vector<Value> key = {norm, c.service, c.contact_name};
          auto id = store.query_int(
              "SELECT COALESCE(MAX(id), 0) FROM vendor_contacts WHERE vendor_norm "
              "= ? AND service = ? AND contact_name = ?",
              key);
          if (!id) return tl::unexpected(id.error());
          std::vector<Value> p = {c.vendor,     norm,         c.service,    c.contact_name,
                                  opt(c.phone), opt(c.email), opt(c.hours), opt(c.contract),
                                  opt(c.notes), now,          actor.name};
          if (*id != 0) {
            p.emplace_back(*id);
            VIGIE_TRY(
                store.execute("UPDATE vendor_contacts SET vendor = ?, vendor_norm = ?, service "
                              "= ?, contact_name = ?, phone = ?, email = ?, hours = ?, contract "
                              "= ?, notes = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                              p));
            ++result.updated;
            continue;
          }
          auto next = store.next_id("vendor_contacts");
          if (!next) return tl::unexpected(next.error());
          p.insert(p.begin(), Value(*next));
          VIGIE_TRY(
              store.execute("INSERT INTO vendor_contacts (id, vendor, vendor_norm, service, "
                            "contact_name, phone, email, hours, contract, notes, updated_at, "
                            "updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            p));
          ++result.created;
        }
        return {};
      }));
  return result;
}

Result<std::vector<VendorContact>> list_vendor_contacts(store::Store& store) {
  auto rows = store.query(
      "SELECT vendor, service, contact_name, phone, email, hours, contract, notes, updated_at "
      "FROM vendor_contacts ORDER BY vendor_norm, service, contact_name");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<VendorContact> out;
  for (const auto& r : *rows) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6),
                   r.text(7), r.text(8)});
  }
  return out;
}

// ---- strategic PCs ---------------------------------------------------------------------

namespace {

struct SshTarget {
  std::string user;
  std::string host;
  int port = 22;
};

Result<SshTarget> parse_ssh_target(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("--ssh '{}': {} (expected user@host or user@host:port)", text, why));
  };
  SshTarget t;
  auto at = text.find('@');
  if (at == std::string_view::npos || at == 0) return bad("no user");
  t.user = std::string(text.substr(0, at));
  if (t.user.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos ||
      t.user.front() == '-') {
    return bad("bad user name");
  }
  std::string_view rest = text.substr(at + 1);
  std::string_view port;
  if (rest.starts_with("[")) {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    t.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (rest.starts_with(":"))
      port = rest.substr(1);
    else if (!rest.empty())
      return bad("text after ']'");
  } else {
    auto colon = rest.rfind(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (t.host.empty() || t.host.front() == '-' ||
      t.host.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
          std::string::npos) {
    return bad("bad host name");
  }
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return bad("bad port");
    }
    t.port = p;
  }
  return t;
}

Result<std::string> parse_host_key(std::string_view text) {
  std::string_view t = core::trim(text);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  auto space = t.find(' ');
  if (space == std::string_view::npos) {
    return fail(ErrorCode::kInvalidInput,
                "--ssh-host-key: expected 'TYPE BASE64' as in /etc/ssh/ssh_host_ed25519_key.pub");
  }
  std::string_view type = t.substr(0, space);
  std::string_view rest = core::trim(t.substr(space + 1));
  std::string_view blob = rest.substr(0, rest.find(' '));
  static constexpr std::string_view kTypes[] = {"ssh-ed25519", "ecdsa-sha2-nistp256",
                                                "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                                "ssh-rsa"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("--ssh-host-key: unknown key type '{}'", type));
  }
  if (blob.size() < 16 ||
      blob.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string_view::npos) {
    return fail(ErrorCode::kInvalidInput, "--ssh-host-key: the key is not base64");
  }
  return fmt::format("{} {}", type, blob);
}

bool safe_remote_dir(std::string_view dir) {
  if (dir.empty() || dir.size() > 255) return false;
  if (dir.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/~") !=
      std::string_view::npos) {
    return false;
  }
  return dir.find("..") == std::string_view::npos && dir.front() != '-';
}

ExportHost host_of(const store::Row& r) {
  ExportHost h;
  h.id = r.integer(0);
  h.name = r.text(1);
  h.ssh_user = r.text(2);
  h.ssh_host = r.text(3);
  h.ssh_port = static_cast<int>(r.integer(4));
  h.ssh_host_key = r.text(5);
  h.remote_dir = r.text(6);
  if (auto k = parse_box_public(r.text(7), "dr_export_hosts")) h.key = *k;
  h.added_at = r.text(8);
  h.updated_at = r.text(9);
  return h;
}

constexpr std::string_view kHostSql =
    "SELECT id, name, ssh_user, ssh_host, ssh_port, ssh_host_key, remote_dir, box_public_key, "
    "added_at, updated_at FROM dr_export_hosts";

}  // namespace

Result<ExportHost> add_host(store::Store& store, const HostInput& input, bool replace,
                            const ExportActor& actor) {
  if (!slug(input.name)) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("host name '{}': 1 to 64 of a-z 0-9 . _ -", input.name));
  }
  auto target = parse_ssh_target(input.ssh);
  if (!target) return tl::unexpected(target.error());
  auto host_key = parse_host_key(input.ssh_host_key);
  if (!host_key) return tl::unexpected(host_key.error());
  if (!safe_remote_dir(input.remote_dir)) {
    return fail(
        ErrorCode::kInvalidInput,
        fmt::format("--dir '{}': a path of A-Z a-z 0-9 . _ - / ~ without '..'", input.remote_dir));
  }
  auto key = parse_box_public(input.public_key_text, "--pubkey");
  if (!key) return tl::unexpected(key.error());
  const std::string now = core::format_utc(actor.clock.now());
  const std::string key_hex = key_text(*key);
  json details = {{"ssh", fmt::format("{}@{}:{}", target->user, target->host, target->port)},
                  {"dir", input.remote_dir},
                  {"key_id", key->key_id()},
                  {"ssh_host_key", *host_key}};
  VIGIE_TRY(internal::audited(
      store, actor, "export.host.add", "export-host:" + input.name, details, [&]() -> Status {
        VIGIE_TRY(store.lock_table("dr_export_hosts"));
        std::vector<Value> name = {input.name};
        auto id = store.query_int("SELECT COALESCE(MAX(id), 0) FROM dr_export_hosts WHERE name = ?",
                                  name);
        if (!id) return tl::unexpected(id.error());
        std::vector<Value> p = {target->user,
                                target->host,
                                std::int64_t{target->port},
                                *host_key,
                                input.remote_dir,
                                std::string(core::trim(key_hex)),
                                key->key_id(),
                                now};
        if (*id != 0) {
          if (!replace) {
            return fail(ErrorCode::kConflict,
                        fmt::format("host '{}' exists (use --replace to change it)", input.name));
          }
          p.emplace_back(*id);
          return store.execute(
              "UPDATE dr_export_hosts SET ssh_user = ?, ssh_host = ?, ssh_port = ?, ssh_host_key "
              "= ?, remote_dir = ?, box_public_key = ?, key_id = ?, updated_at = ? WHERE id = ?",
              p);
        }
        auto next = store.next_id("dr_export_hosts");
        if (!next) return tl::unexpected(next.error());
        p.insert(p.begin(), Value(input.name));
        p.insert(p.begin(), Value(*next));
        p.emplace_back(now);
        p.emplace_back(actor.name);
        return store.execute(
            "INSERT INTO dr_export_hosts (id, name, ssh_user, ssh_host, ssh_port, ssh_host_key, "
            "remote_dir, box_public_key, key_id, updated_at, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            p);
      }));
  auto hosts = list_hosts(store);
  if (!hosts) return tl::unexpected(hosts.error());
  for (auto& h : *hosts) {
    if (h.name == input.name) return h;
  }
  return fail(ErrorCode::kInternal, "the host just added is not in the store");
}

Status remove_host(store::Store& store, std::string_view name, const ExportActor& actor) {
  return internal::audited(
      store, actor, "export.host.remove", "export-host:" + std::string(name), json::object(),
      [&]() -> Status {
        std::vector<Value> key = {std::string(name)};
        auto n = store.query_int("SELECT COUNT(*) FROM dr_export_hosts WHERE name = ?", key);
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) return fail(ErrorCode::kNotFound, fmt::format("no host '{}'", name));
        return store.execute("DELETE FROM dr_export_hosts WHERE name = ?", key);
      });
}

Result<std::vector<ExportHost>> list_hosts(store::Store& store) {
  auto rows = store.query(std::string(kHostSql) + " ORDER BY name");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<ExportHost> out;
  for (const auto& r : *rows) out.push_back(host_of(r));
  return out;
}

}  // namespace vigie::resilience
