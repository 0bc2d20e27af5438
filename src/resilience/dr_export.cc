#include "vigie/resilience/dr_export.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "dr_export_internal.h"
#include "vigie/audit/audit.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/log.h"
#include "vigie/store/store.h"

#ifndef VIGIE_VERSION
#error "VIGIE_VERSION must be defined by the build"
#endif

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;
using store::Value;

// ISO 8601 basic format with milliseconds, always the same width so that names sort by time:
// "20261126T010203.042Z".
std::string generation_name(core::TimePoint t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  std::string text = core::format_utc(seconds);  // "2026-11-26T01:02:03Z"
  std::erase_if(text, [](char c) { return c == '-' || c == ':'; });
  text.pop_back();
  return fmt::format("{}.{:03d}Z", text, (t - seconds).count());
}

Status make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the directory: " + ec.message(), dir);
  ::chmod(dir.c_str(), 0700);
  return {};
}

Result<std::string> site_name(store::Store& store, const core::Config& config) {
  if (!config.export_site.empty()) return config.export_site;
  auto rows = store.query("SELECT name FROM sites ORDER BY name");
  if (!rows) return tl::unexpected(rows.error());
  std::string out;
  for (const auto& r : *rows) out += (out.empty() ? "" : ", ") + r.text(0);
  return out.empty() ? std::string("hospital") : out;
}

// Keeps the newest `keep` archives of the outbox (names sort by time).
void rotate_outbox(const std::filesystem::path& outbox, std::int64_t keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(outbox, ec)) {
    const std::string name = e.path().filename().string();
    if (internal::is_archive_file_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < names.size(); ++i) {
    std::filesystem::remove(outbox / names[i], ec);
  }
}

}  // namespace

std::string_view to_string(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::kOk:
      return "ok";
    case PushOutcome::kUnreachable:
      return "unreachable";
    case PushOutcome::kUnverifiable:
      return "unverifiable";
    case PushOutcome::kFailed:
      return "failed";
  }
  return "failed";
}

std::string_view to_string(HostState state) {
  switch (state) {
    case HostState::kOk:
      return "ok";
    case HostState::kNeverPushed:
      return "never";
    case HostState::kStale:
      return "stale";
    case HostState::kUnreachable:
      return "unreachable";
    case HostState::kUnverifiable:
      return "unverifiable";
    case HostState::kFailed:
      return "failed";
  }
  return "failed";
}

bool RunReport::all_ok() const {
  return std::all_of(pushes.begin(), pushes.end(),
                     [](const PushResult& p) { return p.outcome == PushOutcome::kOk; });
}

Result<Generation> write_generation(store::Store& store, const std::filesystem::path& home,
                                    const core::Config& config, const ExportActor& actor) {
  const ExportPaths paths = export_paths(home, config);
  auto key = load_signing_key(home, config);
  if (!key) return tl::unexpected(key.error());
  auto hosts = list_hosts(store);
  if (!hosts) return tl::unexpected(hosts.error());
  std::vector<Recipient> recipients;
  for (const auto& h : *hosts) recipients.push_back({h.name, h.key});
  auto site = site_name(store, config);
  if (!site) return tl::unexpected(site.error());

  const core::TimePoint now = actor.clock.now();
  Generation g;
  g.name = generation_name(now);
  std::vector<Value> name = {g.name};
  auto taken = store.query_int("SELECT COUNT(*) FROM dr_export_runs WHERE generation = ?", name);
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("generation {} was already written", g.name));
  }
  const ArchiveMeta meta{g.name, core::format_utc(now), *site, VIGIE_VERSION};
  auto files = export_files(store, home, meta, g.counts);
  if (!files) return tl::unexpected(files.error());
  auto archive = build_archive(meta, *files, *key, recipients);
  if (!archive) return tl::unexpected(archive.error());
  g.sha256 = core::sha256_hex(*archive);
  g.size = static_cast<std::int64_t>(archive->size());
  g.recipients = recipients.size();
  VIGIE_TRY(make_private_dir(paths.outbox));
  g.archive = paths.outbox / internal::archive_file_name(g.name);
  VIGIE_TRY(core::write_file_durably(g.archive, *archive, 0600));

  json details = {{"generation", g.name},
                  {"sha256", g.sha256},
                  {"size", g.size},
                  {"devices", g.counts.devices},
                  {"findings", g.counts.findings},
                  {"procedures", g.counts.procedures},
                  {"contacts", g.counts.contacts},
                  {"recipients", g.recipients},
                  {"signer_key_id", key->public_key.key_id()}};
  VIGIE_TRY(
      internal::audited(store, actor, "export.run", "export:" + g.name, details, [&]() -> Status {
        VIGIE_TRY(store.lock_table("dr_export_runs"));
        auto id = store.next_id("dr_export_runs");
        if (!id) return tl::unexpected(id.error());
        g.run_id = *id;
        std::vector<Value> p = {*id,
                                g.name,
                                meta.created_at,
                                g.archive.filename().string(),
                                g.sha256,
                                g.size,
                                g.counts.devices,
                                g.counts.findings,
                                g.counts.procedures,
                                g.counts.contacts,
                                static_cast<std::int64_t>(g.recipients),
                                actor.name};
        return store.execute(
            "INSERT INTO dr_export_runs (id, generation, created_at, archive_name, archive_sha256, "
            "archive_size, devices, findings, procedures, contacts, recipients, actor) VALUES (?, "
            "?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            p);
      }));
  rotate_outbox(paths.outbox, config.export_generations_kept);
  core::log_event(core::LogLevel::kInfo, "export.written",
                  {{"generation", g.name}, {"bytes", std::to_string(g.size)}});
  return g;
}

Result<RunReport> run_export(store::Store& store, const std::filesystem::path& home,
                             const core::Config& config, const ExportActor& actor) {
  RunReport report;
  auto g = write_generation(store, home, config, actor);
  if (!g) return tl::unexpected(g.error());
  report.generation = *g;
  auto hosts = list_hosts(store);
  if (!hosts) return tl::unexpected(hosts.error());
  const ExportPaths paths = export_paths(home, config);
  VIGIE_TRY(make_private_dir(paths.known_hosts_dir));
  const auto scratch = paths.dir / "tmp";
  VIGIE_TRY(make_private_dir(scratch));
  std::error_code ec;
  if (!std::filesystem::exists(paths.ssh_key, ec)) {
    return fail(ErrorCode::kNotFound, "no export SSH key: run `vigie export keygen` first",
                paths.ssh_key.string());
  }
  for (const auto& h : *hosts) {
    const auto known_hosts = paths.known_hosts_dir / h.name;
    VIGIE_TRY(core::write_file_durably(known_hosts, internal::known_hosts_text(h), 0600));
    internal::PushRequest request{&h,
                                  g->archive,
                                  g->sha256,
                                  paths.ssh_key,
                                  known_hosts,
                                  scratch,
                                  static_cast<int>(config.export_generations_kept),
                                  static_cast<int>(config.export_connect_timeout_seconds)};
    PushResult pushed = internal::push_archive(request);
    json details = {{"generation", g->name},
                    {"outcome", to_string(pushed.outcome)},
                    {"detail", pushed.detail},
                    {"generations_kept", pushed.generations_kept}};
    VIGIE_TRY(internal::audited(
        store, actor, "export.push", "export-host:" + h.name, details, [&]() -> Status {
          VIGIE_TRY(store.lock_table("dr_export_pushes"));
          auto id = store.next_id("dr_export_pushes");
          if (!id) return tl::unexpected(id.error());
          std::vector<Value> p = {*id,
                                  h.id,
                                  g->run_id,
                                  core::format_utc(actor.clock.now()),
                                  std::string(to_string(pushed.outcome)),
                                  pushed.detail,
                                  std::int64_t{pushed.generations_kept}};
          return store.execute(
              "INSERT INTO dr_export_pushes (id, host_id, run_id, attempted_at, outcome, detail, "
              "generations_kept) VALUES (?, ?, ?, ?, ?, ?, ?)",
              p);
        }));
    core::log_event(
        pushed.outcome == PushOutcome::kOk ? core::LogLevel::kInfo : core::LogLevel::kWarn,
        "export.push",
        {{"host", h.name},
         {"outcome", std::string(to_string(pushed.outcome))},
         {"detail", pushed.detail}});
    report.pushes.push_back(std::move(pushed));
  }
  return report;
}

Result<std::vector<HostStatus>> export_status(store::Store& store, const core::Config& config,
                                              const core::Clock& clock) {
  auto hosts = list_hosts(store);
  if (!hosts) return tl::unexpected(hosts.error());
  const core::TimePoint now = clock.now();
  std::vector<HostStatus> out;
  for (const auto& h : *hosts) {
    HostStatus s;
    s.name = h.name;
    std::vector<Value> id = {h.id};
    auto ok = store.query(
        "SELECT p.attempted_at, r.generation FROM dr_export_pushes p JOIN dr_export_runs r ON "
        "r.id = p.run_id WHERE p.host_id = ? AND p.outcome = 'ok' ORDER BY p.id DESC LIMIT 1",
        id);
    if (!ok) return tl::unexpected(ok.error());
    auto last = store.query(
        "SELECT attempted_at, outcome, detail FROM dr_export_pushes WHERE host_id = ? ORDER BY "
        "id DESC LIMIT 1",
        id);
    if (!last) return tl::unexpected(last.error());
    if (!ok->empty()) {
      s.last_success_at = ok->front().text(0);
      s.last_success_generation = ok->front().text(1);
      if (auto t = core::parse_utc(s.last_success_at)) {
        s.age_seconds = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
      }
    }
    if (!last->empty()) {
      s.last_attempt_at = last->front().text(0);
      s.last_outcome = last->front().text(1);
      s.last_detail = last->front().text(2);
    }
    const bool fresh =
        s.age_seconds && *s.age_seconds <= config.export_max_age_hours * std::int64_t{3600};
    if (last->empty()) {
      s.state = HostState::kNeverPushed;
    } else if (s.last_outcome == "unverifiable") {
      s.state = HostState::kUnverifiable;
    } else if (!fresh) {
      s.state = HostState::kStale;
    } else if (s.last_outcome == "unreachable") {
      s.state = HostState::kUnreachable;
    } else if (s.last_outcome != "ok") {
      s.state = HostState::kFailed;
    } else {
      s.state = HostState::kOk;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<ExportAlert> export_alerts(const std::vector<HostStatus>& statuses,
                                       const core::Config& config) {
  std::vector<ExportAlert> out;
  for (const auto& s : statuses) {
    if (!s.needs_alert()) continue;
    std::string last = s.last_success_at.empty()
                           ? std::string("no successful push yet")
                           : fmt::format("last successful push {} ({} h ago)", s.last_success_at,
                                         s.age_seconds.value_or(0) / 3600);
    std::string why = s.last_outcome.empty() || s.last_outcome == "ok"
                          ? std::string()
                          : fmt::format("; last attempt {}: {}", s.last_outcome, s.last_detail);
    std::string message;
    switch (s.state) {
      case HostState::kNeverPushed:
        message = "no export was ever pushed to this strategic PC";
        break;
      case HostState::kStale:
        message = fmt::format("its disaster-recovery export is older than {} h: {}{}",
                              config.export_max_age_hours, last, why);
        break;
      case HostState::kUnverifiable:
        message = fmt::format("its export cannot be verified{} ({})", why, last);
        break;
      case HostState::kUnreachable:
      case HostState::kFailed:
        message = fmt::format("the last push did not succeed{} ({})", why, last);
        break;
      case HostState::kOk:
        break;
    }
    out.push_back({s.name, std::string(to_string(s.state)), std::move(message)});
  }
  return out;
}

Result<std::optional<core::TimePoint>> last_run_at(store::Store& store) {
  auto rows = store.query("SELECT created_at FROM dr_export_runs ORDER BY generation DESC LIMIT 1");
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<core::TimePoint>();
  auto t = core::parse_utc(rows->front().text(0));
  if (!t) return tl::unexpected(t.error());
  return std::optional<core::TimePoint>(*t);
}

bool export_due(const core::Config& config, std::optional<core::TimePoint> last_run,
                core::TimePoint now) {
  if (config.export_schedule_hours.empty()) return false;
  if (!last_run) return true;
  // The latest scheduled slot at or before now (today's or yesterday's).
  const auto today = std::chrono::floor<std::chrono::days>(now);
  std::optional<core::TimePoint> slot;
  for (const auto day : {today - std::chrono::days(1), today}) {
    for (int hour : config.export_schedule_hours) {
      const core::TimePoint t = day + std::chrono::hours(hour);
      if (t <= now && (!slot || t > *slot)) slot = t;
    }
  }
  return slot && *last_run < *slot;
}

Result<LatestArchive> latest_archive(store::Store& store, const std::filesystem::path& home,
                                     const core::Config& config) {
  auto rows = store.query(
      "SELECT generation, archive_name, archive_sha256 FROM dr_export_runs ORDER BY generation "
      "DESC LIMIT 1");
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return fail(ErrorCode::kNotFound, "no export was written yet");
  LatestArchive out{rows->front().text(0), rows->front().text(1), rows->front().text(2), {}};
  const auto path = export_paths(home, config).outbox / out.file_name;
  auto bytes = core::read_file(path);
  if (!bytes) return tl::unexpected(bytes.error());
  if (core::sha256_hex(*bytes) != out.sha256) {
    return fail(ErrorCode::kInvalidInput,
                "the outbox copy differs from the archive that was written", path.string());
  }
  out.bytes = std::move(*bytes);
  return out;
}

}  // namespace vigie::resilience
