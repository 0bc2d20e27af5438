#include "export_commands.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory_commands.h"
#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/resilience/archive.h"
#include "vigie/resilience/dr_export.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace rs = resilience;

const core::SystemClock kClock;

rs::ExportActor actor() { return {current_user(), "cli", kClock}; }

int host_keygen(const std::string& dir) {
  const std::filesystem::path d(dir);
  rs::BoxKeyPair key = rs::generate_box_key();
  if (auto st = rs::write_secret_key_file(d / "host.key", rs::key_text(key)); !st) {
    return fail_with(st.error());
  }
  if (auto st = core::write_file_durably(d / "host.pub", rs::key_text(key.public_key), 0644); !st) {
    return fail_with(st.error());
  }
  std::cout << fmt::format(
      "host key written: {} (secret, mode 0600) and {}\nkey id {}\n\n"
      "On the Vigie server, register this PC with:\n"
      "  vigie export host add NAME --pubkey {} --ssh USER@THIS-PC --dir DIR "
      "--ssh-host-key /etc/ssh/ssh_host_ed25519_key.pub (as read on this PC)\n"
      "Then copy the server's export/signing.pub here as {} so that `vigie export verify` "
      "trusts it.\n",
      (d / "host.key").string(), (d / "host.pub").string(), key.public_key.key_id(),
      rs::key_text(key.public_key).substr(0, rs::key_text(key.public_key).size() - 1),
      (d / "signer.pub").string());
  return 0;
}

int verify(const std::string& file, const std::string& key_arg, const std::string& decrypt_with,
           const std::string& unpack, bool as_json) {
  std::string key_source = key_arg;
  if (key_source.empty() && !decrypt_with.empty()) {
    key_source = (std::filesystem::path(decrypt_with).parent_path() / "signer.pub").string();
    if (!std::filesystem::exists(key_source)) key_source.clear();
  }
  if (key_source.empty()) {
    return fail_with({core::ErrorCode::kUsage,
                      "which signing key to trust: pass --key (the server's export/signing.pub), "
                      "or keep it as signer.pub beside the --decrypt-with key",
                      ""});
  }
  auto key_text = rs::key_argument_text(key_source);
  if (!key_text) return fail_with(key_text.error());
  auto trusted = rs::parse_signing_public(*key_text, key_source);
  if (!trusted) return fail_with(trusted.error());
  std::optional<rs::BoxKeyPair> host;
  if (!decrypt_with.empty()) {
    auto text = rs::read_secret_key_file(decrypt_with);
    if (!text) return fail_with(text.error());
    auto parsed = rs::parse_box_secret(*text, decrypt_with);
    rs::wipe(text->data(), text->size());
    if (!parsed) return fail_with(parsed.error());
    host = std::move(*parsed);
  } else if (!unpack.empty()) {
    return fail_with({core::ErrorCode::kUsage, "--unpack needs --decrypt-with (the PC's key)", ""});
  }
  auto bytes = core::read_file(file);
  if (!bytes) return fail_with(bytes.error());
  auto verified = rs::verify_archive(*bytes, *trusted, host ? &*host : nullptr, file);
  if (!verified) {
    if (as_json) {
      std::cout << dump({{"file", file}, {"ok", false}, {"reason", verified.error().message}})
                << "\n";
    }
    std::cerr << "vigie: REFUSED: " << verified.error().to_string() << "\n";
    return 1;
  }
  if (!unpack.empty()) {
    if (auto st = rs::unpack_files(*verified, unpack); !st) return fail_with(st.error());
  }
  const auto& m = verified->meta;
  if (as_json) {
    json files = json::array();
    for (const auto& e : verified->manifest) {
      files.push_back({{"path", e.path}, {"size", e.size}, {"sha256", e.sha256}});
    }
    std::cout << dump({{"file", file},
                       {"ok", true},
                       {"generation", m.generation},
                       {"created_at", m.created_at},
                       {"site", m.site},
                       {"vigie_version", m.vigie_version},
                       {"signer_key_id", verified->signer_key_id},
                       {"recipients", verified->recipients},
                       {"contents_checked", verified->decrypted},
                       {"files", files},
                       {"unpacked_to", unpack.empty() ? json() : json(unpack)}})
              << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "{}: signature OK (key id {})\ngeneration {} made {} for {} by Vigie {}\n"
      "encrypted for: {}\n",
      file, verified->signer_key_id, m.generation, m.created_at, m.site, m.vigie_version,
      fmt::join(verified->recipients, ", "));
  if (verified->decrypted) {
    std::cout << fmt::format("manifest signature OK; {} files, every SHA-256 matches\n",
                             verified->manifest.size());
  } else {
    std::cout << "content not checked: pass --decrypt-with HOST.key to check every file\n";
  }
  if (!unpack.empty()) {
    std::cout << fmt::format("unpacked to {} (open {}/index.html)\n", unpack, unpack);
  }
  return 0;
}

int keygen(AppContext& ctx) {
  auto made = rs::create_export_keys(*ctx.store, ctx.home, ctx.config, actor());
  if (!made) return fail_with(made.error());
  const auto paths = rs::export_paths(ctx.home, ctx.config);
  std::cout << fmt::format(
      "signing key {} (key id {}); public key {}\n  install it on every strategic PC as "
      "signer.pub\nSSH key {}; add this line to each PC's authorized_keys:\n  {}\n",
      paths.signing_key.string(), made->signing_key_id, paths.signing_pub.string(),
      paths.ssh_key.string(), made->ssh_public_key);
  return 0;
}

json host_json(const rs::ExportHost& h) {
  return {{"name", h.name},
          {"ssh", fmt::format("{}@{}:{}", h.ssh_user, h.ssh_host, h.ssh_port)},
          {"dir", h.remote_dir},
          {"key_id", h.key.key_id()},
          {"ssh_host_key", h.ssh_host_key},
          {"added_at", h.added_at},
          {"updated_at", h.updated_at}};
}

int run_export(AppContext& ctx, bool as_json) {
  auto report = rs::run_export(*ctx.store, ctx.home, ctx.config, actor());
  if (!report) return fail_with(report.error());
  const auto& g = report->generation;
  if (as_json) {
    json pushes = json::array();
    for (const auto& p : report->pushes) {
      pushes.push_back({{"host", p.host},
                        {"outcome", rs::to_string(p.outcome)},
                        {"detail", p.detail},
                        {"generations_kept", p.generations_kept}});
    }
    std::cout << dump({{"generation", g.name},
                       {"archive", g.archive.string()},
                       {"sha256", g.sha256},
                       {"size", g.size},
                       {"devices", g.counts.devices},
                       {"findings", g.counts.findings},
                       {"procedures", g.counts.procedures},
                       {"contacts", g.counts.contacts},
                       {"pushes", pushes}})
              << "\n";
  } else {
    std::cout << fmt::format(
        "generation {}: {} ({} bytes); {} devices, {} findings, {} procedures, {} contacts\n",
        g.name, g.archive.string(), g.size, g.counts.devices, g.counts.findings,
        g.counts.procedures, g.counts.contacts);
    for (const auto& p : report->pushes) {
      std::cout << fmt::format("  {:<20} {:<12} {}\n", p.host, rs::to_string(p.outcome), p.detail);
    }
  }
  if (!report->all_ok()) {
    std::cerr << "vigie: the export did not reach every strategic PC (see above)\n";
    return 1;
  }
  return 0;
}

int status(AppContext& ctx, bool as_json) {
  auto statuses = rs::export_status(*ctx.store, ctx.config, kClock);
  if (!statuses) return fail_with(statuses.error());
  auto alerts = rs::export_alerts(*statuses, ctx.config);
  if (as_json) {
    json hosts = json::array();
    for (const auto& s : *statuses) {
      hosts.push_back(
          {{"host", s.name},
           {"state", rs::to_string(s.state)},
           {"last_success_at", s.last_success_at.empty() ? json() : json(s.last_success_at)},
           {"age_seconds", s.age_seconds ? json(*s.age_seconds) : json()},
           {"last_success_generation", s.last_success_generation},
           {"last_attempt_at", s.last_attempt_at},
           {"last_outcome", s.last_outcome},
           {"last_detail", s.last_detail}});
    }
    json list = json::array();
    for (const auto& a : alerts) {
      list.push_back({{"host", a.host}, {"kind", a.kind}, {"message", a.message}});
    }
    std::cout << dump({{"hosts", hosts}, {"alerts", list}}) << "\n";
  } else {
    std::cout << fmt::format("{:<20} {:<13} {:<22} {:>8}  {}\n", "HOST", "STATE", "LAST PUSH",
                             "AGE (h)", "LAST ATTEMPT");
    for (const auto& s : *statuses) {
      std::cout << fmt::format(
          "{:<20} {:<13} {:<22} {:>8}  {}\n", s.name, rs::to_string(s.state),
          s.last_success_at.empty() ? "never" : s.last_success_at,
          s.age_seconds ? std::to_string(*s.age_seconds / 3600) : "-",
          s.last_outcome.empty() ? "-" : s.last_outcome + ": " + s.last_detail);
    }
    for (const auto& a : alerts)
      std::cerr << "vigie: ALERT " << a.host << ": " << a.message << "\n";
  }
  return alerts.empty() ? 0 : 1;
}

}  // namespace

ExportCommands::ExportCommands(CLI::App& app) {
  auto* e = app.add_subcommand("export", "Disaster-recovery exports to the strategic PCs");
  e->require_subcommand(1);
  keygen_ = e->add_subcommand("keygen", "Create the export signing key and SSH key (once)");
  host_keygen_ = e->add_subcommand("host-keygen", "On a strategic PC: create its encryption key");
  host_keygen_->add_option("--out", out_dir_, "Directory for host.key and host.pub")->required();

  auto* host = e->add_subcommand("host", "The strategic PCs exports are pushed to");
  host->require_subcommand(1);
  host_add_ = host->add_subcommand("add", "Register a strategic PC");
  host_add_->add_option("NAME", name_, "Short name (a-z 0-9 . _ -)")->required();
  host_add_->add_option("--pubkey", pubkey_, "The PC's host.pub (file or key text)")->required();
  host_add_->add_option("--ssh", ssh_, "user@host or user@host:port")->required();
  host_add_->add_option("--dir", remote_dir_, "Directory on the PC for the archives")->required();
  host_add_
      ->add_option("--ssh-host-key", ssh_host_key_,
                   "The PC's SSH host key (file such as ssh_host_ed25519_key.pub, or text)")
      ->required();
  host_add_->add_flag("--replace", replace_, "Change a PC already registered under NAME");
  host_remove_ = host->add_subcommand("remove", "Forget a strategic PC");
  host_remove_->add_option("NAME", name_, "Its name")->required();
  host_list_ = host->add_subcommand("list", "List the strategic PCs");
  host_list_->add_flag("--json", json_, "JSON on stdout");

  auto* procedure = e->add_subcommand("procedure", "Degraded-mode procedures the exports carry");
  procedure->require_subcommand(1);
  procedure_add_ = procedure->add_subcommand("add", "Register (or replace) a procedure document");
  procedure_add_->add_option("NAME", name_, "Short name (a-z 0-9 . _ -)")->required();
  procedure_add_->add_option("FILE", file_, "The document (PDF, text, HTML...)")->required();
  procedure_add_->add_option("--title", title_, "Title (default: the file name)");
  procedure_add_->add_option("--applies-to", applies_to_, "Service, site or kind of device");
  procedure_remove_ = procedure->add_subcommand("remove", "Remove a procedure");
  procedure_remove_->add_option("NAME", name_, "Its name")->required();
  procedure_list_ = procedure->add_subcommand("list", "List the procedures");
  procedure_list_->add_flag("--json", json_, "JSON on stdout");

  auto* contacts = e->add_subcommand("contacts", "Vendor contacts the exports carry");
  contacts->require_subcommand(1);
  contacts_import_ = contacts->add_subcommand("import", "Import vendor contacts from CSV");
  contacts_import_->add_option("FILE", file_, "CSV (docs/resilience-export.md)")->required();
  contacts_list_ = contacts->add_subcommand("list", "List vendor contacts");
  contacts_list_->add_flag("--json", json_, "JSON on stdout");

  run_ = e->add_subcommand("run", "Write a generation and push it to every strategic PC");
  run_->add_flag("--json", json_, "JSON on stdout");
  status_ = e->add_subcommand("status", "Last push per PC; stale or failing PCs (exit 1)");
  status_->add_flag("--json", json_, "JSON on stdout");
  verify_ = e->add_subcommand("verify", "Check an archive offline; optionally unpack it");
  verify_->add_option("FILE", file_, "The .vdr archive")->required();
  verify_->add_option("--key", key_, "The trusted signing public key (file or text)");
  verify_->add_option("--decrypt-with", decrypt_with_, "This PC's host.key: check the content");
  verify_->add_option("--unpack", unpack_, "Write the readable HTML/CSV files to DIR");
  verify_->add_flag("--json", json_, "JSON on stdout");
}

std::optional<int> ExportCommands::run_without_home() const {
  if (verify_->parsed()) return verify(file_, key_, decrypt_with_, unpack_, json_);
  if (host_keygen_->parsed()) return host_keygen(out_dir_);
  return std::nullopt;
}

std::optional<int> ExportCommands::run(AppContext& ctx) const {
  if (keygen_->parsed()) return keygen(ctx);
  if (host_add_->parsed()) {
    auto key_text = rs::key_argument_text(pubkey_);
    if (!key_text) return fail_with(key_text.error());
    std::string host_key = ssh_host_key_;
    if (std::filesystem::is_regular_file(ssh_host_key_)) {
      auto text = core::read_file(ssh_host_key_);
      if (!text) return fail_with(text.error());
      host_key = *text;
    }
    auto added = rs::add_host(*ctx.store, {name_, ssh_, remote_dir_, *key_text, host_key}, replace_,
                              actor());
    if (!added) return fail_with(added.error());
    std::cout << fmt::format("strategic PC {} {}: {}@{}:{} dir {} (key id {})\n", added->name,
                             replace_ ? "registered or updated" : "registered", added->ssh_user,
                             added->ssh_host, added->ssh_port, added->remote_dir,
                             added->key.key_id());
    return 0;
  }
  if (host_remove_->parsed()) {
    if (auto st = rs::remove_host(*ctx.store, name_, actor()); !st) return fail_with(st.error());
    std::cout << fmt::format("strategic PC {} removed\n", name_);
    return 0;
  }
  if (host_list_->parsed()) {
    auto hosts = rs::list_hosts(*ctx.store);
    if (!hosts) return fail_with(hosts.error());
    if (json_) {
      json out = json::array();
      for (const auto& h : *hosts) out.push_back(host_json(h));
      std::cout << dump(out) << "\n";
    } else {
      for (const auto& h : *hosts) {
        std::cout << fmt::format("{:<20} {}@{}:{} {:<24} key {}\n", h.name, h.ssh_user, h.ssh_host,
                                 h.ssh_port, h.remote_dir, h.key.key_id());
      }
    }
    return 0;
  }
  if (procedure_add_->parsed()) {
    auto id =
        rs::register_procedure(*ctx.store, ctx.home, {name_, title_, applies_to_, file_}, actor());
    if (!id) return fail_with(id.error());
    std::cout << fmt::format("procedure {} registered ({})\n", name_, file_);
    return 0;
  }
  if (procedure_remove_->parsed()) {
    if (auto st = rs::remove_procedure(*ctx.store, name_, actor()); !st) {
      return fail_with(st.error());
    }
    std::cout << fmt::format("procedure {} removed\n", name_);
    return 0;
  }
  if (procedure_list_->parsed()) {
    auto list = rs::list_procedures(*ctx.store);
    if (!list) return fail_with(list.error());
    if (json_) {
      json out = json::array();
      for (const auto& p : *list) {
        out.push_back({{"name", p.name},
                       {"title", p.title},
                       {"applies_to", p.applies_to},
                       {"document", p.document_name},
                       {"sha256", p.sha256},
                       {"size", p.size},
                       {"registered_at", p.registered_at},
                       {"registered_by", p.registered_by}});
      }
      std::cout << dump(out) << "\n";
    } else {
      for (const auto& p : *list) {
        std::cout << fmt::format("{:<30} {:<40} {}\n", p.name, p.title, p.document_name);
      }
    }
    return 0;
  }
  if (contacts_import_->parsed()) {
    auto imported = rs::import_vendor_contacts(*ctx.store, file_, actor());
    if (!imported) {
      fail_with(imported.error());
      std::cerr << "vigie: import refused; nothing was changed\n";
      return core::exit_code(imported.error());
    }
    std::cout << fmt::format("imported {}: {} contacts, {} created, {} updated\n", file_,
                             imported->records, imported->created, imported->updated);
    return 0;
  }
  if (contacts_list_->parsed()) {
    auto list = rs::list_vendor_contacts(*ctx.store);
    if (!list) return fail_with(list.error());
    if (json_) {
      json out = json::array();
      for (const auto& c : *list) {
        out.push_back({{"vendor", c.vendor},
                       {"service", c.service},
                       {"contact_name", c.contact_name},
                       {"phone", c.phone},
                       {"email", c.email},
                       {"hours", c.hours},
                       {"contract", c.contract},
                       {"notes", c.notes},
                       {"updated_at", c.updated_at}});
      }
      std::cout << dump(out) << "\n";
    } else {
      for (const auto& c : *list) {
        std::cout << fmt::format("{:<24} {:<20} {:<20} {:<18} {}\n", c.vendor, c.service,
                                 c.contact_name, c.phone, c.email);
      }
    }
    return 0;
  }
  if (run_->parsed()) return run_export(ctx, json_);
  if (status_->parsed()) return status(ctx, json_);
  return std::nullopt;
}

}  // namespace vigie::apps
