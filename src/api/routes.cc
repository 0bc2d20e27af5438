#include <fmt/format.h>

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "routes_internal.h"
#include "sync_routes.h"
#include "vigie/core/time.h"
#include "vigie/inventory/inventory.h"
#include "vigie/store/store.h"

namespace vigie::api {
namespace {

using nlohmann::json;

constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;

Response json_response(int status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    out[percent_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

bool parse_size(const std::string& s, size_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Response list_devices(store::Store& store, const std::map<std::string, std::string>& q) {
  inventory::DeviceFilter f;
  static constexpr std::string_view kKnown[] = {"zone",   "vendor", "site",
                                                "status", "limit",  "offset"};
  for (const auto& [k, v] : q) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) {
      return problem(400, "Bad Request", fmt::format("unknown query parameter '{}'", k));
    }
  }
  auto get = [&](const char* k) {
    auto it = q.find(k);
    return it == q.end() ? std::string() : it->second;
  };
  f.zone = get("zone");
  f.vendor = get("vendor");
  f.site = get("site");
  f.status = get("status");
  f.limit = kDefaultPage;
  if (auto l = get("limit");
      !l.empty() && (!parse_size(l, f.limit) || f.limit == 0 || f.limit > kMaxPage)) {
    return problem(400, "Bad Request", fmt::format("limit must be 1..{}", kMaxPage));
  }
  if (auto o = get("offset"); !o.empty() && !parse_size(o, f.offset)) {
    return problem(400, "Bad Request", "offset must be a non-negative integer");
  }
  auto total = inventory::count_devices(store, f);
  if (!total) return problem(500, "Internal Server Error", "the store failed");
  Response r{200, "application/json", {}};
  core::JsonWriter w(r.body);
  w.begin_object().key("items").begin_array();
  auto st = inventory::for_each_device(store, f, [&](const inventory::Device& d) {
    inventory::write_json(w, d);
    return true;
  });
  if (!st) {
    return st.error().code == core::ErrorCode::kUsage
               ? problem(400, "Bad Request", st.error().message)
               : problem(500, "Internal Server Error", "the store failed");
  }
  w.end_array();
  w.key("total").value(*total);
  w.key("limit").value(static_cast<std::int64_t>(f.limit));
  w.key("offset").value(static_cast<std::int64_t>(f.offset));
  w.end_object();
  return r;
}

Response show_device(store::Store& store, std::string_view id_text) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || p != id_text.data() + id_text.size()) {
    return problem(404, "Not Found", "no such device");
  }
  auto d = inventory::get_device(store, id);
  if (!d) {
    return d.error().code == core::ErrorCode::kNotFound
               ? problem(404, "Not Found", d.error().message)
               : problem(500, "Internal Server Error", "the store failed");
  }
  return {200, "application/json", inventory::to_json_text(*d)};
}

}  // namespace

// RFC 9457 problem details.
Response problem(int status, std::string_view title, std::string_view detail) {
  json body = {{"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}};
  Response r = json_response(status, body);
  r.content_type = "application/problem+json";
  return r;
}

Response route(store::Store& store, const std::string& method, const std::string& target) {
  return route(store, Request{method, target, {}, {}, {}});
}

Response route(store::Store& store, const Request& request) {
  const std::string& method = request.method;
  std::string_view t = request.target;
  auto qmark = t.find('?');
  std::string_view path = t.substr(0, qmark);
  auto query = parse_query(qmark == std::string_view::npos ? "" : t.substr(qmark + 1));
  bool get = method == "GET" || method == "HEAD";
  auto only_get = [&]() { return problem(405, "Method Not Allowed", "only GET is allowed here"); };

  if (path == "/healthz" || path == "/api/v1/health") {
    if (!get) return only_get();
    return json_response(200, {{"status", "ok"}});
  }
  if (path == "/api/v1/status") {
    if (!get) return only_get();
    auto devices = store.query_int("SELECT COUNT(*) FROM devices");
    if (!devices) return problem(503, "Service Unavailable", "the store cannot be read");
    return json_response(
        200, {{"status", "ok"},
              {"version", VIGIE_VERSION},
              {"store", store.backend() == store::Backend::kSqlite ? "sqlite" : "postgresql"},
              {"schema_version", store.schema_version()},
              {"devices", *devices},
              {"time", core::format_utc(core::utc_now())}});
  }
  if (path == "/api/v1/devices") {
    if (!get) return only_get();
    return list_devices(store, query);
  }
  if (path.starts_with(kSyncPrefix)) return route_sync(store, request, path);
  constexpr std::string_view kDevicePrefix = "/api/v1/devices/";
  if (path.starts_with(kDevicePrefix)) {
    if (!get) return only_get();
    return show_device(store, path.substr(kDevicePrefix.size()));
  }
  return problem(404, "Not Found", fmt::format("no resource at {}", path));
}

}  // namespace vigie::api
