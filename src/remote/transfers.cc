#include "vigie/remote/transfers.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "registry_internal.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/remote/sessions.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own helpers
using core::ErrorCode;
using core::fail;
using store::Value;

// The session must be the engineer's, running, and name `op`.
Result<Session> session_for(store::Store& store, std::int64_t session_id, std::int64_t engineer_id,
                            Operation op) {
  auto s = get_session(store, session_id);
  if (!s || s->engineer_id != engineer_id) {
    return fail(ErrorCode::kNotFound, fmt::format("no session {} of yours", session_id));
  }
  if (s->state != SessionState::kActive) {
    return fail(ErrorCode::kConflict,
                fmt::format("session {} is {}, not running", session_id, to_string(s->state)));
  }
  if ((s->operations & op) == 0) {
    return fail(ErrorCode::kInvalidInput, fmt::format("session {} was not approved for '{}'",
                                                      session_id, format_operations(op)));
  }
  return s;
}

Status record(store::Store& store, const Session& s, std::string_view direction,
              std::string_view name, std::size_t size, std::string_view sha256,
              std::string_view refusal, const nlohmann::json& filtered, const std::string& origin,
              core::TimePoint now) {
  const std::string at = seconds_text(now);
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  const Value reason = refusal.empty() ? Value() : Value(std::string(refusal));
  auto id = insert_with_id(store, "remote_transfers",
                           "INSERT INTO remote_transfers (id, session_id, device_id, direction, "
                           "name, size, sha256, outcome, reason, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           {s.id, s.device_id, std::string(direction), std::string(name),
                            static_cast<std::int64_t>(size), std::string(sha256),
                            std::string(refusal.empty() ? "done" : "refused"), reason, at});
  if (!id) return tl::unexpected(id.error());
  nlohmann::json details{{"session", s.id}, {"device", s.device_id}, {"engineer", s.engineer},
                         {"name", name},    {"size", size},          {"sha256", sha256}};
  if (!refusal.empty()) details["refused"] = refusal;
  if (!filtered.is_null()) details["phi_filter"] = filtered;
  VIGIE_TRY(audit_in(store, Actor{s.engineer, origin, at},
                     direction == "get" ? "remote.transfer.get" : "remote.transfer.put",
                     fmt::format("device:{}", s.device_id), details));
  return tx->commit();
}

std::filesystem::path folder(const TransferArea& area, std::int64_t device_id,
                             std::string_view which) {
  return area.dir / std::to_string(device_id) / std::string(which);
}

}  // namespace

Status check_file_name(std::string_view name) {
  const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '/' && c != '\\';
  });
  if (name.empty() || name.size() > 255 || name.front() == '.' || !printable) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is not a file name (printable ASCII, no '/', not starting "
                            "with '.')",
                            name),
                "NAME");
  }
  return {};
}

Result<std::vector<OutboxFile>> list_outbox(store::Store& store, const TransferArea& area,
                                            std::int64_t session_id, std::int64_t engineer_id) {
  auto s = session_for(store, session_id, engineer_id, kDownload);
  if (!s) return tl::unexpected(s.error());
  std::vector<OutboxFile> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(folder(area, s->device_id, "outbox"), ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !check_file_name(name)) continue;
    out.push_back({name, static_cast<std::int64_t>(entry.file_size())});
  }
  std::sort(out.begin(), out.end(),
            [](const OutboxFile& a, const OutboxFile& b) { return a.name < b.name; });
  return out;
}

Result<Delivered> get_file(store::Store& store, const TransferArea& area,
                           const phi::OutboundFilter& filter, std::int64_t session_id,
                           std::int64_t engineer_id, std::string_view name,
                           const std::string& origin, core::TimePoint now) {
  VIGIE_TRY(check_file_name(name));
  auto s = session_for(store, session_id, engineer_id, kDownload);
  if (!s) return tl::unexpected(s.error());
  const auto path = folder(area, s->device_id, "outbox") / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(ErrorCode::kNotFound,
                fmt::format("no file '{}' in device {}'s outbox", name, s->device_id));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > area.max_bytes) {
    VIGIE_TRY(record(store, *s, "get", name, ec ? 0 : size, "",
                     "larger than remote.max_transfer_bytes", nullptr, origin, now));
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is larger than remote.max_transfer_bytes", name));
  }
  auto bytes = core::read_file(path);
  if (!bytes) return tl::unexpected(bytes.error());
  const std::string original_sha = core::sha256_hex(*bytes);
  phi::Transfer transfer;
  transfer.files.push_back({std::string(name), std::move(*bytes)});
  auto filtered = filter.filter(transfer);
  if (!filtered) return tl::unexpected(filtered.error());
  auto summary = nlohmann::json::parse(filtered->summary.to_json(), nullptr, false);
  if (filtered->files.empty()) {
    std::string why = filtered->summary.refused.empty() ? "refused by the PHI filter"
                                                        : filtered->summary.refused[0].reason;
    VIGIE_TRY(record(store, *s, "get", name, size, original_sha, why, summary, origin, now));
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' may not leave the hospital: {}", name, why));
  }
  Delivered out{filtered->files[0].name, std::move(filtered->files[0].bytes), ""};
  out.sha256 = core::sha256_hex(out.bytes);
  VIGIE_TRY(
      record(store, *s, "get", out.name, out.bytes.size(), out.sha256, "", summary, origin, now));
  return out;
}

Status put_file(store::Store& store, const TransferArea& area, std::int64_t session_id,
                std::int64_t engineer_id, std::string_view name, std::string_view bytes,
                const std::string& origin, core::TimePoint now) {
  VIGIE_TRY(check_file_name(name));
  auto s = session_for(store, session_id, engineer_id, kUpload);
  if (!s) return tl::unexpected(s.error());
  const std::string sha = core::sha256_hex(bytes);
  if (bytes.size() > area.max_bytes) {
    VIGIE_TRY(record(store, *s, "put", name, bytes.size(), sha,
                     "larger than remote.max_transfer_bytes", nullptr, origin, now));
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is larger than remote.max_transfer_bytes", name));
  }
  const auto dir = folder(area, s->device_id, "inbox");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = dir / std::string(name);
  // O_EXCL: an engineer never replaces a file already delivered.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    return fail(errno == EEXIST ? ErrorCode::kConflict : ErrorCode::kIo,
                fmt::format("cannot create '{}' in device {}'s inbox{}", name, s->device_id,
                            errno == EEXIST ? ": it exists" : ""));
  }
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    std::filesystem::remove(path, ec);
    return fail(ErrorCode::kIo, fmt::format("cannot write '{}'", name));
  }
  return record(store, *s, "put", name, bytes.size(), sha, "", nullptr, origin, now);
}

}  // namespace vigie::remote
