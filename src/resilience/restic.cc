#include "vigie/resilience/restic.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "vigie/core/file.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using nlohmann::json;

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

std::string trim_line_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// restic's own words: its "Fatal:" line (and the line after, which often says why), else the
// last line it wrote.
std::string restic_message(std::string_view stderr_text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < stderr_text.size()) {
    size_t nl = stderr_text.find('\n', start);
    if (nl == std::string_view::npos) nl = stderr_text.size();
    std::string_view line = stderr_text.substr(start, nl - start);
    if (!line.empty() && line.find_first_not_of(" \t\r") != std::string_view::npos) {
      lines.push_back(line);
    }
    start = nl + 1;
  }
  std::string message;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with("Fatal: ")) {
      message = std::string(lines[i].substr(7));
      if (i + 1 < lines.size() && !lines[i + 1].starts_with("github.com/")) {
        message += fmt::format(" ({})", trim_line_end(std::string(lines[i + 1])));
      }
      break;
    }
  }
  if (message.empty()) {
    // Go stack traces (restic prints them on some errors) say nothing to a person.
    auto person = std::find_if(lines.rbegin(), lines.rend(), [](std::string_view l) {
      return !(l.starts_with("\t") || l.starts_with("github.com/") || l.starts_with("runtime/") ||
               l.starts_with("golang.org/") || l.starts_with("main."));
    });
    if (person != lines.rend()) message = std::string(*person);
  }
  if (message.size() > 600) message = message.substr(0, 600) + "...";
  return trim_line_end(message);
}

}  // namespace

struct Restic::Outcome {
  int exit_code = 0;
  int signal = 0;
  std::string stderr_text;
};

std::string_view to_string(ResticFailure failure) {
  switch (failure) {
    case ResticFailure::kCannotRun:
      return "cannot run restic";
    case ResticFailure::kNoRepository:
      return "no repository";
    case ResticFailure::kWrongPassword:
      return "wrong password";
    case ResticFailure::kLocked:
      return "locked";
    case ResticFailure::kUnreachable:
      return "unreachable";
    case ResticFailure::kRefused:
      return "refused by the server";
    case ResticFailure::kInterrupted:
      return "interrupted";
    case ResticFailure::kFatal:
      return "failed";
  }
  return "failed";
}

core::Error ResticError::to_error(std::string_view doing) const {
  ErrorCode code = ErrorCode::kIo;
  switch (failure) {
    case ResticFailure::kCannotRun:
    case ResticFailure::kUnreachable:
      code = ErrorCode::kUnavailable;
      break;
    case ResticFailure::kNoRepository:
      code = ErrorCode::kNotFound;
      break;
    case ResticFailure::kWrongPassword:
    case ResticFailure::kRefused:
      code = ErrorCode::kInvalidInput;
      break;
    case ResticFailure::kLocked:
      code = ErrorCode::kConflict;
      break;
    case ResticFailure::kInterrupted:
    case ResticFailure::kFatal:
      code = ErrorCode::kIo;
      break;
  }
  return core::Error{code, fmt::format("{}: {}: {}", doing, to_string(failure), message),
                     fmt::format("restic repository {}", repository)};
}

ResticError Restic::classify(int exit_code, int signal, std::string_view stderr_text) const {
  ResticError e;
  e.repository = repository_.location;
  e.exit_code = exit_code;
  e.message = masked(restic_message(stderr_text));
  if (signal != 0 || exit_code == 130) {
    e.failure = ResticFailure::kInterrupted;
    if (e.message.empty()) e.message = fmt::format("stopped by signal {}", signal);
  } else if (exit_code == 12 || contains(stderr_text, "wrong password")) {
    e.failure = ResticFailure::kWrongPassword;
  } else if (exit_code == 11 || contains(stderr_text, "already locked")) {
    e.failure = ResticFailure::kLocked;
  } else if (contains(stderr_text, "connection refused") || contains(stderr_text, "no such host") ||
             contains(stderr_text, "i/o timeout") ||
             contains(stderr_text, "network is unreachable") || contains(stderr_text, "x509:") ||
             contains(stderr_text, "tls:") || contains(stderr_text, "connection reset")) {
    e.failure = ResticFailure::kUnreachable;
  } else if (contains(stderr_text, "403 Forbidden") || contains(stderr_text, "401 Unauthorized")) {
    e.failure = ResticFailure::kRefused;
  } else if (exit_code == 10 || contains(stderr_text, "Is there a repository at the following")) {
    e.failure = ResticFailure::kNoRepository;
  } else {
    e.failure = ResticFailure::kFatal;
  }
  if (e.message.empty()) e.message = fmt::format("exit code {}", exit_code);
  return e;
}

std::string Restic::masked(std::string_view text) const {
  std::string out(text);
  if (repository_.credentials_file.empty()) return out;
  auto credentials = core::read_file(repository_.credentials_file);
  if (!credentials) return out;
  std::string secret = trim_line_end(*credentials);
  auto colon = secret.find(':');
  if (colon == std::string::npos) return out;
  std::string password = secret.substr(colon + 1);
  for (const std::string& p : {password, url_encode(password)}) {
    if (p.empty()) continue;
    for (size_t pos = out.find(p); pos != std::string::npos; pos = out.find(p, pos + 3)) {
      out.replace(pos, p.size(), "***");
    }
  }
  return out;
}

Result<Restic::Outcome> Restic::run(const std::vector<std::string>& args,
                                    const std::function<void(std::string_view)>& on_line,
                                    const std::filesystem::path& cwd) const {
  const std::string where = fmt::format("restic repository {}", repository_.location);
  std::string url = repository_.location;
  if (!repository_.credentials_file.empty()) {
    auto credentials = core::read_file(repository_.credentials_file);
    if (!credentials) {
      return core::fail(ErrorCode::kIo, "cannot read the REST credentials file",
                        repository_.credentials_file.string());
    }
    std::string secret = trim_line_end(*credentials);
    auto colon = secret.find(':');
    auto scheme = url.find("://");
    if (colon == std::string::npos || colon == 0) {
      return core::fail(ErrorCode::kInvalidInput,
                        "the REST credentials file must hold one line \"user:password\"",
                        repository_.credentials_file.string());
    }
    if (!url.starts_with("rest:") || scheme == std::string::npos) {
      return core::fail(ErrorCode::kInvalidInput,
                        "REST credentials apply to rest:http(s)://... repositories only", where);
    }
    url.insert(scheme + 3, url_encode(secret.substr(0, colon)) + ":" +
                               url_encode(secret.substr(colon + 1)) + "@");
  }
  internal::ChildSpec spec;
  spec.argv.push_back(settings_.program);
  if (!settings_.cacert.empty()) {
    spec.argv.emplace_back("--cacert");
    spec.argv.push_back(settings_.cacert.string());
  }
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env.push_back("RESTIC_REPOSITORY=" + url);
  spec.env.push_back("RESTIC_PASSWORD_FILE=" + settings_.password_file.string());
  if (!settings_.cache_dir.empty()) {
    spec.env.push_back("RESTIC_CACHE_DIR=" + settings_.cache_dir.string());
  }
  spec.cwd = cwd;
  spec.on_stdout_line = on_line;
  auto exit = internal::run_child(spec);
  if (!exit) {
    ResticError e{ResticFailure::kCannotRun, repository_.location, exit.error().message, -1};
    return tl::unexpected(e.to_error("restic"));
  }
  return Outcome{exit->exit_code, exit->signal, std::move(exit->stderr_text)};
}

Result<void> Restic::probe() const {
  auto out = run({"cat", "config"}, {});
  if (!out) return tl::unexpected(out.error());
  if (out->exit_code != 0 || out->signal != 0) {
    return tl::unexpected(
        classify(out->exit_code, out->signal, out->stderr_text).to_error("cannot open"));
  }
  return {};
}

Status Restic::init() const {
  auto out = run({"init"}, {});
  if (!out) return tl::unexpected(out.error());
  if (out->exit_code == 0 && out->signal == 0) return {};
  if (contains(out->stderr_text, "already exists") ||
      contains(out->stderr_text, "already initialized")) {
    return core::fail(ErrorCode::kConflict, "a repository is already initialised there",
                      fmt::format("restic repository {}", repository_.location));
  }
  return tl::unexpected(
      classify(out->exit_code, out->signal, out->stderr_text).to_error("cannot initialise"));
}

Status Restic::unlock() const {
  auto out = run({"unlock"}, {});
  if (!out) return tl::unexpected(out.error());
  if (out->exit_code != 0 || out->signal != 0) {
    return tl::unexpected(
        classify(out->exit_code, out->signal, out->stderr_text).to_error("cannot open"));
  }
  return {};
}

Result<BackupSummary> Restic::backup(
    const std::filesystem::path& dir, const std::vector<std::string>& tags,
    const std::function<void(const BackupProgress&)>& progress) const {
  std::vector<std::string> args{"backup", "--json"};
  for (const auto& t : tags) {
    args.emplace_back("--tag");
    args.push_back(t);
  }
  args.emplace_back(".");
  BackupSummary summary;
  bool have_summary = false;
  auto on_line = [&](std::string_view line) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    const std::string type = j.value("message_type", "");
    if (type == "summary") {
      have_summary = true;
      summary.snapshot_id = j.value("snapshot_id", "");
      summary.files_new = j.value("files_new", std::int64_t{0});
      summary.files_changed = j.value("files_changed", std::int64_t{0});
      summary.files_unmodified = j.value("files_unmodified", std::int64_t{0});
      summary.files_processed = j.value("total_files_processed", std::int64_t{0});
      summary.bytes_processed = j.value("total_bytes_processed", std::int64_t{0});
      summary.bytes_added = j.value("data_added", std::int64_t{0});
      summary.seconds = j.value("total_duration", 0.0);
    } else if (type == "error") {
      std::string item = j.value("item", "");
      if (!item.empty()) summary.unreadable.push_back(item);
    } else if (type == "status" && progress) {
      progress({j.value("percent_done", 0.0), j.value("bytes_done", std::int64_t{0}),
                j.value("total_bytes", std::int64_t{0})});
    }
  };
  auto out = run(args, on_line, dir);
  if (!out) return tl::unexpected(out.error());
  if (out->signal == 0 && (out->exit_code == 0 || out->exit_code == 3) && have_summary &&
      !summary.snapshot_id.empty()) {
    summary.incomplete = out->exit_code == 3;
    return summary;
  }
  auto e = classify(out->exit_code, out->signal, out->stderr_text);
  if (out->exit_code == 0) e.message = "restic printed no snapshot id";
  return tl::unexpected(e.to_error("backup failed"));
}

Result<std::vector<Snapshot>> Restic::snapshots(const std::vector<std::string>& tags) const {
  // Listing needs no lock: it works beside a stale or an exclusive lock, and on a read-only copy.
  std::vector<std::string> args{"--no-lock", "snapshots", "--json"};
  if (!tags.empty()) {
    // One --tag with a comma list: snapshots carrying all of them.
    std::string all;
    for (const auto& t : tags) all += (all.empty() ? "" : ",") + t;
    args.emplace_back("--tag");
    args.push_back(all);
  }
  std::string text;
  auto out = run(args, [&](std::string_view line) {
    text.append(line);
    text += '\n';
  });
  if (!out) return tl::unexpected(out.error());
  if (out->exit_code != 0 || out->signal != 0) {
    return tl::unexpected(
        classify(out->exit_code, out->signal, out->stderr_text).to_error("cannot list snapshots"));
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return core::fail(ErrorCode::kIo, "restic snapshots --json printed no JSON array",
                      fmt::format("restic repository {}", repository_.location));
  }
  std::vector<Snapshot> out_list;
  for (const auto& s : j) {
    if (!s.is_object()) continue;
    Snapshot snap;
    snap.id = s.value("id", "");
    snap.short_id = s.value("short_id", snap.id.substr(0, 8));
    snap.time = s.value("time", "");
    snap.hostname = s.value("hostname", "");
    if (s.contains("tags") && s["tags"].is_array()) {
      for (const auto& t : s["tags"]) {
        if (t.is_string()) snap.tags.push_back(t.get<std::string>());
      }
    }
    if (s.contains("paths") && s["paths"].is_array()) {
      for (const auto& p : s["paths"]) {
        if (p.is_string()) snap.paths.push_back(p.get<std::string>());
      }
    }
    out_list.push_back(std::move(snap));
  }
  // restic lists oldest first already; times of one repository share their zone offset
  // only when written by one host, so sort on the instant restic printed, kept stable.
  std::stable_sort(out_list.begin(), out_list.end(),
                   [](const Snapshot& a, const Snapshot& b) { return a.time < b.time; });
  return out_list;
}

Result<CheckOutcome> Restic::check(const std::string& subset) const {
  std::vector<std::string> args{"check"};
  if (!subset.empty()) args.push_back("--read-data-subset=" + subset);
  CheckOutcome outcome;
  outcome.subset = subset;
  std::vector<std::string> lines;
  auto out = run(args, [&](std::string_view line) { lines.emplace_back(line); });
  if (!out) return tl::unexpected(out.error());
  bool no_errors = false;
  for (const auto& l : lines) {
    if (contains(l, "no errors were found")) no_errors = true;
    if (contains(l, "not referenced in any index") || contains(l, "additional files were found")) {
      outcome.notes.push_back(masked(l));
    }
  }
  if (out->signal == 0 && out->exit_code == 0 && no_errors) {
    outcome.ok = true;
    return outcome;
  }
  // Locked, unreachable, wrong password: restic could not check at all.
  auto e = classify(out->exit_code, out->signal, out->stderr_text);
  if (e.failure != ResticFailure::kFatal) return tl::unexpected(e.to_error("cannot check"));
  for (const auto& l : lines) {
    if (l.starts_with("[") || l.starts_with("using temporary cache") ||
        l.starts_with("create exclusive lock") || l.starts_with("load indexes") ||
        l.starts_with("check all packs") || l.starts_with("check snapshots") ||
        l.starts_with("read ") || contains(l, "not referenced in any index") || l.empty()) {
      continue;
    }
    outcome.errors.push_back(masked(l));
  }
  std::string message = restic_message(out->stderr_text);
  if (!message.empty()) outcome.errors.push_back(masked(message));
  return outcome;
}

Result<std::string> Restic::restore(const std::string& id, const std::filesystem::path& target,
                                    const std::vector<std::string>& tags) const {
  std::vector<std::string> args{"restore", id, "--target", target.string()};
  for (const auto& t : tags) {
    args.emplace_back("--tag");
    args.push_back(t);
  }
  // restic 0.14 names what it restores on its first line, in text only:
  // "restoring <Snapshot 1a2b3c4d of [/path] at ... by user@host> to /target".
  std::string restored = id.size() >= 8 && id != "latest" ? id.substr(0, 8) : "";
  auto out = run(args, [&restored](std::string_view line) {
    constexpr std::string_view kPrefix = "restoring <Snapshot ";
    if (!line.starts_with(kPrefix) || line.size() < kPrefix.size() + 8) return;
    const std::string_view short_id = line.substr(kPrefix.size(), 8);
    if (short_id.find_first_not_of("0123456789abcdef") == std::string_view::npos) {
      restored = std::string(short_id);
    }
  });
  if (!out) return tl::unexpected(out.error());
  if (out->exit_code != 0 || out->signal != 0) {
    return tl::unexpected(classify(out->exit_code, out->signal, out->stderr_text)
                              .to_error(fmt::format("cannot restore snapshot {}", id)));
  }
  if (restored.empty()) {
    return core::fail(ErrorCode::kIo, "restic did not say which snapshot it restored",
                      fmt::format("restic repository {}", repository_.location));
  }
  return restored;
}

// RFC 3986: everything but unreserved characters percent-encoded.
std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace vigie::resilience
