#include "vigie/resilience/tracking_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "tracking_internal.h"
#include "vigie/audit/audit.h"
#include "vigie/core/csv.h"
#include "vigie/core/file.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using nlohmann::json;

constexpr size_t kMaxDepth = 32;

// A run and where it came from in the file, so that a refusal at record time still names it.
struct ParsedRun {
  BackupRun run;
  std::string where;
};

core::Error error_at(std::string where, std::string message) {
  return {ErrorCode::kInvalidInput, std::move(message), std::move(where)};
}

// The deepest nesting of arrays and objects, refused past kMaxDepth before parsing (nlohmann
// recurses).
Status check_depth(std::string_view text, const std::string& name, size_t line_offset = 0) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        std::string pos = core::line_column(text, i);
        if (line_offset != 0)
          pos = fmt::format("{}:{}", line_offset, pos.substr(pos.find(':') + 1));
        return tl::unexpected(error_at(fmt::format("{}:{}", name, pos),
                                       fmt::format("nested deeper than {} levels", kMaxDepth)));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

// Parses JSON text; a syntax error names file:line:column. `line` > 0: the text is that line of
// the file (NDJSON).
Result<json> parse_json(std::string_view text, const std::string& name, size_t line = 0) {
  VIGIE_TRY(check_depth(text, name, line));
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    const size_t byte = e.byte == 0 ? 0 : std::min<size_t>(e.byte - 1, text.size());
    std::string pos = core::line_column(text, byte);
    if (line != 0) pos = fmt::format("{}:{}", line, pos.substr(pos.find(':') + 1));
    std::string why = e.what();
    if (auto dash = why.find(" - "); dash != std::string::npos) why = why.substr(dash + 3);
    return tl::unexpected(error_at(fmt::format("{}:{}", name, pos), "invalid JSON: " + why));
  }
}

std::string pointer_where(const std::string& name, const std::string& pointer, size_t line = 0) {
  return line == 0 ? fmt::format("{} {}", name, pointer.empty() ? "/" : pointer)
                   : fmt::format("{}:{} {}", name, line, pointer.empty() ? "/" : pointer);
}

// Reads typed fields of one JSON object, every error naming its JSON pointer.
class Fields {
 public:
  Fields(const json& object, std::string name, std::string pointer, size_t line = 0)
      : object_(object), name_(std::move(name)), pointer_(std::move(pointer)), line_(line) {}

  [[nodiscard]] std::string where(std::string_view key = {}) const {
    return pointer_where(name_, key.empty() ? pointer_ : pointer_ + "/" + std::string(key), line_);
  }

  [[nodiscard]] const json* find(std::string_view key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  Result<std::string> string(std::string_view key, bool required) const {
    const json* v = find(key);
    if (v == nullptr) {
      if (!required) return std::string();
      return tl::unexpected(error_at(where(key), fmt::format("'{}' is missing", key)));
    }
    if (!v->is_string()) {
      return tl::unexpected(error_at(where(key), fmt::format("'{}' must be a string", key)));
    }
    return v->get<std::string>();
  }

  Result<std::optional<std::int64_t>> integer(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr) return std::optional<std::int64_t>();
    if (v->is_number_unsigned()) {
      if (v->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return tl::unexpected(error_at(where(key), fmt::format("'{}' is too large", key)));
      }
      return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get<std::uint64_t>()));
    }
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
      return std::optional<std::int64_t>(v->get<std::int64_t>());
    }
    return tl::unexpected(
        error_at(where(key), fmt::format("'{}' must be a non-negative integer", key)));
  }

  // Seconds (a JSON number) as milliseconds.
  Result<std::optional<std::int64_t>> seconds_ms(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr) return std::optional<std::int64_t>();
    if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1e9) {
      return tl::unexpected(
          error_at(where(key), fmt::format("'{}' must be a number of seconds", key)));
    }
    return std::optional<std::int64_t>(std::llround(v->get<double>() * 1000.0));
  }

  Result<core::TimePoint> time(std::string_view key, bool borg_local,
                               const ImportOptions& options) const {
    auto text = string(key, true);
    if (!text) return tl::unexpected(text.error());
    auto t = borg_local ? borg_time(*text, options) : core::parse_utc(*text);
    if (!t) return tl::unexpected(error_at(where(key), t.error().message));
    return *t;
  }

  // borg 1.x: "2026-11-26T00:59:22.000000", local time of the host, no offset.
  static Result<core::TimePoint> borg_time(const std::string& text, const ImportOptions& options) {
    const bool has_zone =
        text.size() > 19 && (text.back() == 'Z' || text.find('+', 19) != std::string::npos ||
                             text.find('-', 19) != std::string::npos);
    if (has_zone) return core::parse_utc(text);
    auto naive = core::parse_utc(text + "Z");
    if (!naive) return naive;
    if (options.borg_utc_offset) return *naive - *options.borg_utc_offset;
    // As the local time zone of this process reads it (DST included).
    const auto secs = std::chrono::floor<std::chrono::seconds>(*naive);
    const std::time_t as_utc = secs.time_since_epoch().count();
    std::tm tm{};
    gmtime_r(&as_utc, &tm);
    tm.tm_isdst = -1;
    const std::time_t local = std::mktime(&tm);
    if (local == static_cast<std::time_t>(-1)) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a local time", text));
    }
    return core::TimePoint(std::chrono::seconds(local)) + (*naive - secs);
  }

 private:
  const json& object_;
  std::string name_;
  std::string pointer_;
  size_t line_;
};

std::string join(const json& array, std::string_view sep) {
  std::string out;
  if (!array.is_array()) return out;
  for (const auto& v : array) {
    if (!v.is_string()) continue;
    if (!out.empty()) out += sep;
    out += v.get<std::string>();
  }
  return out;
}

// restic snapshots --json: an array of snapshots.
Result<std::vector<ParsedRun>> restic_snapshots(const json& doc, const std::string& name,
                                                const ImportOptions& options) {
  std::vector<ParsedRun> runs;
  for (size_t i = 0; i < doc.size(); ++i) {
    const std::string pointer = fmt::format("/{}", i);
    if (!doc[i].is_object()) {
      return tl::unexpected(error_at(pointer_where(name, pointer), "a snapshot must be an object"));
    }
    Fields f(doc[i], name, pointer);
    ParsedRun p;
    p.where = f.where();
    p.run.system = options.system;
    p.run.source = "restic-snapshots";
    auto id = f.string("id", true);
    if (!id) return tl::unexpected(id.error());
    p.run.snapshot_id = *id;
    auto time = f.time("time", false, options);
    if (!time) return tl::unexpected(time.error());
    p.run.started_at = core::format_utc(*time);
    std::string detail = join(doc[i].value("paths", json::array()), ", ");
    auto host = f.string("hostname", false);
    if (!host) return tl::unexpected(host.error());
    if (!host->empty()) detail += (detail.empty() ? "host " : " on ") + *host;
    if (const json* tags = f.find("tags"); tags != nullptr && !join(*tags, ",").empty()) {
      detail += " [" + join(*tags, ",") + "]";
    }
    p.run.detail = detail;
    // restic 0.17 and later keep the backup's summary in the snapshot.
    if (const json* summary = f.find("summary"); summary != nullptr && summary->is_object()) {
      Fields s(*summary, name, pointer + "/summary");
      if (s.find("backup_start") != nullptr) {
        auto start = s.time("backup_start", false, options);
        if (!start) return tl::unexpected(start.error());
        p.run.started_at = core::format_utc(*start);
      }
      if (s.find("backup_end") != nullptr) {
        auto end = s.time("backup_end", false, options);
        if (!end) return tl::unexpected(end.error());
        p.run.finished_at = core::format_utc(*end);
      }
      auto size = s.integer("total_bytes_processed");
      auto added = s.integer("data_added");
      auto files = s.integer("total_files_processed");
      if (!size || !added || !files) {
        return tl::unexpected(!size ? size.error() : !added ? added.error() : files.error());
      }
      p.run.size_bytes = *size;
      p.run.added_bytes = *added;
      p.run.files = *files;
    }
    runs.push_back(std::move(p));
  }
  return runs;
}

Result<core::TimePoint> restic_finish_time(const std::filesystem::path& file,
                                           const ImportOptions& options) {
  if (!options.restic_finished_at.empty()) {
    auto t = core::parse_utc(options.restic_finished_at);
    if (!t) return core::fail(ErrorCode::kUsage, "--finished-at: " + t.error().message);
    return *t;
  }
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(file, ec);
  if (ec) return core::fail(ErrorCode::kIo, "cannot read the file's time: " + ec.message(), file);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::file_clock::to_sys(mtime));
}

// restic backup --json: one JSON object per line; the summary line describes the snapshot.
Result<std::vector<ParsedRun>> restic_backup_output(std::string_view text,
                                                    const std::filesystem::path& file,
                                                    const std::string& name,
                                                    const ImportOptions& options) {
  std::optional<ParsedRun> summary;
  std::vector<std::string> errors;
  std::string fatal;
  size_t line_no = 0;
  size_t last_line = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (core::trim(line).empty() || line == "\r") continue;
    auto doc = parse_json(line, name, line_no);
    if (!doc) return tl::unexpected(doc.error());
    if (!doc->is_object()) {
      return tl::unexpected(error_at(pointer_where(name, "", line_no),
                                     "expected one JSON object per line (restic backup --json)"));
    }
    Fields f(*doc, name, "", line_no);
    auto type = f.string("message_type", true);
    if (!type) return tl::unexpected(type.error());
    last_line = line_no;
    if (*type == "error") {
      const json* err = f.find("error");
      std::string message = err != nullptr && err->is_object()   ? err->value("message", "")
                            : err != nullptr && err->is_string() ? err->get<std::string>()
                                                                 : "";
      const std::string item = doc->value("item", "");
      errors.push_back(item.empty() ? message : fmt::format("{}: {}", item, message));
    } else if (*type == "exit_error") {
      fatal = doc->value("message", "restic failed");
    } else if (*type == "summary") {
      if (summary) {
        return tl::unexpected(error_at(pointer_where(name, "", line_no), "a second summary line"));
      }
      ParsedRun p;
      p.where = pointer_where(name, "", line_no);
      p.run.system = options.system;
      p.run.source = "restic-backup";
      auto id = f.string("snapshot_id", false);
      if (!id) return tl::unexpected(id.error());
      if (id->empty()) {
        return tl::unexpected(
            error_at(f.where("snapshot_id"), "the summary names no snapshot (a dry run?)"));
      }
      p.run.snapshot_id = *id;
      auto size = f.integer("total_bytes_processed");
      auto added = f.integer("data_added");
      auto files = f.integer("total_files_processed");
      auto duration = f.seconds_ms("total_duration");
      if (!size || !added || !files || !duration) {
        return tl::unexpected(!size    ? size.error()
                              : !added ? added.error()
                              : !files ? files.error()
                                       : duration.error());
      }
      p.run.size_bytes = *size;
      p.run.added_bytes = *added;
      p.run.files = *files;
      p.run.duration_ms = *duration;
      if (f.find("backup_start") != nullptr) {  // restic 0.17 and later
        auto start = f.time("backup_start", false, options);
        if (!start) return tl::unexpected(start.error());
        p.run.started_at = core::format_utc(*start);
      }
      if (f.find("backup_end") != nullptr) {
        auto end = f.time("backup_end", false, options);
        if (!end) return tl::unexpected(end.error());
        p.run.finished_at = core::format_utc(*end);
      }
      summary = std::move(p);
    }
    // status, verbose_status and later message types carry no result.
  }
  if (!summary && errors.empty() && fatal.empty()) {
    return tl::unexpected(error_at(name,
                                   "no summary line: not the output of a finished `restic "
                                   "backup --json`"));
  }
  auto finish = restic_finish_time(file, options);
  if (!finish) return tl::unexpected(finish.error());
  ParsedRun p;
  if (summary) {
    p = std::move(*summary);
  } else {
    p.where = pointer_where(name, "", last_line);
    p.run.system = options.system;
    p.run.source = "restic-backup";
  }
  if (p.run.finished_at.empty()) p.run.finished_at = core::format_utc(*finish);
  if (p.run.started_at.empty()) {
    const auto end = core::parse_utc(p.run.finished_at).value();
    p.run.started_at =
        core::format_utc(end - std::chrono::milliseconds(p.run.duration_ms.value_or(0)));
  }
  if (!fatal.empty() || !summary) {
    p.run.status = RunStatus::kFailed;
    p.run.detail = !fatal.empty() ? fatal : errors.front();
  } else if (!errors.empty()) {
    p.run.status = RunStatus::kWarning;
    p.run.detail = fmt::format("{} error(s), first: {}", errors.size(), errors.front());
  }
  return std::vector<ParsedRun>{std::move(p)};
}

Result<ParsedRun> borg_archive(const json& a, const std::string& name, const std::string& pointer,
                               const ImportOptions& options) {
  if (!a.is_object()) {
    return tl::unexpected(error_at(pointer_where(name, pointer), "an archive must be an object"));
  }
  Fields f(a, name, pointer);
  ParsedRun p;
  p.where = f.where();
  p.run.system = options.system;
  auto id = f.string("id", true);
  if (!id) return tl::unexpected(id.error());
  p.run.snapshot_id = *id;
  auto archive = f.string("name", true);
  if (!archive) return tl::unexpected(archive.error());
  const char* start_key = f.find("start") != nullptr ? "start" : "time";
  auto start = f.time(start_key, true, options);
  if (!start) return tl::unexpected(start.error());
  p.run.started_at = core::format_utc(*start);
  if (f.find("end") != nullptr) {
    auto end = f.time("end", true, options);
    if (!end) return tl::unexpected(end.error());
    p.run.finished_at = core::format_utc(*end);
  }
  auto duration = f.seconds_ms("duration");
  if (!duration) return tl::unexpected(duration.error());
  p.run.duration_ms = *duration;
  if (const json* stats = f.find("stats"); stats != nullptr && stats->is_object()) {
    Fields s(*stats, name, pointer + "/stats");
    auto size = s.integer("original_size");
    auto added = s.integer("deduplicated_size");
    auto files = s.integer("nfiles");
    if (!size || !added || !files) {
      return tl::unexpected(!size ? size.error() : !added ? added.error() : files.error());
    }
    p.run.size_bytes = *size;
    p.run.added_bytes = *added;
    p.run.files = *files;
  }
  auto host = f.string("hostname", false);
  if (!host) return tl::unexpected(host.error());
  p.run.detail = "archive " + *archive + (host->empty() ? "" : " on " + *host);
  return p;
}

// borg create --json ("archive"), borg list --json and borg info --json ("archives").
Result<std::vector<ParsedRun>> borg_runs(const json& doc, const std::string& name,
                                         const ImportOptions& options) {
  std::vector<ParsedRun> runs;
  if (!doc.is_object()) {
    return tl::unexpected(error_at(pointer_where(name, ""),
                                   "expected the JSON object of borg create, list or info --json"));
  }
  if (auto it = doc.find("archive"); it != doc.end()) {
    auto p = borg_archive(*it, name, "/archive", options);
    if (!p) return tl::unexpected(p.error());
    p->run.source = "borg-create";
    runs.push_back(std::move(*p));
    return runs;
  }
  auto it = doc.find("archives");
  if (it == doc.end() || !it->is_array()) {
    return tl::unexpected(error_at(pointer_where(name, "/archives"),
                                   "no 'archive' object or 'archives' array: not borg JSON"));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    auto p = borg_archive((*it)[i], name, fmt::format("/archives/{}", i), options);
    if (!p) return tl::unexpected(p.error());
    p->run.source = (*it)[i].contains("stats") ? "borg-info" : "borg-list";
    runs.push_back(std::move(*p));
  }
  return runs;
}

// The generic CSV (docs/resilience-tracking.md).
enum class Column {
  kSystem,
  kSnapshotId,
  kStartedAt,
  kFinishedAt,
  kStatus,
  kSizeBytes,
  kAddedBytes,
  kFiles,
  kDurationSeconds,
  kDetail,
};
constexpr std::array<std::pair<std::string_view, Column>, 10> kColumns = {{
    {"system", Column::kSystem},
    {"snapshot_id", Column::kSnapshotId},
    {"started_at", Column::kStartedAt},
    {"finished_at", Column::kFinishedAt},
    {"status", Column::kStatus},
    {"size_bytes", Column::kSizeBytes},
    {"added_bytes", Column::kAddedBytes},
    {"files", Column::kFiles},
    {"duration_seconds", Column::kDurationSeconds},
    {"detail", Column::kDetail},
}};

Result<std::optional<std::int64_t>> csv_count(std::string_view text) {
  if (text.empty()) return std::optional<std::int64_t>();
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("'{}' is not a non-negative integer", text));
  }
  return std::optional<std::int64_t>(v);
}

Result<std::optional<std::int64_t>> csv_seconds(std::string_view text) {
  if (text.empty()) return std::optional<std::int64_t>();
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= 0) || v > 1e9) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("'{}' is not a number of seconds", text));
  }
  return std::optional<std::int64_t>(std::llround(v * 1000.0));
}

Status csv_field(BackupRun& run, Column column, std::string_view value) {
  switch (column) {
    case Column::kSystem:
      if (!value.empty()) run.system = std::string(value);
      return {};
    case Column::kSnapshotId:
      run.snapshot_id = std::string(value);
      return {};
    case Column::kStartedAt:
    case Column::kFinishedAt: {
      if (value.empty()) {
        if (column == Column::kStartedAt) {
          return core::fail(ErrorCode::kInvalidInput, "started_at is required");
        }
        return {};
      }
      auto t = core::parse_utc(value);
      if (!t) return tl::unexpected(t.error());
      (column == Column::kStartedAt ? run.started_at : run.finished_at) = core::format_utc(*t);
      return {};
    }
    case Column::kStatus: {
      auto s = parse_run_status(value);
      if (!s) {
        return core::fail(ErrorCode::kInvalidInput,
                          fmt::format("status '{}' (ok, warning or failed)", value));
      }
      run.status = *s;
      return {};
    }
    case Column::kSizeBytes:
    case Column::kAddedBytes:
    case Column::kFiles: {
      auto n = csv_count(value);
      if (!n) return tl::unexpected(n.error());
      (column == Column::kSizeBytes    ? run.size_bytes
       : column == Column::kAddedBytes ? run.added_bytes
                                       : run.files) = *n;
      return {};
    }
    case Column::kDurationSeconds: {
      auto ms = csv_seconds(value);
      if (!ms) return tl::unexpected(ms.error());
      run.duration_ms = *ms;
      return {};
    }
    case Column::kDetail:
      run.detail = std::string(value);
      return {};
  }
  return {};
}

Result<std::vector<ParsedRun>> csv_runs(const std::filesystem::path& file, const std::string& name,
                                        const ImportOptions& options) {
  auto reader = core::CsvReader::open(file);
  if (!reader) return tl::unexpected(reader.error());
  std::vector<std::string_view> fields;
  auto got = reader->next(fields);
  if (!got) return tl::unexpected(got.error());
  if (!*got)
    return tl::unexpected(error_at(name + ":1:1", "empty file: a header line is required"));
  std::vector<Column> columns;
  std::map<Column, size_t> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string header = core::ascii_lower(core::trim(fields[i]));
    auto known = std::find_if(kColumns.begin(), kColumns.end(),
                              [&](const auto& c) { return c.first == header; });
    const std::string where = fmt::format("{}:{}:{}", name, reader->line(), i + 1);
    if (known == kColumns.end()) {
      return tl::unexpected(error_at(
          where, fmt::format("unknown column '{}' (see docs/resilience-tracking.md)", header)));
    }
    if (!seen.emplace(known->second, i).second) {
      return tl::unexpected(error_at(where, fmt::format("column '{}' given twice", header)));
    }
    columns.push_back(known->second);
  }
  for (Column required : {Column::kStartedAt, Column::kStatus}) {
    if (seen.count(required) == 0) {
      auto c = std::find_if(kColumns.begin(), kColumns.end(),
                            [&](const auto& k) { return k.second == required; });
      return tl::unexpected(error_at(fmt::format("{}:{}", name, reader->line()),
                                     fmt::format("the header has no '{}' column", c->first)));
    }
  }
  std::vector<ParsedRun> runs;
  while (true) {
    got = reader->next(fields);
    if (!got) return tl::unexpected(got.error());
    if (!*got) break;
    const size_t line = reader->line();
    if (fields.size() == 1 && core::trim(fields[0]).empty()) continue;  // blank line
    if (fields.size() != columns.size()) {
      return tl::unexpected(error_at(
          fmt::format("{}:{}", name, line),
          fmt::format("{} fields where the header has {}", fields.size(), columns.size())));
    }
    if (runs.size() >= options.max_records) {
      return tl::unexpected(error_at(fmt::format("{}:{}", name, line),
                                     fmt::format("more than {} runs", options.max_records)));
    }
    ParsedRun p;
    p.where = fmt::format("{}:{}", name, line);
    p.run.system = options.system;
    p.run.source = "csv";
    for (size_t i = 0; i < fields.size(); ++i) {
      auto st = csv_field(p.run, columns[i], core::trim(fields[i]));
      if (!st) {
        const auto& header = std::find_if(kColumns.begin(), kColumns.end(), [&](const auto& c) {
                               return c.second == columns[i];
                             })->first;
        return tl::unexpected(error_at(fmt::format("{}:{}:{}", name, line, i + 1),
                                       fmt::format("{}: {}", header, st.error().message)));
      }
    }
    if (core::trim(p.run.system).empty()) {
      const size_t col = seen.count(Column::kSystem) != 0 ? seen[Column::kSystem] + 1 : 1;
      return tl::unexpected(error_at(fmt::format("{}:{}:{}", name, line, col),
                                     "no system: fill the 'system' column or give --system"));
    }
    runs.push_back(std::move(p));
  }
  return runs;
}

Result<std::vector<ParsedRun>> parse_file(const std::filesystem::path& file, ImportFormat format,
                                          const ImportOptions& options) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return core::fail(ErrorCode::kIo, "no such file", name);
  }
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return core::fail(ErrorCode::kIo, "cannot read: " + ec.message(), name);
  if (size > options.max_file_bytes) {
    return core::fail(
        ErrorCode::kInvalidInput,
        fmt::format("{} bytes, more than the limit of {}", size, options.max_file_bytes), name);
  }
  if (format != ImportFormat::kCsv && core::trim(options.system).empty()) {
    return core::fail(ErrorCode::kUsage, "a restic or borg import needs --system");
  }
  if (format == ImportFormat::kCsv) return csv_runs(file, name, options);
  auto text = core::read_file(file);
  if (!text) return tl::unexpected(text.error());
  if (auto bad = core::find_invalid_utf8(*text)) {
    return tl::unexpected(
        error_at(fmt::format("{}:{}", name, core::line_column(*text, *bad)), "invalid UTF-8"));
  }
  const std::string_view body = core::trim(*text);
  if (body.empty()) return tl::unexpected(error_at(name, "empty file"));
  Result<std::vector<ParsedRun>> runs;
  if (format == ImportFormat::kRestic && body.front() != '[') {
    runs = restic_backup_output(*text, file, name, options);
  } else {
    auto doc = parse_json(*text, name);
    if (!doc) return tl::unexpected(doc.error());
    if (format == ImportFormat::kRestic) {
      runs = restic_snapshots(*doc, name, options);
    } else {
      runs = borg_runs(*doc, name, options);
    }
  }
  if (runs && runs->size() > options.max_records) {
    return tl::unexpected(error_at(name, fmt::format("more than {} runs", options.max_records)));
  }
  return runs;
}

}  // namespace

std::optional<ImportFormat> parse_import_format(std::string_view text) {
  if (text == "restic") return ImportFormat::kRestic;
  if (text == "borg") return ImportFormat::kBorg;
  if (text == "csv") return ImportFormat::kCsv;
  return std::nullopt;
}

std::string_view to_string(ImportFormat f) {
  switch (f) {
    case ImportFormat::kRestic:
      return "restic";
    case ImportFormat::kBorg:
      return "borg";
    case ImportFormat::kCsv:
      return "csv";
  }
  return "?";
}

Result<std::vector<BackupRun>> read_runs(const std::filesystem::path& file, ImportFormat format,
                                         const ImportOptions& options) {
  auto parsed = parse_file(file, format, options);
  if (!parsed) return tl::unexpected(parsed.error());
  std::vector<BackupRun> runs;
  runs.reserve(parsed->size());
  for (auto& p : *parsed) runs.push_back(std::move(p.run));
  return runs;
}

Result<ImportSummary> import_runs(store::Store& store, const std::filesystem::path& file,
                                  ImportFormat format, const ImportOptions& options,
                                  const Actor& actor_in) {
  auto parsed = parse_file(file, format, options);
  if (!parsed) return tl::unexpected(parsed.error());
  Actor actor = actor_in;
  if (actor.at.empty()) actor.at = core::format_utc(core::utc_now());  // one time per import
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  ImportSummary summary;
  summary.records = parsed->size();
  std::map<std::string, size_t> per_system;
  for (const auto& p : *parsed) {
    auto outcome = record_run_in_transaction(store, p.run, actor);
    if (!outcome) {
      core::Error e = outcome.error();
      if (e.where.empty()) e.where = p.where;
      if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kInvalidInput;
      return tl::unexpected(std::move(e));  // the transaction rolls back: nothing changed
    }
    switch (outcome->what) {
      case Recorded::kCreated:
        ++summary.created;
        break;
      case Recorded::kUpdated:
        ++summary.updated;
        break;
      case Recorded::kUnchanged:
        ++summary.unchanged;
        break;
    }
    ++per_system[std::string(core::trim(p.run.system))];
  }
  if (summary.created + summary.updated > 0) {
    std::string object =
        per_system.size() == 1 ? "system:" + per_system.begin()->first : std::string("systems");
    const json details{{"file", file.filename().string()},
                       {"format", to_string(format)},
                       {"records", summary.records},
                       {"created", summary.created},
                       {"updated", summary.updated},
                       {"unchanged", summary.unchanged},
                       {"systems", per_system}};
    auto id = audit::append(store,
                            {actor.name, "backups.import", std::move(object), actor.origin,
                             details.dump(-1, ' ', false, json::error_handler_t::replace)},
                            actor.at);
    if (!id) return tl::unexpected(id.error());
  }
  VIGIE_TRY(tx->commit());
  return summary;
}

}  // namespace vigie::resilience
