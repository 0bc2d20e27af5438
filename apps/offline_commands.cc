#include "offline_commands.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/home.h"
#include "vigie/inventory/model.h"
#include "vigie/resilience/journal.h"
#include "vigie/resilience/sync.h"
#include "vigie/resilience/sync_client.h"

namespace vigie::apps {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;
using nlohmann::json;
using resilience::Journal;

// A batch stays well under vigied's 1 MiB request limit.
constexpr size_t kMaxBatchBytes = size_t{768} << 10;

const core::SystemClock& system_clock() {
  static const core::SystemClock kClock;
  return kClock;
}

fs::path journal_path(const fs::path& home) { return home / "offline" / "journal.db"; }

core::Result<Journal> open_journal(const fs::path& home) {
  return Journal::open(journal_path(home));
}

std::string strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The site's sync token: from a file (first line) or $VIGIE_SYNC_TOKEN, never the command line
// (which other users can read in the process list).
core::Result<std::string> read_token(const std::string& file) {
  if (!file.empty()) {
    auto text = core::read_file(file);
    if (!text) return tl::unexpected(text.error());
    auto line = strip(text->substr(0, text->find('\n')));
    if (line.empty()) return core::fail(ErrorCode::kInvalidInput, "the token file is empty", file);
    return line;
  }
  const char* env = std::getenv("VIGIE_SYNC_TOKEN");  // NOLINT(concurrency-mt-unsafe)
  if (env != nullptr && *env != '\0') return std::string(env);
  return core::fail(ErrorCode::kUsage,
                    "the site's sync token is needed: --token-file FILE or $VIGIE_SYNC_TOKEN");
}

std::string normalize_fingerprint(std::string_view fp) {
  std::string out;
  for (char c : fp) {
    if (c == ':' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

struct Remote {
  std::string url;
  std::string token;
  resilience::SyncClient client;
};

core::Result<Remote> connect(Journal& journal) {
  auto url = journal.setting("server");
  auto cert = journal.setting("server_cert");
  auto token = journal.setting("token");
  if (!url || !cert || !token) {
    return tl::unexpected(!url ? url.error() : !cert ? cert.error() : token.error());
  }
  auto client = resilience::SyncClient::connect(*url, *cert);
  if (!client) return tl::unexpected(client.error());
  return Remote{*url, *token, std::move(*client)};
}

core::Error reply_error(const resilience::HttpReply& reply, std::string_view what) {
  std::string detail;
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_object() && j.contains("detail") && j["detail"].is_string()) detail = j["detail"];
  if (reply.status == 401) {
    return {ErrorCode::kInvalidInput,
            "the server refused the site's sync token (create a new one with `vigie offline "
            "token-create SITE` on the server)",
            std::string(what)};
  }
  return {reply.status == 409 ? ErrorCode::kConflict : ErrorCode::kUnavailable,
          fmt::format("HTTP {}: {}", reply.status, detail.empty() ? reply.body : detail),
          std::string(what)};
}

// Downloads the site's device snapshot into the journal file.
core::Result<size_t> refresh_snapshot(Journal& journal, Remote& remote) {
  auto reply = remote.client.request("GET", fmt::format("/api/v1/sync/{}/snapshot", journal.site()),
                                     remote.token);
  if (!reply) return tl::unexpected(reply.error());
  if (reply->status != 200) return tl::unexpected(reply_error(*reply, "snapshot"));
  std::string taken_at;
  auto parsed = resilience::parse_snapshot(reply->body, &taken_at);
  if (!parsed) return tl::unexpected(parsed.error());
  VIGIE_TRY(journal.replace_snapshot(parsed->first, parsed->second, taken_at));
  return parsed->first.size();
}

json entry_json(const resilience::JournalEntry& e) {
  return {{"site", e.site},
          {"seq", e.seq},
          {"at", e.at},
          {"actor", e.actor},
          {"kind", e.kind},
          {"object", e.object},
          {"payload", json::parse(e.payload, nullptr, false)},
          {"base_version", e.base_version},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

std::int64_t setting_int(Journal& journal, std::string_view key) {
  auto v = journal.setting(key);
  if (!v || v->empty()) return 0;
  return std::strtoll(v->c_str(), nullptr, 10);
}

}  // namespace

OfflineCommands::OfflineCommands(CLI::App& app) {
  auto* offline = app.add_subcommand(
      "offline", "Work without the server: a local journal, synchronised later (vigie sync)");
  offline->require_subcommand(1);
  init_ = offline->add_subcommand("init", "Create this PC's offline journal for a site");
  init_->add_option("--site", site_, "Site name (as given to `offline token-create`)")->required();
  init_->add_option("--server", server_, "The server, https://host:port")->required();
  init_->add_option("--server-cert", server_cert_, "The server's certificate (PEM) to pin");
  init_->add_option("--fingerprint", fingerprint_,
                    "SHA-256 fingerprint of the server certificate, read on the server");
  init_->add_option("--token-file", token_file_, "File holding the site's sync token");

  auto* record = offline->add_subcommand("record", "Record what was done, while offline");
  record->require_subcommand(1);
  auto add_actor = [this](CLI::App* c) {
    c->add_option("--actor", actor_, "Who did it (default: $VIGIE_USER, $USER)");
  };
  record_status_ = record->add_subcommand(
      "status", "A device disconnected, reconnected (in-service), decommissioned...");
  record_status_->add_option("DEVICE", id_, "Device id")->required();
  record_status_->add_option("STATUS", value_, "disconnected, in-service, standalone...")
      ->required();
  record_status_->add_option("--reason", text_, "Why");
  add_actor(record_status_);
  record_edit_ = record->add_subcommand("edit", "A device field changed (location, owner...)");
  record_edit_->add_option("DEVICE", id_, "Device id")->required();
  record_edit_->add_option("ASSIGNMENT", value_, "FIELD=VALUE")->required();
  add_actor(record_edit_);
  record_mitigation_ = record->add_subcommand("mitigation", "A mitigation applied to a finding");
  record_mitigation_->add_option("FINDING", id_, "Finding id")->required();
  record_mitigation_->add_option("--note", text_, "What was done")->required();
  add_actor(record_mitigation_);
  record_backup_ = record->add_subcommand("backup", "A backup checked");
  record_backup_->add_option("SYSTEM", value_, "The system (name, or device:ID)")->required();
  record_backup_->add_option("--result", result_, "ok or failed")
      ->check(CLI::IsMember({"ok", "failed"}));
  record_backup_->add_option("--note", text_, "What was checked");
  add_actor(record_backup_);
  record_note_ = record->add_subcommand("note", "A free-text note");
  record_note_->add_option("OBJECT", value_, "What it is about (device:12, site...)")->required();
  record_note_->add_option("TEXT", text_, "The note")->required();
  add_actor(record_note_);

  list_ = offline->add_subcommand("list", "The journal's entries");
  list_->add_flag("--pending", pending_, "Only the entries not yet synchronised");
  list_->add_flag("--json", json_, "One JSON array on stdout");
  verify_ = offline->add_subcommand("verify", "Check the journal's chain and sequence");
  verify_->add_flag("--json", json_, "JSON on stdout");
  devices_ = offline->add_subcommand("devices", "The devices of the offline snapshot");
  devices_->add_flag("--json", json_, "JSON on stdout");
  token_create_ = offline->add_subcommand(
      "token-create", "On the server: create (or replace) a site's sync token, shown once");
  token_create_->add_option("SITE", site_, "Site name")->required();
  token_create_->add_option("--inventory-site", inventory_site_,
                            "Only the devices of this inventory site in its snapshot");

  sync_ = app.add_subcommand("sync", "Upload the offline journal to the server, then merge");
  sync_->require_subcommand(0, 1);
  sync_->add_flag("--json", json_, "The outcome as JSON");
  sync_->add_option("--batch", batch_, "Entries per request (default 2000; at most 768 KiB)")
      ->check(CLI::Range(1, 5000));
  conflicts_ = sync_->add_subcommand("conflicts", "On the server: offline edits in conflict");
  conflicts_->add_flag("--all", all_, "Resolved ones too");
  conflicts_->add_flag("--json", json_, "JSON on stdout");
  resolve_ = sync_->add_subcommand("resolve", "On the server: decide a conflict");
  resolve_->add_option("ID", id_, "Conflict id")->required();
  resolve_->add_option("--keep", keep_, "central, offline, or the value to set")->required();
  add_actor(resolve_);
  problems_ = sync_->add_subcommand(
      "problems", "On the server: gaps, broken chains, forgeries and refused entries");
  problems_->add_option("--site", site_, "Only this site");
  problems_->add_flag("--json", json_, "JSON on stdout");
}

std::optional<int> OfflineCommands::run_without_store(
    const std::optional<std::string>& home_flag) const {
  const fs::path home = core::resolve_home(home_flag);
  if (init_->parsed()) return init(home);
  if (record_status_->parsed() || record_edit_->parsed() || record_mitigation_->parsed() ||
      record_backup_->parsed() || record_note_->parsed()) {
    return record(home);
  }
  if (list_->parsed()) return list(home);
  if (verify_->parsed()) return verify(home);
  if (devices_->parsed()) return devices(home);
  if (sync_->parsed() && !conflicts_->parsed() && !resolve_->parsed() && !problems_->parsed()) {
    return sync(home);
  }
  return std::nullopt;
}

std::optional<int> OfflineCommands::run(AppContext& ctx) const {
  if (token_create_->parsed()) return token_create(ctx);
  if (conflicts_->parsed()) return conflicts(ctx);
  if (resolve_->parsed()) return resolve(ctx);
  if (problems_->parsed()) return problems(ctx);
  return std::nullopt;
}

int OfflineCommands::init(const fs::path& home) const {
  if (auto url = resilience::parse_server_url(server_); !url) return fail_with(url.error());
  if (server_cert_.empty() == fingerprint_.empty()) {
    return fail_with({ErrorCode::kUsage,
                      "give the server's certificate: --server-cert FILE or --fingerprint SHA256",
                      ""});
  }
  auto token = read_token(token_file_);
  if (!token) return fail_with(token.error());
  std::string pem;
  if (!server_cert_.empty()) {
    auto text = core::read_file(server_cert_);
    if (!text) return fail_with(text.error());
    if (auto fp = resilience::certificate_fingerprint(*text); !fp) {
      return fail_with({fp.error().code, fp.error().message, server_cert_});
    }
    pem = *text;
  } else {
    auto fetched = resilience::fetch_server_certificate(server_);
    if (!fetched) return fail_with(fetched.error());
    auto fp = resilience::certificate_fingerprint(*fetched);
    if (!fp) return fail_with(fp.error());
    if (normalize_fingerprint(*fp) != normalize_fingerprint(fingerprint_)) {
      return fail_with({ErrorCode::kInvalidInput,
                        fmt::format("the server presents certificate {}, not the one given: "
                                    "not pinned, nothing created",
                                    *fp),
                        server_});
    }
    pem = *fetched;
  }
  std::error_code ec;
  fs::create_directories(home, ec);
  ::chmod(home.c_str(), 0700);
  auto journal = Journal::create(journal_path(home), site_);
  if (!journal) return fail_with(journal.error());
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"server", server_},
                                   {"server_cert", pem},
                                   {"token", *token}}) {
    if (auto st = journal->set_setting(key, value); !st) return fail_with(st.error());
  }
  std::cout << fmt::format("offline journal for site {}: {}\n", site_, journal->file().string());
  auto remote = connect(*journal);
  auto loaded = remote ? refresh_snapshot(*journal, *remote)
                       : core::Result<size_t>(tl::unexpected(remote.error()));
  if (!loaded) {
    std::cerr << "vigie: no device snapshot yet (" << loaded.error().to_string()
              << "); run `vigie sync` when the server is reachable\n";
    return 0;
  }
  std::cout << fmt::format("snapshot: {} devices\n", *loaded);
  return 0;
}

int OfflineCommands::record(const fs::path& home) const {
  auto journal = open_journal(home);
  if (!journal) return fail_with(journal.error());
  resilience::EntryInput in;
  in.actor = actor_.empty() ? current_user() : actor_;
  auto snapshot_device = [&](std::int64_t id) -> core::Result<resilience::SnapshotDevice> {
    auto d = journal->device(id);
    if (!d) return tl::unexpected(d.error());
    if (!*d) {
      return core::fail(ErrorCode::kNotFound,
                        fmt::format("device {} is not in the offline snapshot (`vigie offline "
                                    "devices` lists it; `vigie sync` refreshes it)",
                                    id));
    }
    return **d;
  };
  if (record_status_->parsed() || record_edit_->parsed()) {
    auto device = snapshot_device(id_);
    if (!device) return fail_with(device.error());
    json fields = json::parse(device->fields, nullptr, false);
    std::string field = "status";
    std::string raw = value_;
    if (record_edit_->parsed()) {
      auto eq = value_.find('=');
      if (eq == std::string::npos || eq == 0) {
        return fail_with({ErrorCode::kUsage, fmt::format("'{}' is not FIELD=VALUE", value_), ""});
      }
      field = value_.substr(0, eq);
      raw = value_.substr(eq + 1);
    }
    auto value = resilience::normalize_device_field(field, raw);
    if (!value) return fail_with(value.error());
    std::string base = fields.is_object() && fields.contains(field) && fields[field].is_string()
                           ? fields[field].get<std::string>()
                           : std::string();
    in.object = fmt::format("device:{}", id_);
    in.base_version = device->version;
    if (record_status_->parsed()) {
      in.kind = resilience::EntryKind::kDeviceStatus;
      json p = {{"status", *value}, {"base", base}};
      if (!text_.empty()) p["reason"] = text_;
      in.payload = p.dump();
    } else {
      in.kind = resilience::EntryKind::kDeviceEdit;
      in.payload = json{{"field", field}, {"value", *value}, {"base", base}}.dump();
    }
  } else if (record_mitigation_->parsed()) {
    auto finding = journal->finding(id_);
    if (!finding) return fail_with(finding.error());
    if (!*finding) {
      return fail_with({ErrorCode::kNotFound,
                        fmt::format("finding {} is not among the open findings of the offline "
                                    "snapshot",
                                    id_),
                        ""});
    }
    in.kind = resilience::EntryKind::kMitigation;
    in.object = fmt::format("finding:{}", id_);
    in.payload = json{{"note", text_}, {"device", (*finding)->device_id}}.dump();
  } else if (record_backup_->parsed()) {
    in.kind = resilience::EntryKind::kBackupCheck;
    in.object = resilience::object_id(value_, "device") ? value_ : "system:" + value_;
    json p = {{"result", result_}};
    if (!text_.empty()) p["note"] = text_;
    in.payload = p.dump();
  } else {
    in.kind = resilience::EntryKind::kNote;
    in.object = value_;
    in.payload = json{{"text", text_}}.dump();
  }
  auto entry = journal->append(in, system_clock().now());
  if (!entry) return fail_with(entry.error());
  std::cout << fmt::format("recorded #{} {} {} ({})\n", entry->seq, entry->kind, entry->object,
                           entry->at);
  return 0;
}

int OfflineCommands::list(const fs::path& home) const {
  auto journal = open_journal(home);
  if (!journal) return fail_with(journal.error());
  const std::int64_t after = pending_ ? setting_int(*journal, "uploaded_seq") : 0;
  json all = json::array();
  auto st = journal->for_each(after, [&](const resilience::JournalEntry& e) {
    if (json_) {
      all.push_back(entry_json(e));
    } else {
      std::cout << fmt::format("{:>6}  {}  {:<12} {:<14} {:<16} {}\n", e.seq, e.at, e.actor, e.kind,
                               e.object, e.payload);
    }
    return true;
  });
  if (!st) return fail_with(st.error());
  if (json_) std::cout << dump(all) << "\n";
  return 0;
}

int OfflineCommands::verify(const fs::path& home) const {
  auto journal = open_journal(home);
  if (!journal) return fail_with(journal.error());
  auto check = journal->verify();
  if (!check) return fail_with(check.error());
  const std::int64_t uploaded = setting_int(*journal, "uploaded_seq");
  if (json_) {
    std::cout << dump({{"site", journal->site()},
                       {"ok", check->ok},
                       {"entries", check->entries},
                       {"head", check->head},
                       {"uploaded_seq", uploaded},
                       {"first_bad_seq", check->first_bad_seq},
                       {"problem", check->problem}})
              << "\n";
  }
  if (!check->ok) {
    std::cerr << fmt::format("vigie: {}: entry {}: {}\n", journal->file().string(),
                             check->first_bad_seq, check->problem);
    return 1;
  }
  if (!json_) {
    std::cout << fmt::format("journal of site {}: {} entries, chain intact, {} synchronised\n",
                             journal->site(), check->entries, uploaded);
  }
  return 0;
}

int OfflineCommands::devices(const fs::path& home) const {
  auto journal = open_journal(home);
  if (!journal) return fail_with(journal.error());
  auto all = journal->devices();
  if (!all) return fail_with(all.error());
  json out = json::array();
  for (const auto& d : *all) {
    json fields = json::parse(d.fields, nullptr, false);
    if (json_) {
      out.push_back({{"id", d.id},
                     {"version", d.version},
                     {"label", d.label},
                     {"site", d.site},
                     {"fields", fields}});
      continue;
    }
    std::cout << fmt::format("{:>6}  {:<40} {:<14} {}\n", d.id, d.label,
                             fields.value("status", std::string()),
                             fields.value("location", std::string()));
  }
  if (json_) std::cout << dump(out) << "\n";
  return 0;
}

int OfflineCommands::sync(const fs::path& home) const {
  auto journal = open_journal(home);
  if (!journal) return fail_with(journal.error());
  auto check = journal->verify();
  if (!check) return fail_with(check.error());
  if (!check->ok) {
    return fail_with({ErrorCode::kInvalidInput,
                      fmt::format("the journal is damaged at entry {} ({}): not uploaded",
                                  check->first_bad_seq, check->problem),
                      journal->file().string()});
  }
  auto remote = connect(*journal);
  if (!remote) {
    std::cerr << fmt::format("vigie: {} entries wait in the journal\n",
                             check->entries - setting_int(*journal, "uploaded_seq"));
    return fail_with(remote.error());
  }
  const std::string target = fmt::format("/api/v1/sync/{}", journal->site());
  auto state = remote->client.request("GET", target, remote->token);
  if (!state) return fail_with(state.error());
  if (state->status != 200) return fail_with(reply_error(*state, target));
  json head = json::parse(state->body, nullptr, false);
  const std::int64_t server_head = head.is_object() ? head.value("head_seq", std::int64_t{0}) : 0;

  json totals = {{"sent", 0},      {"stored", 0},    {"duplicates", 0}, {"applied", 0},
                 {"unchanged", 0}, {"conflicts", 0}, {"recorded", 0},   {"rejected", 0}};
  json problems = json::array();
  std::int64_t acknowledged = server_head;
  std::vector<resilience::JournalEntry> batch;
  size_t bytes = 0;
  std::optional<core::Error> failure;
  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    auto reply =
        remote->client.request("POST", target, remote->token, resilience::batch_json(batch));
    if (!reply) {
      failure = reply.error();
      return false;
    }
    if (reply->status != 200) {
      failure = reply_error(*reply, target);
      return false;
    }
    json r = json::parse(reply->body, nullptr, false);
    if (!r.is_object()) {
      failure = core::Error{ErrorCode::kUnavailable, "the server's reply is not JSON", target};
      return false;
    }
    totals["sent"] = totals["sent"].get<std::int64_t>() + static_cast<std::int64_t>(batch.size());
    for (const char* k :
         {"stored", "duplicates", "applied", "unchanged", "conflicts", "recorded", "rejected"}) {
      totals[k] = totals[k].get<std::int64_t>() + r.value(k, std::int64_t{0});
    }
    for (const auto& p : r.value("problems", json::array())) problems.push_back(p);
    acknowledged = r.value("head_seq", acknowledged);
    // Progress survives a crash: the next run starts from the server's head anyway.
    if (auto st = journal->set_setting("uploaded_seq", std::to_string(acknowledged)); !st) {
      failure = st.error();
      return false;
    }
    batch.clear();
    bytes = 0;
    return true;
  };
  auto st = journal->for_each(server_head, [&](const resilience::JournalEntry& e) {
    bytes += e.payload.size() + e.object.size() + e.actor.size() + 400;
    batch.push_back(e);
    if (batch.size() >= batch_ || bytes >= kMaxBatchBytes) return flush();
    return true;
  });
  if (!st) return fail_with(st.error());
  if (!failure) flush();
  if (failure) {
    std::cerr << fmt::format("vigie: synchronised up to entry {} of {}\n", acknowledged,
                             check->entries);
    return fail_with(*failure);
  }
  if (auto st2 = journal->set_setting("uploaded_seq", std::to_string(acknowledged)); !st2) {
    return fail_with(st2.error());
  }
  auto loaded = refresh_snapshot(*journal, *remote);
  if (!loaded) return fail_with(loaded.error());
  totals["head_seq"] = acknowledged;
  totals["snapshot_devices"] = *loaded;
  totals["problems"] = problems;
  if (json_) {
    std::cout << dump(totals) << "\n";
  } else {
    std::cout << fmt::format(
        "synchronised site {} up to entry {}: {} sent, {} new, {} already there, {} applied, {} "
        "unchanged, {} conflicts, {} recorded, {} rejected; snapshot: {} devices\n",
        journal->site(), acknowledged, totals["sent"].get<std::int64_t>(),
        totals["stored"].get<std::int64_t>(), totals["duplicates"].get<std::int64_t>(),
        totals["applied"].get<std::int64_t>(), totals["unchanged"].get<std::int64_t>(),
        totals["conflicts"].get<std::int64_t>(), totals["recorded"].get<std::int64_t>(),
        totals["rejected"].get<std::int64_t>(), *loaded);
    for (const auto& p : problems) {
      std::cerr << fmt::format("vigie: entry {}: {}: {}\n", p.value("seq", std::int64_t{0}),
                               p.value("kind", std::string()), p.value("detail", std::string()));
    }
  }
  return 0;
}

int OfflineCommands::token_create(AppContext& ctx) const {
  auto token = resilience::create_sync_token(*ctx.store, site_, inventory_site_, current_user(),
                                             "cli", system_clock());
  if (!token) return fail_with(token.error());
  std::cerr << fmt::format(
      "vigie: sync token of site {} (shown once; give it to the offline PC in a file, "
      "`vigie offline init --token-file`):\n",
      site_);
  std::cout << *token << "\n";
  return 0;
}

int OfflineCommands::conflicts(AppContext& ctx) const {
  auto all = resilience::list_conflicts(*ctx.store, !all_);
  if (!all) return fail_with(all.error());
  auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(); };
  json out = json::array();
  for (const auto& c : *all) {
    if (json_) {
      out.push_back({{"id", c.id},
                     {"site", c.site},
                     {"seq", c.seq},
                     {"object", c.object},
                     {"field", c.field},
                     {"base_value", opt(c.base_value)},
                     {"offline_value", opt(c.offline_value)},
                     {"central_value", opt(c.central_value)},
                     {"base_version", c.base_version},
                     {"central_version", c.central_version},
                     {"offline_actor", c.offline_actor},
                     {"offline_at", c.offline_at},
                     {"raised_at", c.raised_at},
                     {"status", c.status},
                     {"resolution", c.resolution.empty() ? json() : json(c.resolution)},
                     {"resolved_value", opt(c.resolved_value)},
                     {"resolved_by", c.resolved_by.empty() ? json() : json(c.resolved_by)},
                     {"resolved_at", c.resolved_at.empty() ? json() : json(c.resolved_at)}});
      continue;
    }
    std::cout << fmt::format(
        "{:>5}  {} #{} {} {}: central '{}', offline '{}' (by {} at {}; was '{}'){}\n", c.id, c.site,
        c.seq, c.object, c.field, c.central_value.value_or(""), c.offline_value.value_or(""),
        c.offline_actor, c.offline_at, c.base_value.value_or(""),
        c.status == "open" ? std::string()
                           : fmt::format(" resolved: {} by {}", c.resolution, c.resolved_by));
  }
  if (json_) {
    std::cout << dump(out) << "\n";
  } else {
    std::cerr << fmt::format("{} conflict{}\n", all->size(), all->size() == 1 ? "" : "s");
  }
  return 0;
}

int OfflineCommands::resolve(AppContext& ctx) const {
  const std::string actor = actor_.empty() ? current_user() : actor_;
  if (auto st = resilience::resolve_conflict(*ctx.store, id_, keep_, actor, "cli", system_clock());
      !st) {
    return fail_with(st.error());
  }
  std::cout << fmt::format("conflict {} resolved ({})\n", id_, keep_);
  return 0;
}

int OfflineCommands::problems(AppContext& ctx) const {
  auto recorded = resilience::recorded_problems(*ctx.store);
  if (!recorded) return fail_with(recorded.error());
  auto found = resilience::verify_sites(*ctx.store, site_);
  if (!found) return fail_with(found.error());
  auto to_json = [](const std::vector<resilience::SyncProblem>& list, const std::string& only) {
    json out = json::array();
    for (const auto& p : list) {
      if (!only.empty() && p.site != only) continue;
      out.push_back({{"site", p.site},
                     {"seq", p.seq},
                     {"kind", p.kind},
                     {"detail", p.detail},
                     {"detected_at", p.detected_at.empty() ? json() : json(p.detected_at)}});
    }
    return out;
  };
  json doc = {{"chain", to_json(*found, site_)}, {"recorded", to_json(*recorded, site_)}};
  if (json_) {
    std::cout << dump(doc) << "\n";
  } else {
    std::cout << fmt::format("stored chains: {}\n", found->empty() ? "intact" : "PROBLEMS FOUND");
    for (const auto& p : doc["chain"]) {
      std::cout << fmt::format("  {} #{} {}: {}\n", p["site"].get<std::string>(),
                               p["seq"].get<std::int64_t>(), p["kind"].get<std::string>(),
                               p["detail"].get<std::string>());
    }
    std::cout << fmt::format("recorded at upload: {}\n", doc["recorded"].size());
    for (const auto& p : doc["recorded"]) {
      std::cout << fmt::format("  {} {} #{} {}: {}\n", p["detected_at"].get<std::string>(),
                               p["site"].get<std::string>(), p["seq"].get<std::int64_t>(),
                               p["kind"].get<std::string>(), p["detail"].get<std::string>());
    }
  }
  return found->empty() ? 0 : 1;
}

}  // namespace vigie::apps
