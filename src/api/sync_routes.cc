#include "sync_routes.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "vigie/audit/audit.h"
#include "vigie/core/time.h"
#include "vigie/resilience/sync.h"
#include "vigie/store/store.h"

namespace vigie::api {
namespace {

using core::ErrorCode;
using nlohmann::json;

const core::SystemClock& clock() {
  static const core::SystemClock kClock;
  return kClock;
}

Response json_ok(const json& body) {
  return {200, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Response from_error(const core::Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kUsage:
      return problem(400, "Bad Request", e.to_string());
    case ErrorCode::kNotFound:
      return problem(404, "Not Found", e.message);
    case ErrorCode::kConflict:
      return problem(409, "Conflict", e.message);
    default:
      return problem(503, "Service Unavailable", "the store failed");
  }
}

// Audits one request on its own (refusals, reads); a failure to audit refuses the request.
bool audit_alone(store::Store& store, const std::string& actor, const std::string& action,
                 const std::string& site, const Request& request, const json& details) {
  auto tx = store::Transaction::begin(store);
  if (!tx) return false;
  auto id = audit::append(
      store,
      {actor, action, fmt::format("site:{}", site), request.peer.empty() ? "api" : request.peer,
       details.dump(-1, ' ', false, json::error_handler_t::replace)},
      core::format_utc(clock().now()));
  return id && tx->commit();
}

std::string bearer(const Request& request) {
  auto it = request.headers.find("authorization");
  if (it == request.headers.end()) return {};
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view v = it->second;
  if (!v.starts_with(kScheme)) return {};
  return std::string(v.substr(kScheme.size()));
}

bool valid_site(std::string_view site) {
  return !site.empty() && site.size() <= 64 &&
         site.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
             std::string_view::npos;
}

json batch_to_json(const resilience::BatchResult& r) {
  json problems = json::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"seq", p.seq}, {"kind", p.kind}, {"detail", p.detail}});
  }
  return {{"received", r.received}, {"stored", r.stored},       {"duplicates", r.duplicates},
          {"applied", r.applied},   {"unchanged", r.unchanged}, {"conflicts", r.conflicts},
          {"recorded", r.recorded}, {"rejected", r.rejected},   {"head_seq", r.head_seq},
          {"problems", problems}};
}

}  // namespace

Response route_sync(store::Store& store, const Request& request, std::string_view path) {
  std::string_view rest = path.substr(kSyncPrefix.size());
  const bool snapshot = rest.ends_with("/snapshot");
  if (snapshot) rest.remove_suffix(std::string_view("/snapshot").size());
  const std::string site(rest);
  if (!valid_site(site)) return problem(404, "Not Found", "no such sync site");
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (!(get || (request.method == "POST" && !snapshot))) {
    return problem(405, "Method Not Allowed",
                   snapshot ? "only GET is allowed here" : "only GET and POST are allowed here");
  }
  const std::string token = bearer(request);
  auto allowed = resilience::check_sync_token(store, site, token);
  if (!allowed) return problem(503, "Service Unavailable", "the store cannot be read");
  if (!*allowed) {
    audit_alone(store, "unknown", "sync.auth.refused", site, request,
                {{"method", request.method},
                 {"target", std::string(path)},
                 {"reason", token.empty() ? "no bearer token" : "wrong token"}});
    return problem(401, "Unauthorized", "a valid sync token for this site is required");
  }
  const std::string actor = fmt::format("sync:{}", site);
  if (snapshot) {
    auto body = resilience::snapshot_json(store, site, clock());
    if (!body) return from_error(body.error());
    if (!audit_alone(store, actor, "sync.snapshot", site, request, json::object())) {
      return problem(503, "Service Unavailable", "the audit log cannot be written");
    }
    return {200, "application/json", std::move(*body)};
  }
  if (get) {
    auto state = resilience::site_state(store, site);
    if (!state) return from_error(state.error());
    if (!audit_alone(store, actor, "sync.state", site, request, json::object())) {
      return problem(503, "Service Unavailable", "the audit log cannot be written");
    }
    return json_ok({{"site", state->site},
                    {"head_seq", state->head_seq},
                    {"head_hash", state->head_hash},
                    {"stored", state->stored},
                    {"last_sync_at", state->last_sync_at}});
  }
  auto entries = resilience::parse_batch(request.body, site);
  if (!entries) {
    audit_alone(store, actor, "sync.upload.refused", site, request,
                {{"reason", entries.error().to_string()}});
    return from_error(entries.error());
  }
  auto result = resilience::ingest(store, site, *entries,
                                   request.peer.empty() ? "api" : request.peer, clock());
  if (!result) return from_error(result.error());
  return json_ok(batch_to_json(*result));
}

}  // namespace vigie::api
