#include "vigie/netpolicy/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vigie/audit/audit.h"
#include "vigie/core/time.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;
using store::Value;

// A resolver state of our own (res_ninit), so that tests and sites can name their server.
class Resolver {
 public:
  Resolver() = default;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  ~Resolver() {
    if (ready_) res_nclose(&state_);
  }

  Status init(const ResolverOptions& options) {
    std::memset(&state_, 0, sizeof state_);
    if (res_ninit(&state_) != 0) return core::fail(ErrorCode::kUnavailable, "res_ninit failed");
    ready_ = true;
    state_.retrans = options.timeout_seconds;
    state_.retry = options.attempts;
    if (options.server.empty()) return {};
    const auto colon = options.server.rfind(':');
    const std::string host = options.server.substr(0, colon);
    int port = 53;
    if (colon != std::string::npos) {
      const auto text = std::string_view(options.server).substr(colon + 1);
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (ec != std::errc() || port <= 0 || port > 65535) {
        return core::fail(ErrorCode::kUsage, "bad DNS server port in '" + options.server + "'");
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      return core::fail(ErrorCode::kUsage, "the DNS server must be an IPv4 address: " + host);
    }
    state_.nsaddr_list[0] = addr;
    state_.nscount = 1;
    return {};
  }

  // Appends the answers of type `type` for `name`; returns the h_errno on failure.
  int query(const std::string& name, int type, std::vector<ResolvedAddress>& out) {
    std::array<unsigned char, 8192> answer{};
    const int length = res_nquery(&state_, name.c_str(), ns_c_in, type, answer.data(),
                                  static_cast<int>(answer.size()));
    if (length < 0) return state_.res_h_errno;
    ns_msg msg{};
    if (ns_initparse(answer.data(), length, &msg) != 0) return NO_RECOVERY;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr{};
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return NO_RECOVERY;
      if (ns_rr_type(rr) != type) continue;  // CNAMEs on the way
      IpAddress ip;
      if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
        ip = IpAddress::v4(0);
        std::memcpy(ip.bytes.data() + 12, ns_rr_rdata(rr), 4);
      } else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
        std::memcpy(ip.bytes.data(), ns_rr_rdata(rr), 16);
      } else {
        continue;
      }
      out.push_back({ip, ns_rr_ttl(rr)});
    }
    return NETDB_SUCCESS;
  }

 private:
  struct __res_state state_ {};
  bool ready_ = false;
};

}  // namespace

Result<std::vector<ResolvedAddress>> resolve_name(std::string_view name,
                                                  const ResolverOptions& options) {
  Resolver resolver;
  VIGIE_TRY(resolver.init(options));
  std::vector<ResolvedAddress> out;
  const std::string host(name);
  const int v4 = resolver.query(host, ns_t_a, out);
  const int v6 = resolver.query(host, ns_t_aaaa, out);
  if (!out.empty()) return out;
  if (v4 == HOST_NOT_FOUND || v6 == HOST_NOT_FOUND) {
    return core::fail(ErrorCode::kNotFound, fmt::format("'{}' does not exist (NXDOMAIN)", name));
  }
  if (v4 == NO_DATA || v4 == NETDB_SUCCESS) {
    return core::fail(ErrorCode::kNotFound, fmt::format("'{}' has no address record", name));
  }
  return core::fail(ErrorCode::kUnavailable,
                    fmt::format("no answer for '{}' from the DNS server", name));
}

Result<std::vector<ResolveOutcome>> resolve_roles(store::Store& store,
                                                  const ResolverOptions& options,
                                                  const Actor& actor, bool force) {
  const std::string now = actor.at.empty() ? core::format_utc(core::utc_now()) : actor.at;
  auto now_time = core::parse_utc(now);
  if (!now_time) return tl::unexpected(now_time.error());
  struct Bound {
    std::int64_t id;
    std::int64_t site_id;
    std::string role;
    std::string name;
  };
  std::vector<Bound> names;
  auto status = store.for_each(
      "SELECT r.id, r.site_id, r.role, r.address FROM site_roles r WHERE r.kind = 'dns' "
      "ORDER BY r.site_id, r.role, r.address",
      {}, [&](const store::Row& row) {
        names.push_back({row.integer(0), row.integer(1), row.text(2), row.text(3)});
        return true;
      });
  if (!status) return tl::unexpected(status.error());

  std::vector<ResolveOutcome> outcomes;
  for (const auto& bound : names) {
    const Value id[] = {bound.id};
    auto rows = store.query(
        "SELECT address, last_seen, expires_at FROM dns_addresses WHERE site_role_id = ?", id);
    if (!rows) return tl::unexpected(rows.error());
    std::string latest;
    bool expired = rows->empty();
    for (const auto& r : *rows) {
      if (r.text(1) > latest) latest = r.text(1);
      if (r.text(2) <= now) expired = true;
    }
    if (!force && !expired) continue;
    std::set<std::string> previous;
    for (const auto& r : *rows) {
      if (r.text(1) == latest) previous.insert(r.text(0));
    }
    ResolveOutcome outcome{bound.role, bound.name, {}, {}, {}, {}};
    auto answers = resolve_name(bound.name, options);
    if (!answers) {
      outcome.error = answers.error().message;
      outcome.current.assign(previous.begin(), previous.end());
      outcomes.push_back(std::move(outcome));
      continue;
    }
    std::map<std::string, std::uint32_t> seen;
    for (const auto& a : *answers) {
      auto& ttl = seen[a.address.to_string()];
      ttl = std::max(ttl, a.ttl);
    }
    for (const auto& [address, ttl] : seen) {
      const std::string expires =
          core::format_utc(*now_time + std::chrono::seconds(std::max<std::uint32_t>(ttl, 1)));
      const Value key[] = {bound.id, address};
      auto known = store.query_int(
          "SELECT COUNT(*) FROM dns_addresses WHERE site_role_id = ? AND address = ?", key);
      if (!known) return tl::unexpected(known.error());
      if (*known > 0) {
        const Value update[] = {now, expires, bound.id, address};
        VIGIE_TRY(store.execute(
            "UPDATE dns_addresses SET last_seen = ?, expires_at = ? WHERE site_role_id = ? AND "
            "address = ?",
            update));
      } else {
        const Value insert[] = {bound.id, address, now, now, expires};
        VIGIE_TRY(store.execute(
            "INSERT INTO dns_addresses (site_role_id, address, first_seen, last_seen, expires_at) "
            "VALUES (?,?,?,?,?)",
            insert));
      }
      outcome.current.push_back(address);
      if (!previous.contains(address)) outcome.added.push_back(address);
    }
    for (const auto& old : previous) {
      if (!seen.contains(old)) outcome.removed.push_back(old);
    }
    if (!outcome.added.empty() || !outcome.removed.empty()) {
      const nlohmann::json details = {{"name", bound.name},
                                      {"added", outcome.added},
                                      {"removed", outcome.removed},
                                      {"current", outcome.current}};
      auto entry = audit::append(
          store,
          {actor.name, "netpolicy.dns.change",
           fmt::format("site:{}/role:{}", bound.site_id, bound.role), actor.origin, details.dump()},
          now);
      if (!entry) return tl::unexpected(entry.error());
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace vigie::netpolicy
