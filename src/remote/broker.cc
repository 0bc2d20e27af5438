// The broker: one TLS listener for connectors (mutual TLS, WebSocket), engineers (login token,
// WebSocket), the connectors' enrollment and renewal and the engineers' API (HTTPS: login,
// sessions, files). It relays each
// stream's frames between the two WebSockets it joins, rewriting only the stream id; it
// checks the windows both ways so that no peer can make it buffer beyond them.
#include "vigie/remote/broker.h"

#include <fmt/format.h>
#include <openssl/x509.h>

#include <charconv>
#include <csignal>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "vigie/core/file.h"
#include "vigie/core/log.h"
#include "vigie/core/text.h"
#include "vigie/core/time.h"
#include "vigie/core/tls.h"
#include "vigie/remote/pki.h"
#include "vigie/remote/registry.h"
#include "wire_internal.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own plumbing
using core::ErrorCode;
using core::LogLevel;

constexpr std::size_t kMaxRequestBody = std::size_t{64} * 1024;

// Runs `f` with a store connection on a worker thread (the store blocks) and resumes the
// awaiting coroutine on its own executor with the result. An asynchronous operation rather
// than a coroutine taking `f`: GCC 12 frees lambda parameters of coroutines twice.
// Callers pass a named lambda: GCC 12 copies temporaries of a co_await expression bitwise.
template <class F>
auto with_store(asio::thread_pool& pool, store::StorePool& stores, F f) {
  using R = std::invoke_result_t<F, store::Store&>;
  return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      [&pool, &stores](auto handler, F work) {
        asio::post(pool, [&stores, handler = std::move(handler), work = std::move(work)]() mutable {
          R result = [&] {
            auto lease = stores.acquire();
            return work(*lease);
          }();
          auto ex = asio::get_associated_executor(handler);
          asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(f));
}

struct Peer;

// One stream joined across the broker: the engineer's id for it and the connector's.
struct Route {
  std::weak_ptr<Peer> engineer;
  std::weak_ptr<Peer> connector;
  std::uint32_t engineer_id = 0;
  std::uint32_t connector_id = 0;
  std::int64_t grant = 0;
  std::uint64_t grant_epoch = 0;  // the connector's grant_epoch when the route was opened
  std::string device;
  std::uint16_t port = 0;
  std::int64_t credit_to_connector = 0;  // what the connector's window lets the engineer send
  std::int64_t credit_to_engineer = 0;
  bool open_ok = false;
  bool eof_from_engineer = false;
  bool eof_from_connector = false;
  bool finished = false;
  std::uint64_t bytes_up = 0;    // engineer to device
  std::uint64_t bytes_down = 0;  // device to engineer
  std::int64_t session = 0;      // the session whose grant opened it (0: a grant by hand)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

struct Peer : std::enable_shared_from_this<Peer> {
  enum class Kind { kConnector, kEngineer };
  Peer(Kind k, std::unique_ptr<WsStream> stream)
      : kind(k), ws(std::move(stream)), outbox(ws->get_executor()) {}
  Kind kind;
  std::unique_ptr<WsStream> ws;
  Outbox outbox;
  bool closed = false;
  std::int64_t id = 0;  // connector or engineer id
  std::string name;
  std::int64_t zone = 0;  // connectors
  std::string serial;     // connectors: the certificate presented
  std::string address;
  std::unordered_map<std::uint32_t, std::shared_ptr<Route>> routes;  // by this side's id
  std::uint32_t next_id = 1;  // connectors: ids the broker gives the streams it opens
  // The grants pushed to a connector, as pushed; `epoch` orders them against store snapshots.
  struct SentGrant {
    std::string host;
    int port = 0;
    std::string expires_at;
    std::uint64_t epoch = 0;
  };
  std::unordered_map<std::int64_t, SentGrant> grants_sent;
  std::uint64_t grant_epoch = 0;  // bumped by each OPEN that pushes or uses a grant
};

std::string peer_label(const Peer& p) {
  return fmt::format("{}:{}", p.kind == Peer::Kind::kConnector ? "connector" : "engineer", p.id);
}

// Whether the comma-separated Sec-WebSocket-Protocol list offers vigie.tunnel.v1 exactly.
bool offers_subprotocol(std::string_view list) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == kSubprotocol) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The serial of the verified client certificate, or "" when none was presented.
std::string client_serial(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);  // NOLINT(cppcoreguidelines-owning-memory): OpenSSL's allocation
  BN_free(bn);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class BrokerImpl final : public Broker {
 public:
  BrokerImpl(const BrokerOptions& options, store::StorePool& stores)
      : options_(options), stores_(stores), workers_(std::max<std::size_t>(options.workers, 1)) {
    limits_.window = options.stream_window;
    limits_.max_streams = options.max_streams;
    limits_.max_queue = options.max_queue_bytes;
    limits_.idle = options.idle;
  }
  BrokerImpl(const BrokerImpl&) = delete;
  BrokerImpl& operator=(const BrokerImpl&) = delete;
  ~BrokerImpl() override {
    notices_.join();
    workers_.join();
  }

  core::Status init() {
    auto ca = core::read_file(ca_cert_path(options_.ca_dir));
    if (!ca) return tl::unexpected(ca.error());
    ca_pem_ = *ca;
    try {
      VIGIE_TRY(core::apply_tls_policy(tls_.native_handle()));
      tls_.use_certificate_chain_file(options_.cert.string());
      tls_.use_private_key_file(options_.key.string(), ssl::context::pem);
      tls_.load_verify_file(ca_cert_path(options_.ca_dir).string());
    } catch (const boost::system::system_error& e) {
      return core::fail(
          ErrorCode::kInvalidInput,
          fmt::format("cannot load the broker's certificate, key or CA: {}", e.what()),
          options_.cert.string());
    }
    // Client certificates are asked for, not required: engineers and enrolling connectors
    // have none. One that is presented must verify, or the handshake fails.
    SSL_CTX_set_verify(tls_.native_handle(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_client_CA_list(tls_.native_handle(),
                               SSL_load_client_CA_file(ca_cert_path(options_.ca_dir).c_str()));
    ErrorCodeB ec;
    auto address = asio::ip::make_address(options_.listen, ec);
    if (ec) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("'{}' is not an IP address to listen on", options_.listen),
                        "remote.broker_listen");
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return core::fail(ErrorCode::kUnavailable,
                        fmt::format("the broker cannot listen on {}:{}: {}", options_.listen,
                                    options_.port, ec.message()),
                        "remote.broker_port");
    }
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  [[nodiscard]] std::uint16_t port() const override { return port_; }

  core::Status run(bool handle_signals) override {
    asio::signal_set signals(io_);
    if (handle_signals) {
      signals.add(SIGINT);
      signals.add(SIGTERM);
      signals.async_wait([this](const ErrorCodeB& ec, int) {
        if (!ec) stop();
      });
    }
    asio::co_spawn(io_, accept_loop(this), asio::detached);
    asio::co_spawn(io_, grant_sweep(this), asio::detached);
    asio::co_spawn(io_, session_watch(this), asio::detached);
    if (options_.deliver_notices) asio::co_spawn(io_, notice_pump(this), asio::detached);
    io_.run();
    return {};
  }

  void stop() override {
    asio::post(io_, [this] {
      ErrorCodeB ignored;
      acceptor_.close(ignored);
      stopping_ = true;
      auto peers = peers_;  // close_peer() erases from peers_
      for (const auto& p : peers) close_peer(p, "the broker is stopping");
      io_.stop();
    });
  }

 private:
  // ---- connections -------------------------------------------------------------------------

  static asio::awaitable<void> accept_loop(BrokerImpl* self) {
    while (self->acceptor_.is_open()) {
      ErrorCodeB ec;
      tcp::socket socket = co_await self->acceptor_.async_accept(redirect(ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(self->io_, session(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> session(BrokerImpl* self, tcp::socket socket) {
    ErrorCodeB ec;
    std::string address;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) address = fmt::format("{}:{}", remote.address().to_string(), remote.port());
    auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(
        beast::tcp_stream(std::move(socket)), self->tls_);
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(15));
    co_await stream->async_handshake(ssl::stream_base::server, redirect(ec));
    if (ec) {
      core::log_event(LogLevel::kDebug, "broker.tls_failed",
                      {{"peer", address}, {"reason", ec.message()}});
      co_return;
    }
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    co_await http::async_read_header(*stream, buffer, parser, redirect(ec));
    if (!ec && parser.get().method() == http::verb::put) {
      // A file an engineer puts: up to remote.max_transfer_bytes, with time to arrive.
      parser.body_limit(self->options_.transfers.max_bytes + 1);
      beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(300));
    }
    if (!ec) co_await http::async_read(*stream, buffer, parser, redirect(ec));
    if (ec) {
      core::log_event(LogLevel::kDebug, "broker.request_failed",
                      {{"peer", address}, {"reason", ec.message()}});
      co_return;
    }
    auto req = parser.release();
    std::string serial = client_serial(stream->native_handle());
    if (websocket::is_upgrade(req)) {
      co_await upgrade(self, std::move(stream), std::move(req), std::move(serial),
                       std::move(address));
      co_return;
    }
    http::response<http::string_body> res;
    try {
      res = co_await self->answer(req, serial, address);
    } catch (const std::exception& e) {
      // A bug, not the client's fault: said, answered, and the broker goes on.
      core::log_event(LogLevel::kError, "broker.request_crashed",
                      {{"target", std::string(req.target())}, {"reason", e.what()}});
      res = problem(http::status::internal_server_error, "the broker could not do it");
    }
    res.set(http::field::server, "vigied");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(*stream, res, redirect(ec));
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(5));
    co_await stream->async_shutdown(redirect(ec));
  }

  static http::response<http::string_body> reply(http::status status, std::string body,
                                                 std::string_view type = "application/json") {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, bsv(type));
    res.body() = std::move(body);
    return res;
  }
  static http::response<http::string_body> problem(http::status status, std::string_view detail) {
    return reply(status,
                 nlohmann::json{{"status", static_cast<int>(status)}, {"detail", detail}}.dump(),
                 "application/problem+json");
  }
  static http::response<http::string_body> problem(const core::Error& e) {
    switch (e.code) {
      case ErrorCode::kNotFound:
        return problem(http::status::not_found, e.message);
      case ErrorCode::kConflict:
        return problem(http::status::conflict, e.message);
      case ErrorCode::kInvalidInput:
        return problem(http::status::forbidden, e.message);
      case ErrorCode::kUsage:
        return problem(http::status::bad_request, e.message);
      default:
        return problem(http::status::internal_server_error, "the broker could not do it");
    }
  }

  Actor actor(std::string name, const std::string& address) const {
    return Actor{std::move(name), address, core::format_utc(core::utc_now())};
  }

  // Plain HTTPS: the CA certificate, enrollment, renewal, an engineer's grants.
  asio::awaitable<http::response<http::string_body>> answer(
      const http::request<http::string_body>& req, const std::string& serial,
      const std::string& address) {
    std::string target(req.target());
    if (req.method() == http::verb::get && target == "/v1/ca.pem") {
      co_return reply(http::status::ok, ca_pem_, "application/x-pem-file");
    }
    if (req.method() == http::verb::post && (target == "/v1/enroll" || target == "/v1/renew")) {
      auto body = nlohmann::json::parse(req.body(), nullptr, false);
      if (!body.is_object() || !body.contains("csr") || !body["csr"].is_string() ||
          (target == "/v1/enroll" && (!body.contains("token") || !body["token"].is_string()))) {
        co_return problem(http::status::bad_request, "expected {\"token\", \"csr\"} as JSON");
      }
      auto work = [this, renew = target == "/v1/renew", token = body.value("token", ""),
                   csr = body["csr"].get<std::string>(), serial,
                   who = actor("connector", address)](store::Store& s) {
        return renew ? renew_cert(s, serial, csr, who) : enroll(s, token, csr, who);
      };
      auto result = co_await with_store(workers_, stores_, std::move(work));
      if (!result) {
        auto status = result.error().code == ErrorCode::kNotFound ? http::status::forbidden
                                                                  : http::status::bad_request;
        co_return problem(status, result.error().to_string());
      }
      co_return reply(http::status::ok, *result);
    }
    if (req.method() == http::verb::get && target == "/v1/engineer/grants") {
      auto engineer = co_await authenticate_engineer(req);
      if (!engineer) co_return problem(http::status::unauthorized, engineer.error().message);
      auto work = [id = engineer->id](store::Store& s) {
        return grants_of_engineer(s, id, core::format_utc(core::utc_now()));
      };
      auto grants = co_await with_store(workers_, stores_, std::move(work));
      if (!grants) co_return problem(http::status::internal_server_error, "store error");
      nlohmann::json list = nlohmann::json::array();
      for (const Grant& g : *grants) {
        list.push_back({{"grant", g.id},
                        {"device_id", g.device_id},
                        {"device", g.device},
                        {"port", g.port},
                        {"expires_at", g.expires_at}});
      }
      co_return reply(http::status::ok, list.dump());
    }
    if (target.starts_with("/v1/engineer/")) co_return co_await engineer_api(req, serial, address);
    co_return problem(http::status::not_found, "no such resource");
  }

  // ---- the engineers' API --------------------------------------------------------------------

  static std::string text_field(const nlohmann::json& body, const char* name) {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  // POST /v1/engineer/login; then, with the login's bearer token, /v1/engineer/sessions:
  // POST (request), GET (list), GET /ID, POST /ID/open, POST /ID/end, GET /ID/files,
  // GET|PUT /ID/files/NAME.
  asio::awaitable<http::response<http::string_body>> engineer_api(
      const http::request<http::string_body>& req, const std::string& serial,
      const std::string& address) {
    const std::string target(req.target());
    const auto now = core::utc_now();
    if (target == "/v1/engineer/login" && req.method() == http::verb::post) {
      auto body = nlohmann::json::parse(req.body(), nullptr, false);
      if (!body.is_object()) {
        co_return problem(http::status::bad_request,
                          "expected {\"engineer\", \"password\", \"otp\"} as JSON");
      }
      LoginAttempt attempt{text_field(body, "engineer"), text_field(body, "password"),
                           text_field(body, "otp"), serial, address};
      auto work = [attempt = std::move(attempt), policy = options_.logins, now](store::Store& s) {
        return login(s, attempt, now, policy);
      };
      auto done = co_await with_store(workers_, stores_, std::move(work));
      if (!done) {
        co_return problem(done.error().code == ErrorCode::kConflict ? http::status::forbidden
                                                                    : http::status::unauthorized,
                          done.error().message);
      }
      co_return reply(http::status::ok, nlohmann::json{{"token", done->token},
                                                       {"expires_at", done->expires_at},
                                                       {"engineer", done->engineer.name},
                                                       {"vendor", done->engineer.organisation}}
                                            .dump());
    }
    constexpr std::string_view kSessions = "/v1/engineer/sessions";
    if (!target.starts_with(kSessions)) {
      co_return problem(http::status::not_found, "no such resource");
    }
    auto engineer = co_await authenticate_engineer(req);
    if (!engineer) co_return problem(http::status::unauthorized, engineer.error().message);
    // The path after /sessions: "", "/ID", "/ID/open", "/ID/end", "/ID/files", "/ID/files/NAME".
    std::string_view rest = std::string_view(target).substr(kSessions.size());
    std::int64_t id = 0;
    std::string_view action;
    std::string file;
    if (!rest.empty()) {
      if (rest.front() != '/') co_return problem(http::status::not_found, "no such resource");
      rest.remove_prefix(1);
      auto slash = rest.find('/');
      auto number = rest.substr(0, slash);
      auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), id);
      if (ec != std::errc() || end != number.data() + number.size() || id <= 0) {
        co_return problem(http::status::not_found, "no such session");
      }
      if (slash != std::string_view::npos) {
        action = rest.substr(slash + 1);
        if (action.starts_with("files/")) {
          file = core::percent_decode(action.substr(6));
          action = "file";
        }
      }
    }
    const std::int64_t me = engineer->id;
    const std::string& origin = address;
    nlohmann::json body;
    if (req.method() == http::verb::post) body = nlohmann::json::parse(req.body(), nullptr, false);
    if (req.method() == http::verb::post && !body.is_object()) body = nlohmann::json::object();

    if (id == 0 && req.method() == http::verb::post) {
      SessionRequest request;
      request.engineer_id = me;
      request.device_id = body.value("device", std::int64_t{0});
      request.reason = text_field(body, "reason");
      request.ticket = text_field(body, "ticket");
      request.origin = origin;
      if (auto ports = body.find("ports"); ports != body.end() && ports->is_array()) {
        for (const auto& p : *ports) {
          if (p.is_number_integer()) request.ports.push_back(p.get<int>());
        }
      }
      auto ops = parse_operations(text_field(body, "operations"));
      if (!ops) co_return problem(ops.error());
      request.operations = *ops;
      auto work = [request = std::move(request), policy = options_.sessions, now](store::Store& s) {
        return request_session(s, request, policy, now);
      };
      auto done = co_await with_store(workers_, stores_, std::move(work));
      if (!done) co_return problem(done.error());
      co_return reply(http::status::created, to_json(*done).dump());
    }
    if (id == 0 && req.method() == http::verb::get) {
      auto work = [me](store::Store& s) {
        SessionFilter filter;
        filter.engineer_id = me;
        filter.limit = 50;
        return list_sessions(s, filter);
      };
      auto list = co_await with_store(workers_, stores_, std::move(work));
      if (!list) co_return problem(list.error());
      nlohmann::json out = nlohmann::json::array();
      for (const Session& x : *list) out.push_back(to_json(x));
      co_return reply(http::status::ok, out.dump());
    }
    if (id != 0 && action.empty() && req.method() == http::verb::get) {
      auto work = [id](store::Store& s) { return get_session(s, id); };
      auto found = co_await with_store(workers_, stores_, std::move(work));
      if (!found || found->engineer_id != me) {
        co_return problem(http::status::not_found, "no such session of yours");
      }
      co_return reply(http::status::ok, to_json(*found).dump());
    }
    if (action == "open" && req.method() == http::verb::post) {
      auto work = [id, me, password = text_field(body, "password"), origin,
                   policy = options_.sessions, now](store::Store& s) {
        return open_session(s, id, me, password, origin, policy, now);
      };
      auto done = co_await with_store(workers_, stores_, std::move(work));
      if (!done) co_return problem(done.error());
      co_return reply(http::status::ok, to_json(*done).dump());
    }
    if (action == "end" && req.method() == http::verb::post) {
      auto work = [id, me, who = actor(engineer->name, address), policy = options_.sessions,
                   now](store::Store& s) -> core::Status {
        auto found = get_session(s, id);
        if (!found || found->engineer_id != me) {
          return core::fail(ErrorCode::kNotFound, "no such session of yours");
        }
        return end_session(s, id, who, "ended by the engineer", policy, now);
      };
      auto done = co_await with_store(workers_, stores_, std::move(work));
      if (!done) co_return problem(done.error());
      co_return reply(http::status::ok, "{}");
    }
    if (action == "files" && req.method() == http::verb::get) {
      auto work = [id, me, area = options_.transfers](store::Store& s) {
        return list_outbox(s, area, id, me);
      };
      auto files = co_await with_store(workers_, stores_, std::move(work));
      if (!files) co_return problem(files.error());
      nlohmann::json out = nlohmann::json::array();
      for (const OutboxFile& f : *files) out.push_back({{"name", f.name}, {"size", f.size}});
      co_return reply(http::status::ok, out.dump());
    }
    if (action == "file" && req.method() == http::verb::get) {
      if (!options_.phi_filter) {
        co_return problem(http::status::forbidden, "no file leaves: the PHI filter is not set up");
      }
      auto work = [id, me, area = options_.transfers, filter = options_.phi_filter, file, origin,
                   now](store::Store& s) {
        return get_file(s, area, *filter, id, me, file, origin, now);
      };
      auto got = co_await with_store(workers_, stores_, std::move(work));
      if (!got) co_return problem(got.error());
      auto res = reply(http::status::ok, std::move(got->bytes), "application/octet-stream");
      res.set("X-Vigie-Name", got->name);
      res.set("X-Vigie-SHA256", got->sha256);
      co_return res;
    }
    if (action == "file" && req.method() == http::verb::put) {
      auto work = [id, me, area = options_.transfers, file, bytes = req.body(), origin,
                   now](store::Store& s) {
        return put_file(s, area, id, me, file, bytes, origin, now);
      };
      auto done = co_await with_store(workers_, stores_, std::move(work));
      if (!done) co_return problem(done.error());
      co_return reply(http::status::created, "{}");
    }
    co_return problem(http::status::not_found, "no such resource");
  }

  core::Result<std::string> enroll(store::Store& s, const std::string& token,
                                   const std::string& csr, const Actor& who) const {
    auto connector = peek_enrollment(s, token, who.at);
    if (!connector) {
      VIGIE_TRY(audit_event(s, who, "remote.connector.enroll_refused", "connector:?", "{}"));
      return tl::unexpected(connector.error());
    }
    auto cert =
        sign_client_csr(options_.ca_dir, csr, connector->name, options_.connector_cert_days);
    if (!cert) return tl::unexpected(cert.error());
    auto done = redeem_enrollment(s, token, cert->info, who);
    if (!done) return tl::unexpected(done.error());
    core::log_event(LogLevel::kInfo, "broker.connector_enrolled",
                    {{"connector", done->name}, {"serial", cert->info.serial}});
    return nlohmann::json{{"connector", done->name}, {"certificate", cert->pem}, {"ca", ca_pem_}}
        .dump();
  }

  core::Result<std::string> renew_cert(store::Store& s, const std::string& serial,
                                       const std::string& csr, const Actor& who) const {
    if (serial.empty()) {
      return core::fail(ErrorCode::kNotFound, "renewal needs the connector's current certificate");
    }
    auto connector = connector_for_serial(s, serial);
    if (!connector) return tl::unexpected(connector.error());
    auto cert =
        sign_client_csr(options_.ca_dir, csr, connector->name, options_.connector_cert_days);
    if (!cert) return tl::unexpected(cert.error());
    Actor by = who;
    by.name = "connector:" + connector->name;
    VIGIE_TRY(record_rotation(s, connector->id, cert->info, by));
    return nlohmann::json{
        {"connector", connector->name}, {"certificate", cert->pem}, {"ca", ca_pem_}}
        .dump();
  }

  // A login token (access.h), or a static credential when remote.engineer_bearer_tokens is on.
  asio::awaitable<core::Result<Engineer>> authenticate_engineer(
      const http::request<http::string_body>& req) {
    std::string_view auth = sv(req[http::field::authorization]);
    if (!auth.starts_with("Bearer ")) {
      co_return core::fail(ErrorCode::kNotFound, "log in first (vigie login)");
    }
    auto work = [token = std::string(auth.substr(7)),
                 bearer = options_.engineer_bearer_tokens](store::Store& s) {
      auto who = engineer_for_login(s, token, core::utc_now());
      if (who || !bearer || who.error().code != ErrorCode::kNotFound) return who;
      return engineer_for_token(s, token);
    };
    co_return co_await with_store(workers_, stores_, std::move(work));
  }

  static asio::awaitable<void> refuse_upgrade(beast::ssl_stream<beast::tcp_stream>& stream,
                                              http::status status, std::string_view why) {
    auto res = problem(status, why);
    res.keep_alive(false);
    res.prepare_payload();
    ErrorCodeB ec;
    co_await http::async_write(stream, res, redirect(ec));
  }

  static asio::awaitable<void> upgrade(BrokerImpl* self,
                                       std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream,
                                       http::request<http::string_body> req, std::string serial,
                                       std::string address) {
    std::string target(req.target());
    if (!offers_subprotocol(sv(req[http::field::sec_websocket_protocol]))) {
      co_await refuse_upgrade(*stream, http::status::bad_request,
                              "the WebSocket subprotocol vigie.tunnel.v1 is required");
      co_return;
    }
    std::shared_ptr<Peer> peer;
    if (target == "/v1/connector") {
      if (serial.empty()) {
        co_await refuse_upgrade(*stream, http::status::unauthorized,
                                "connectors authenticate with their certificate");
        co_return;
      }
      auto work = [serial](store::Store& s) { return connector_for_serial(s, serial); };
      auto who = co_await with_store(self->workers_, self->stores_, std::move(work));
      if (!who) {
        self->audit(self->actor("connector:?", address), "remote.connector.refused", "connector:?",
                    {{"serial", serial}});
        co_await refuse_upgrade(*stream, http::status::forbidden, who.error().message);
        co_return;
      }
      peer = std::make_shared<Peer>(Peer::Kind::kConnector,
                                    std::make_unique<WsStream>(std::move(*stream)));
      peer->id = who->id;
      peer->name = who->name;
      peer->zone = who->zone_id;
      peer->serial = serial;
    } else if (target == "/v1/engineer") {
      auto who = co_await self->authenticate_engineer(req);
      if (!who) {
        self->audit(self->actor("engineer:?", address), "remote.engineer.refused", "engineer:?",
                    {});
        co_await refuse_upgrade(*stream, http::status::unauthorized, who.error().message);
        co_return;
      }
      peer = std::make_shared<Peer>(Peer::Kind::kEngineer,
                                    std::make_unique<WsStream>(std::move(*stream)));
      peer->id = who->id;
      peer->name = who->name;
    } else {
      co_await refuse_upgrade(*stream, http::status::not_found, "no such WebSocket endpoint");
      co_return;
    }
    peer->address = std::move(address);
    configure(*peer->ws, self->limits_, true);
    beast::get_lowest_layer(*peer->ws).expires_never();
    ErrorCodeB ec;
    co_await peer->ws->async_accept(req, redirect(ec));
    if (ec) co_return;
    co_await self->serve(peer);
  }

  // ---- relaying ----------------------------------------------------------------------------

  static asio::awaitable<void> write_loop(std::shared_ptr<Peer> peer) {
    co_await peer->outbox.run(*peer->ws);
  }

  asio::awaitable<void> serve(std::shared_ptr<Peer> peer) {
    peers_.insert(peer);
    if (peer->kind == Peer::Kind::kConnector) by_zone_[peer->zone].insert(peer);
    core::log_event(LogLevel::kInfo, "broker.peer_connected",
                    {{"peer", peer_label(*peer)}, {"name", peer->name}, {"from", peer->address}});
    audit(actor(peer_label(*peer), peer->address),
          peer->kind == Peer::Kind::kConnector ? "remote.connector.connect"
                                               : "remote.engineer.connect",
          peer_label(*peer), {{"name", peer->name}});
    asio::co_spawn(io_, write_loop(peer), asio::detached);
    if (peer->kind == Peer::Kind::kConnector) co_await push_grants(peer);
    std::string why = "closed";
    while (!peer->closed) {
      Message m;
      ErrorCodeB ec;
      co_await peer->ws->async_read(m, redirect(ec));
      if (ec) {
        why = ec.message();
        break;
      }
      auto f = decode_frame(bytes_of(m), limits_.max_frame);
      if (!f) {
        why = "protocol error: " + f.error().to_string();
        break;
      }
      if (peer->kind == Peer::Kind::kEngineer) {
        from_engineer(peer, *f, m);
      } else {
        from_connector(peer, *f, m);
      }
    }
    close_peer(peer, why);
  }

  void close_peer(const std::shared_ptr<Peer>& peer, const std::string& why) {
    if (peer->closed) return;
    peer->closed = true;
    peer->outbox.close();
    beast::get_lowest_layer(*peer->ws).close();
    auto routes = peer->routes;
    for (const auto& [id, route] : routes) {
      finish(route, CloseCode::kPeerGone,
             peer->kind == Peer::Kind::kConnector ? "the connector's connection was lost"
                                                  : "the engineer's connection was lost");
    }
    peers_.erase(peer);
    if (peer->kind == Peer::Kind::kConnector) {
      auto it = by_zone_.find(peer->zone);
      if (it != by_zone_.end()) {
        it->second.erase(peer);
        if (it->second.empty()) by_zone_.erase(it);
      }
    }
    core::log_event(LogLevel::kInfo, "broker.peer_disconnected",
                    {{"peer", peer_label(*peer)}, {"reason", why}});
    if (!stopping_) {
      audit(actor(peer_label(*peer), peer->address),
            peer->kind == Peer::Kind::kConnector ? "remote.connector.disconnect"
                                                 : "remote.engineer.disconnect",
            peer_label(*peer), {{"reason", why}});
    }
  }

  void send(const std::shared_ptr<Peer>& peer, Message m) {
    if (peer->closed) return;
    if (!peer->outbox.push(std::move(m), limits_.max_queue)) {
      close_peer(peer, "its queue exceeded remote.max_queue_bytes");
    }
  }

  void send_close(const std::shared_ptr<Peer>& peer, std::uint32_t id, CloseCode code,
                  std::string_view reason) {
    std::string out;
    encode_close(out, id, code, reason);
    send(peer, to_message(out));
  }

  // Ends a route: tells the sides asked to be told (a side that sent the CLOSE, or already had
  // it relayed, is not), forgets it, audits it.
  void finish(const std::shared_ptr<Route>& route, CloseCode code, std::string_view reason,
              bool tell_engineer = true, bool tell_connector = true) {
    if (route->finished) return;
    route->finished = true;
    auto engineer = route->engineer.lock();
    auto connector = route->connector.lock();
    if (engineer) {
      if (tell_engineer) send_close(engineer, route->engineer_id, code, reason);
      engineer->routes.erase(route->engineer_id);
    }
    if (connector && route->connector_id != 0) {
      if (tell_connector) send_close(connector, route->connector_id, code, reason);
      connector->routes.erase(route->connector_id);
    }
    if (route->grant == 0) return;  // refused before it opened: audited there
    auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - route->started)
                       .count();
    audit(actor(engineer ? engineer->name : "engineer", engineer ? engineer->address : ""),
          "remote.stream.close", fmt::format("device:{}/port:{}", route->device, route->port),
          {{"grant", route->grant},
           {"code", to_string(code)},
           {"reason", reason},
           {"bytes_to_device", route->bytes_up},
           {"bytes_from_device", route->bytes_down},
           {"duration_ms", seconds}});
  }

  void from_engineer(const std::shared_ptr<Peer>& engineer, const Frame& f, Message& m) {
    if (f.type == FrameType::kOpen) {
      if (engineer->routes.contains(f.stream)) {
        close_peer(engineer, "OPEN of a stream id in use");
        return;
      }
      if (engineer->routes.size() >= limits_.max_streams) {
        send_close(engineer, f.stream, CloseCode::kLimit, "too many streams");
        return;
      }
      // A window bounds what the broker may have to hold for the stream: it has a ceiling.
      if (f.window > limits_.window) {
        send_close(engineer, f.stream, CloseCode::kLimit,
                   fmt::format("window above remote.stream_window ({})", limits_.window));
        return;
      }
      auto route = std::make_shared<Route>();
      route->engineer = engineer;
      route->engineer_id = f.stream;
      route->device = std::string(f.target);
      route->port = f.port;
      route->credit_to_engineer = f.window;
      engineer->routes.emplace(f.stream, route);
      asio::co_spawn(io_, open_route(this, engineer, route), asio::detached);
      return;
    }
    if (f.type == FrameType::kGrant || f.type == FrameType::kRevoke ||
        f.type == FrameType::kOpenOk) {
      close_peer(engineer, "engineers send no GRANT, REVOKE or OPEN_OK");
      return;
    }
    auto it = engineer->routes.find(f.stream);
    if (it == engineer->routes.end()) return;  // crossed a CLOSE
    auto route = it->second;
    auto connector = route->connector.lock();
    if (!route->open_ok || !connector) {
      // The engineer gave up before the device answered: the connector, if asked, drops it.
      if (f.type == FrameType::kClose) finish(route, CloseCode::kEnded, f.reason, false, true);
      return;
    }
    relay(route, f, m, connector, route->connector_id, true);
  }

  void from_connector(const std::shared_ptr<Peer>& connector, const Frame& f, Message& m) {
    if (f.type == FrameType::kOpen || f.type == FrameType::kGrant || f.type == FrameType::kRevoke) {
      close_peer(connector, "connectors send no OPEN, GRANT or REVOKE");
      return;
    }
    auto it = connector->routes.find(f.stream);
    if (it == connector->routes.end()) return;
    auto route = it->second;
    auto engineer = route->engineer.lock();
    if (!engineer) return;
    if (f.type == FrameType::kOpenOk) {
      if (route->open_ok) return;
      if (f.window > limits_.window) {
        finish(route, CloseCode::kLimit,
               fmt::format("window above remote.stream_window ({})", limits_.window));
        return;
      }
      route->open_ok = true;
      route->credit_to_connector = f.window;
      audit(actor(engineer->name, engineer->address), "remote.stream.open",
            fmt::format("device:{}/port:{}", route->device, route->port),
            {{"grant", route->grant}, {"connector", connector->name}});
    }
    relay(route, f, m, engineer, route->engineer_id, false);
  }

  // Forwards one frame of an open route, the same bytes with the other side's stream id.
  void relay(const std::shared_ptr<Route>& route, const Frame& f, Message& m,
             const std::shared_ptr<Peer>& to, std::uint32_t to_id, bool upstream) {
    switch (f.type) {
      case FrameType::kData: {
        auto& credit = upstream ? route->credit_to_connector : route->credit_to_engineer;
        credit -= static_cast<std::int64_t>(f.data.size());
        (upstream ? route->bytes_up : route->bytes_down) += f.data.size();
        if (route->session != 0) {
          auto& seen = activity_[route->session];
          seen.session_id = route->session;
          (upstream ? seen.bytes_to_device : seen.bytes_from_device) +=
              static_cast<std::int64_t>(f.data.size());
        }
        if (credit < 0 || (upstream ? route->eof_from_engineer : route->eof_from_connector)) {
          finish(route, CloseCode::kFlowControl, "data beyond the window or after EOF");
          return;
        }
        break;
      }
      case FrameType::kWindow:
        (upstream ? route->credit_to_engineer : route->credit_to_connector) += f.window;
        break;
      case FrameType::kEof:
        (upstream ? route->eof_from_engineer : route->eof_from_connector) = true;
        break;
      default:
        break;
    }
    rewrite_stream(bytes_of(m), to_id);
    send(to, std::move(m));
    // The CLOSE itself was relayed above; both EOFs need no frame.
    if (f.type == FrameType::kClose) {
      finish(route, f.code, f.reason, false, false);
    } else if (route->eof_from_engineer && route->eof_from_connector) {
      finish(route, CloseCode::kNormal, "both ends finished", false, false);
    }
  }

  static asio::awaitable<void> open_route(BrokerImpl* self, std::shared_ptr<Peer> engineer,
                                          std::shared_ptr<Route> route) {
    auto work = [id = engineer->id, device = route->device, port = route->port](store::Store& s) {
      return find_grant(s, id, device, port, core::format_utc(core::utc_now()));
    };
    auto grant = co_await with_store(self->workers_, self->stores_, std::move(work));
    if (route->finished || engineer->closed) co_return;
    auto who = self->actor(engineer->name, engineer->address);
    std::string object = fmt::format("device:{}/port:{}", route->device, route->port);
    if (!grant) {
      self->audit(who, "remote.stream.refused", object,
                  {{"code", "not-granted"}, {"reason", grant.error().message}});
      self->finish(route, CloseCode::kNotGranted, grant.error().message);
      co_return;
    }
    // The connector of the device's zone with the fewest streams.
    std::shared_ptr<Peer> connector;
    if (auto it = self->by_zone_.find(grant->zone_id); it != self->by_zone_.end()) {
      for (const auto& c : it->second) {
        if (!c->closed && (!connector || c->routes.size() < connector->routes.size())) {
          connector = c;
        }
      }
    }
    if (!connector) {
      self->audit(who, "remote.stream.refused", object,
                  {{"code", "unreachable"}, {"grant", grant->id}});
      self->finish(route, CloseCode::kUnreachable,
                   "no connector of the device's zone is connected");
      co_return;
    }
    if (connector->routes.size() >= self->limits_.max_streams) {
      self->finish(route, CloseCode::kLimit, "the connector has too many streams");
      co_return;
    }
    route->grant = grant->id;
    route->session = grant->session_id;
    route->grant_epoch = ++connector->grant_epoch;
    route->connector = connector;
    route->connector_id = connector->next_id++;
    connector->routes.emplace(route->connector_id, route);
    self->push_grant(connector, *grant, route->grant_epoch);
    std::string out;
    encode_open(out, route->connector_id, grant->host, route->port,
                static_cast<std::uint32_t>(route->credit_to_engineer));
    self->send(connector, to_message(out));
  }

  // Sends GRANT unless the connector has it as it is now (a device's new address is sent again).
  void push_grant(const std::shared_ptr<Peer>& connector, const Grant& g, std::uint64_t epoch) {
    auto& sent = connector->grants_sent[g.id];
    sent.epoch = std::max(sent.epoch, epoch);
    if (sent.host == g.host && sent.port == g.port && sent.expires_at == g.expires_at) return;
    sent.host = g.host;
    sent.port = g.port;
    sent.expires_at = g.expires_at;
    std::string out;
    encode_grant(out, static_cast<std::uint64_t>(g.id), g.host, static_cast<std::uint16_t>(g.port),
                 expiry_seconds(g.expires_at));
    send(connector, to_message(out));
  }

  static std::uint64_t expiry_seconds(const std::string& at) {
    if (at.empty()) return 0;
    auto t = core::parse_utc(at);
    if (!t) return 0;
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count());
  }

  // ---- grants and revocations --------------------------------------------------------------

  struct ZoneState {
    core::Result<std::vector<Grant>> grants;
    bool connector_valid = true;
  };

  asio::awaitable<void> push_grants(std::shared_ptr<Peer> connector) {
    // A grant an OPEN pushes while the store is read is newer than the snapshot: kept.
    std::uint64_t epoch = connector->grant_epoch;
    auto work = [zone = connector->zone, serial = connector->serial](store::Store& s) {
      auto who = connector_for_serial(s, serial);
      // Only "not found" revokes; a store that fails keeps the connector for this round.
      return ZoneState{grants_of_zone(s, zone, core::format_utc(core::utc_now())),
                       who || who.error().code != ErrorCode::kNotFound};
    };
    auto state = co_await with_store(workers_, stores_, std::move(work));
    apply(connector, state, epoch);
  }

  // Brings a connector in line with the store: revoked connectors are dropped, new or changed
  // grants pushed, vanished ones revoked and their streams ended (all but those newer than the
  // snapshot, epoch).
  void apply(const std::shared_ptr<Peer>& connector, const ZoneState& state, std::uint64_t epoch) {
    if (connector->closed) return;
    if (!state.connector_valid) {
      close_peer(connector, "its certificate or the connector was revoked");
      return;
    }
    if (!state.grants) return;
    std::unordered_set<std::int64_t> live;
    for (const Grant& g : *state.grants) {
      live.insert(g.id);
      push_grant(connector, g, 0);
    }
    for (auto it = connector->grants_sent.begin(); it != connector->grants_sent.end();) {
      if (live.contains(it->first) || it->second.epoch > epoch) {
        ++it;
        continue;
      }
      std::string out;
      encode_revoke(out, static_cast<std::uint64_t>(it->first));
      send(connector, to_message(out));
      it = connector->grants_sent.erase(it);
    }
    auto routes = connector->routes;
    for (const auto& [id, route] : routes) {
      if (route->grant != 0 && route->grant_epoch <= epoch && !live.contains(route->grant)) {
        finish(route, CloseCode::kEnded, "the session ended, or its grant was revoked or expired");
      }
    }
  }

  static asio::awaitable<void> grant_sweep(BrokerImpl* self) {
    asio::steady_timer timer(self->io_);
    while (!self->stopping_) {
      timer.expires_after(self->options_.grant_check);
      ErrorCodeB ec;
      co_await timer.async_wait(redirect(ec));
      if (self->stopping_) co_return;
      co_await self->resync();
    }
  }

  // Brings every connector in line with the store. Two queries per round, whatever the number
  // of connectors: every live grant and every revoked serial; each connector then gets its
  // zone's share. One round at a time; a round asked for meanwhile runs after it.
  asio::awaitable<void> resync() {
    if (resyncing_) {
      resync_again_ = true;
      co_return;
    }
    resyncing_ = true;
    do {
      resync_again_ = false;
      std::vector<std::pair<std::shared_ptr<Peer>, std::uint64_t>> connectors;
      for (const auto& p : peers_) {
        if (p->kind == Peer::Kind::kConnector) connectors.emplace_back(p, p->grant_epoch);
      }
      if (connectors.empty()) continue;
      auto work = [](store::Store& s) {
        return SweepState{live_grants(s, now_utc()), revoked_serials(s)};
      };
      auto state = co_await with_store(workers_, stores_, std::move(work));
      if (!state.grants || !state.revoked) {
        core::log_event(
            LogLevel::kWarn, "broker.grant_check_failed",
            {{"reason",
              (!state.grants ? state.grants.error() : state.revoked.error()).to_string()}});
        continue;
      }
      std::unordered_map<std::int64_t, std::vector<Grant>> by_zone;
      for (const Grant& g : *state.grants) by_zone[g.zone_id].push_back(g);
      std::unordered_set<std::string> revoked(state.revoked->begin(), state.revoked->end());
      for (const auto& [c, epoch] : connectors) {
        auto it = by_zone.find(c->zone);
        ZoneState zone{it == by_zone.end() ? std::vector<Grant>{} : it->second,
                       !revoked.contains(c->serial)};
        apply(c, zone, epoch);
      }
    } while (resync_again_ && !stopping_);
    resyncing_ = false;
  }

  // Every second, the notices due are sent on the notices' own thread (SMTP may be slow; the
  // relaying and the session checks never wait for it).
  static asio::awaitable<void> notice_pump(BrokerImpl* self) {
    asio::steady_timer timer(self->io_);
    while (!self->stopping_) {
      timer.expires_after(std::chrono::seconds(1));
      ErrorCodeB ec;
      co_await timer.async_wait(redirect(ec));
      if (self->stopping_) co_return;
      if (self->delivering_) continue;
      self->delivering_ = true;
      asio::post(self->notices_, [self] {
        self->options_.deliver_notices();
        asio::post(self->io_, [self] { self->delivering_ = false; });
      });
    }
  }

  // Every remote.session_check: the change counter (one small query); when it moved, a resync,
  // so that an ended session or a revoked grant cuts its streams at once. Every second also:
  // the sessions' byte counters and idle clocks, and the sessions' own deadlines.
  static asio::awaitable<void> session_watch(BrokerImpl* self) {
    asio::steady_timer timer(self->io_);
    auto last_round = std::chrono::steady_clock::now();
    while (!self->stopping_) {
      timer.expires_after(self->options_.session_check);
      ErrorCodeB ec;
      co_await timer.async_wait(redirect(ec));
      if (self->stopping_) co_return;
      std::vector<SessionActivity> activity;
      const bool housekeeping =
          std::chrono::steady_clock::now() - last_round >= std::chrono::seconds(1);
      if (housekeeping) {
        last_round = std::chrono::steady_clock::now();
        for (const auto& [id, seen] : self->activity_) activity.push_back(seen);
        self->activity_.clear();
      }
      auto work = [activity = std::move(activity), housekeeping,
                   policy = self->options_.sessions](store::Store& s) {
        if (housekeeping) {
          const auto now = core::utc_now();
          if (auto st = record_activity(s, activity, now); !st) {
            core::log_event(LogLevel::kWarn, "broker.activity_failed",
                            {{"reason", st.error().to_string()}});
          }
          if (auto swept = sweep_sessions(s, policy, now); !swept) {
            core::log_event(LogLevel::kWarn, "broker.session_sweep_failed",
                            {{"reason", swept.error().to_string()}});
          }
        }
        return change_epoch(s);
      };
      auto epoch = co_await with_store(self->workers_, self->stores_, std::move(work));
      if (!epoch || *epoch == self->epoch_seen_) continue;
      self->epoch_seen_ = *epoch;
      co_await self->resync();
    }
  }

  struct SweepState {
    core::Result<std::vector<Grant>> grants;
    core::Result<std::vector<std::string>> revoked;
  };
  static std::string now_utc() { return core::format_utc(core::utc_now()); }

  // Queues an audit entry; one worker writes the queue in batches (see audit_events()).
  void audit(const Actor& who, std::string_view action, std::string object,
             const nlohmann::json& details) {
    std::lock_guard lock(audit_mutex_);
    audit_queue_.push_back({who, std::string(action), std::move(object), details.dump()});
    if (audit_writing_) return;
    audit_writing_ = true;
    asio::post(workers_, [this] { write_audit(); });
  }

  void write_audit() {
    while (true) {
      std::vector<AuditRecord> batch;
      {
        std::lock_guard lock(audit_mutex_);
        batch.swap(audit_queue_);
        if (batch.empty()) {
          audit_writing_ = false;
          return;
        }
      }
      auto lease = stores_.acquire();
      if (auto st = audit_events(*lease, batch); !st) {
        core::log_event(
            LogLevel::kError, "broker.audit_failed",
            {{"entries", std::to_string(batch.size())}, {"reason", st.error().to_string()}});
      }
    }
  }

  BrokerOptions options_;
  store::StorePool& stores_;
  asio::thread_pool workers_;
  asio::io_context io_{1};
  ssl::context tls_{ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  Limits limits_;
  std::string ca_pem_;
  std::uint16_t port_ = 0;
  bool stopping_ = false;
  std::set<std::shared_ptr<Peer>> peers_;
  std::mutex audit_mutex_;
  std::vector<AuditRecord> audit_queue_;
  bool audit_writing_ = false;
  bool resyncing_ = false;
  bool delivering_ = false;
  asio::thread_pool notices_{1};
  bool resync_again_ = false;
  std::int64_t epoch_seen_ = -1;
  std::unordered_map<std::int64_t, SessionActivity> activity_;  // since the last report
  std::unordered_map<std::int64_t, std::set<std::shared_ptr<Peer>>> by_zone_;
};

}  // namespace

core::Result<std::unique_ptr<Broker>> Broker::create(const BrokerOptions& options,
                                                     store::StorePool& stores) {
  auto broker = std::make_unique<BrokerImpl>(options, stores);
  VIGIE_TRY(broker->init());
  return std::unique_ptr<Broker>(std::move(broker));
}

}  // namespace vigie::remote
