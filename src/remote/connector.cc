// vigie-connector: enrollment, the outbound connection kept to the broker, the grants it
// enforces, certificate rotation and the status file.
#include "vigie/remote/connector.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>

#include "vigie/core/file.h"
#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/remote/pki.h"
#include "wire_internal.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own plumbing
using core::ErrorCode;
using core::fail;
using core::LogLevel;
namespace fs = std::filesystem;

fs::path settings_path(const fs::path& dir) { return dir / "connector.toml"; }
fs::path ca_path(const fs::path& dir) { return dir / "ca.pem"; }
fs::path identity_path(const fs::path& dir) { return dir / "identity.pem"; }
fs::path status_path(const fs::path& dir) { return dir / "status.json"; }

// Runs `work` on a fresh io_context and returns its result (the CLI's blocking calls).
template <class T>
T run_blocking(asio::awaitable<T> work) {
  asio::io_context io{1};
  std::optional<T> out;
  asio::co_spawn(io, std::move(work), [&out](const std::exception_ptr& e, T value) {
    if (!e) out = std::move(value);
  });
  io.run();
  if (!out) return fail(ErrorCode::kInternal, "the connector's I/O ended without a result");
  return std::move(*out);
}

asio::awaitable<Status> enroll_async(fs::path dir, DialTarget target, std::string token,
                                     std::string fingerprint) {
  auto ex = co_await asio::this_coro::executor;
  // 1. The broker's CA, fetched without trust, then checked against the code's fingerprint.
  auto blind = client_context("", "");
  if (!blind) co_return tl::unexpected(blind.error());
  DialTarget unverified = target;
  unverified.verify = false;
  // Arguments are named locals: GCC 12 miscompiles string literals inside co_await calls.
  std::string ca_resource = "/v1/ca.pem";
  auto ca = co_await https_call(ex, **blind, unverified, http::verb::get, ca_resource, {});
  if (!ca) co_return tl::unexpected(ca.error());
  if (ca->status != 200) {
    co_return fail(ErrorCode::kUnavailable,
                   fmt::format("the broker answered {} for its CA", ca->status), "broker");
  }
  auto info = cert_info(ca->body);
  if (!info) co_return tl::unexpected(info.error());
  if (info->fingerprint != fingerprint) {
    co_return fail(ErrorCode::kInvalidInput,
                   fmt::format("the broker's CA (SHA-256 {}) is not the one of the enrollment "
                               "code ({}): wrong broker or an interception",
                               info->fingerprint, fingerprint),
                   "broker");
  }
  std::error_code fec;
  fs::create_directories(dir, fec);
  if (auto st = core::write_file_durably(ca_path(dir), ca->body, 0644); !st) co_return st;
  // 2. A key pair made here (the private key never leaves), its request sent with the token
  // over TLS verified against that CA.
  fs::path key_file = dir / "identity.key.new";
  auto csr = make_key_and_csr(key_file, "vigie-connector");
  if (!csr) co_return tl::unexpected(csr.error());
  auto trusted = client_context(ca_path(dir).string(), "");
  if (!trusted) co_return tl::unexpected(trusted.error());
  nlohmann::json request;
  request["token"] = token;
  request["csr"] = *csr;
  std::string enroll_resource = "/v1/enroll";
  auto reply =
      co_await https_call(ex, **trusted, target, http::verb::post, enroll_resource, request.dump());
  if (!reply) co_return tl::unexpected(reply.error());
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !body.is_object() || !body.contains("certificate")) {
    std::string detail = body.is_object() ? body.value("detail", reply->body) : reply->body;
    co_return fail(ErrorCode::kInvalidInput,
                   fmt::format("the broker refused the enrollment ({}): {}", reply->status, detail),
                   "token");
  }
  auto key = core::read_file(key_file);
  if (!key) co_return tl::unexpected(key.error());
  auto written = core::write_file_durably(identity_path(dir),
                                          *key + body["certificate"].get<std::string>(), 0600);
  fs::remove(key_file, fec);
  if (!written) co_return written;
  co_return Status{};
}

}  // namespace

std::string enrollment_code(std::string_view token, std::string_view ca_fingerprint) {
  return fmt::format("{}.{}", token, ca_fingerprint);
}

Result<ConnectorSettings> load_connector_settings(const fs::path& dir) {
  auto path = settings_path(dir);
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  toml::table table;
  try {
    table = toml::parse(*text, path.string());
  } catch (const toml::parse_error& e) {
    return fail(
        ErrorCode::kInvalidInput, std::string(e.description()),
        fmt::format("{}:{}:{}", path.string(), e.source().begin.line, e.source().begin.column));
  }
  ConnectorSettings s;
  for (const auto& entry : table) {
    const toml::key& key = entry.first;
    const toml::node& node = entry.second;
    auto where = fmt::format("{}:{}:{}", path.string(), node.source().begin.line,
                             node.source().begin.column);
    std::string name(key.str());
    auto integer = [&](std::int64_t& field, std::int64_t min, std::int64_t max) -> Status {
      auto v = node.value<std::int64_t>();
      if (!v || *v < min || *v > max) {
        return fail(ErrorCode::kInvalidInput,
                    fmt::format("'{}' must be an integer from {} to {}", name, min, max), where);
      }
      field = *v;
      return {};
    };
    if (name == "broker" || name == "proxy") {
      auto v = node.value<std::string>();
      if (!v)
        return fail(ErrorCode::kInvalidInput, fmt::format("'{}' must be a string", name), where);
      (name == "broker" ? s.broker : s.proxy) = *v;
    } else if (name == "keepalive_seconds") {
      VIGIE_TRY(integer(s.keepalive_seconds, 5, 3600));
    } else if (name == "backoff_max_seconds") {
      VIGIE_TRY(integer(s.backoff_max_seconds, 1, 3600));
    } else if (name == "renew_before_seconds") {
      VIGIE_TRY(integer(s.renew_before_seconds, 0, std::int64_t{10} * 365 * 86400));
    } else if (name == "connect_timeout_seconds") {
      VIGIE_TRY(integer(s.connect_timeout_seconds, 1, 300));
    } else if (name == "max_streams") {
      VIGIE_TRY(integer(s.max_streams, 1, 65536));
    } else {
      return fail(ErrorCode::kInvalidInput, fmt::format("unknown key '{}'", name), where);
    }
  }
  if (s.broker.empty()) {
    return fail(ErrorCode::kInvalidInput, "'broker' is required", path.string());
  }
  auto target = parse_broker_url(s.broker);
  if (!target) return tl::unexpected(target.error());
  return s;
}

Status enroll_connector(const fs::path& dir, std::string_view broker_url, std::string_view code,
                        std::string_view proxy) {
  auto dot = code.find('.');
  std::string_view token = code.substr(0, dot);
  std::string_view fingerprint = dot == std::string_view::npos ? "" : code.substr(dot + 1);
  if (token.size() != 64 || fingerprint.size() != 64) {
    return fail(ErrorCode::kInvalidInput,
                "an enrollment code is TOKEN.FINGERPRINT as `vigie connectors add` printed it",
                "code");
  }
  auto target = parse_broker_url(broker_url);
  if (!target) return tl::unexpected(target.error());
  target->proxy = std::string(proxy);
  VIGIE_TRY(run_blocking(enroll_async(dir, *target, std::string(token), std::string(fingerprint))));
  std::string settings = fmt::format(
      "# Written by `vigie-connector enroll`; see docs/remote.md.\n"
      "broker = {}\n",
      nlohmann::json(std::string(broker_url)).dump());
  if (!proxy.empty())
    settings += fmt::format("proxy = {}\n", nlohmann::json(std::string(proxy)).dump());
  return core::write_file_durably(settings_path(dir), settings, 0600);
}

Result<std::string> connector_status(const fs::path& dir) {
  auto info = cert_info_file(identity_path(dir));
  if (!info) return tl::unexpected(info.error());
  auto status = core::read_file(status_path(dir));
  return fmt::format("connector {} certificate {} valid until {}\n{}", info->subject_cn,
                     info->serial, info->not_after, status ? *status : "status: not running\n");
}

namespace {

// The grants the broker pushed: the only host:port pairs this connector dials.
class GrantSet {
 public:
  void apply(const Frame& f) {
    if (f.type == FrameType::kGrant) {
      grants_[f.grant] = {std::string(f.target), f.port, f.expires};
    } else {
      grants_.erase(f.grant);
    }
  }
  [[nodiscard]] bool admits(std::string_view host, std::uint16_t port) const {
    auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    for (const auto& [id, g] : grants_) {
      if (g.host == host && g.port == port && (g.expires == 0 || g.expires > now)) return true;
    }
    return false;
  }

 private:
  struct Entry {
    std::string host;
    std::uint16_t port;
    std::uint64_t expires;
  };
  std::unordered_map<std::uint64_t, Entry> grants_;
};

class ConnectorRun {
 public:
  ConnectorRun(fs::path dir, ConnectorSettings settings, asio::io_context& io)
      : dir_(std::move(dir)),
        settings_(std::move(settings)),
        io_(io),
        rng_(std::random_device{}()) {
    limits_.idle = std::chrono::seconds(settings_.keepalive_seconds);
    limits_.connect = std::chrono::seconds(settings_.connect_timeout_seconds);
    limits_.max_streams = static_cast<std::size_t>(settings_.max_streams);
  }

  void stop() {
    stopping_ = true;
    if (mux_) mux_->close();
    io_.stop();
  }

  static asio::awaitable<void> serve(ConnectorRun* self) {
    auto target = parse_broker_url(self->settings_.broker);
    if (!target) co_return;  // checked at load
    target->path = "/v1/connector";
    target->proxy = self->settings_.proxy;
    auto ex = co_await asio::this_coro::executor;
    std::chrono::milliseconds backoff{1000};
    const std::chrono::milliseconds cap{self->settings_.backoff_max_seconds * 1000};
    while (!self->stopping_) {
      // Read each time: a rotated certificate is used from the next connection on.
      auto tls = client_context(ca_path(self->dir_).string(), identity_path(self->dir_).string());
      core::Result<std::unique_ptr<WsStream>> ws = tl::unexpected(core::Error{});
      if (tls) {
        ws = co_await dial(ex, **tls, *target);
      } else {
        ws = tl::unexpected(tls.error());
      }
      if (!ws) {
        core::log_event(
            LogLevel::kWarn, "connector.connect_failed",
            {{"reason", ws.error().to_string()}, {"retry_ms", std::to_string(backoff.count())}});
        self->write_status("disconnected", ws.error().to_string());
        co_await self->sleep(self->jitter(backoff));
        backoff = std::min(backoff * 2, cap);
        continue;
      }
      backoff = std::chrono::milliseconds(1000);
      auto grants = std::make_shared<GrantSet>();
      self->mux_ = std::make_shared<Mux>(std::move(**ws), self->limits_,
                                         [grants](std::string_view host, std::uint16_t port) {
                                           return grants->admits(host, port);
                                         });
      self->mux_->on_grant = [grants](const Frame& f) { grants->apply(f); };
      core::log_event(LogLevel::kInfo, "connector.connected", {{"broker", self->settings_.broker}});
      self->write_status("connected", "");
      std::string why = co_await self->mux_->run();
      self->mux_.reset();
      if (self->stopping_) break;
      core::log_event(LogLevel::kWarn, "connector.disconnected", {{"reason", why}});
      self->write_status("disconnected", why);
      co_await self->sleep(self->jitter(backoff));
    }
  }

  // Renews the certificate when due: at start, then hourly.
  static asio::awaitable<void> rotate(ConnectorRun* self) {
    auto ex = co_await asio::this_coro::executor;
    while (!self->stopping_) {
      if (auto st = co_await self->renew_if_due(ex); !st) {
        core::log_event(LogLevel::kWarn, "connector.renew_failed",
                        {{"reason", st.error().to_string()}});
      }
      co_await self->sleep(std::chrono::minutes(60));
    }
  }

 private:
  asio::awaitable<Status> renew_if_due(asio::any_io_executor ex) {
    auto info = cert_info_file(identity_path(dir_));
    if (!info) co_return tl::unexpected(info.error());
    auto not_before = core::parse_utc(info->not_before);
    auto not_after = core::parse_utc(info->not_after);
    if (!not_before || !not_after) co_return fail(ErrorCode::kInternal, "unreadable validity");
    auto life = *not_after - *not_before;
    auto before = settings_.renew_before_seconds > 0
                      ? std::chrono::duration_cast<core::TimePoint::duration>(
                            std::chrono::seconds(settings_.renew_before_seconds))
                      : life / 3;
    if (core::utc_now() < *not_after - before) co_return Status{};
    auto target = parse_broker_url(settings_.broker);
    if (!target) co_return tl::unexpected(target.error());
    target->proxy = settings_.proxy;
    fs::path key_file = dir_ / "identity.key.new";
    auto csr = make_key_and_csr(key_file, "vigie-connector");
    if (!csr) co_return tl::unexpected(csr.error());
    auto tls = client_context(ca_path(dir_).string(), identity_path(dir_).string());
    if (!tls) co_return tl::unexpected(tls.error());
    nlohmann::json request;
    request["csr"] = *csr;
    std::string renew_resource = "/v1/renew";
    auto reply =
        co_await https_call(ex, **tls, *target, http::verb::post, renew_resource, request.dump());
    if (!reply) co_return tl::unexpected(reply.error());
    auto body = nlohmann::json::parse(reply->body, nullptr, false);
    if (reply->status != 200 || !body.is_object() || !body.contains("certificate")) {
      co_return fail(ErrorCode::kUnavailable,
                     fmt::format("the broker refused the renewal ({})", reply->status), "broker");
    }
    auto key = core::read_file(key_file);
    if (!key) co_return tl::unexpected(key.error());
    // Key and certificate change together, in one rename: never a mismatched pair.
    auto written = core::write_file_durably(identity_path(dir_),
                                            *key + body["certificate"].get<std::string>(), 0600);
    std::error_code ec;
    fs::remove(key_file, ec);
    if (!written) co_return written;
    auto fresh = cert_info_file(identity_path(dir_));
    core::log_event(
        LogLevel::kInfo, "connector.renewed",
        {{"serial", fresh ? fresh->serial : "?"}, {"not_after", fresh ? fresh->not_after : "?"}});
    co_return Status{};
  }

  std::chrono::milliseconds jitter(std::chrono::milliseconds d) {
    // Full jitter in [d/2, d]: a thousand connectors cut at once do not return at once.
    std::uniform_int_distribution<std::int64_t> pick(d.count() / 2, d.count());
    return std::chrono::milliseconds(pick(rng_));
  }

  asio::awaitable<void> sleep(std::chrono::steady_clock::duration d) {
    asio::steady_timer t(io_, d);
    ErrorCodeB ec;
    co_await t.async_wait(redirect(ec));
  }

  void write_status(std::string_view state, std::string_view detail) {
    nlohmann::json j = {{"state", state},
                        {"broker", settings_.broker},
                        {"since", core::format_utc(core::utc_now())},
                        {"detail", detail}};
    (void)core::write_file_durably(status_path(dir_), j.dump(2) + "\n", 0644);
  }

  fs::path dir_;
  ConnectorSettings settings_;
  asio::io_context& io_;
  Limits limits_;
  std::mt19937_64 rng_;
  std::shared_ptr<Mux> mux_;
  bool stopping_ = false;
};

}  // namespace

Status run_connector(const fs::path& dir) {
  auto settings = load_connector_settings(dir);
  if (!settings) return tl::unexpected(settings.error());
  if (auto id = cert_info_file(identity_path(dir)); !id) {
    return fail(ErrorCode::kNotFound, "not enrolled: run `vigie-connector enroll` first",
                identity_path(dir).string());
  }
  asio::io_context io{1};
  ConnectorRun run(dir, *settings, io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&run](const ErrorCodeB& ec, int) {
    if (!ec) run.stop();
  });
  asio::co_spawn(io, ConnectorRun::serve(&run), asio::detached);
  asio::co_spawn(io, ConnectorRun::rotate(&run), asio::detached);
  io.run();
  core::log_event(LogLevel::kInfo, "connector.stopped");
  return {};
}

}  // namespace vigie::remote
