// The one translation unit that instantiates Boost.Beast/Asio (keeps builds fast).
#include "vigie/api/server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <csignal>
#include <nlohmann/json.hpp>

#include "routes_internal.h"
#include "vigie/core/log.h"
#include "vigie/core/tls.h"
#include "vigie/store/pool.h"

namespace vigie::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::ErrorCode;
using core::LogLevel;

constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr size_t kMaxBodyBytes = 1 << 20;

// A coroutine function rather than a capturing lambda: parameters are copied into the
// coroutine frame (GCC 12 mishandles captures of lambda coroutines handed to co_spawn).
asio::awaitable<Response> route_on_worker(store::StorePool& stores, Request request) {
  auto store = stores.acquire();
  co_return route(*store, request);
}

// The request as routes see it: header names lower-cased.
Request to_request(http::request<http::string_body>& req, const std::string& peer) {
  Request r{
      std::string(req.method_string()), std::string(req.target()), std::move(req.body()), {}, peer};
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers[name] = std::string(field.value());
  }
  return r;
}

class ServerImpl final : public Server {
 public:
  ServerImpl(store::StorePool& stores, size_t workers) : stores_(stores), workers_(workers) {}
  ServerImpl(const ServerImpl&) = delete;
  ServerImpl& operator=(const ServerImpl&) = delete;
  ~ServerImpl() override { workers_.join(); }

  core::Status init(const ServerOptions& options) {
    try {
      tls_.set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);
      VIGIE_TRY(core::apply_tls_policy(tls_.native_handle()));
      tls_.use_certificate_chain_file(options.tls_cert.string());
      tls_.use_private_key_file(options.tls_key.string(), ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("cannot load the TLS certificate or key: {}", e.what()),
                        options.tls_cert.string());
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options.listen, ec);
    if (ec) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("'{}' is not an IP address to listen on", options.listen),
                        "server.listen");
    }
    tcp::endpoint endpoint(address, options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return core::fail(
          ErrorCode::kUnavailable,
          fmt::format("cannot listen on {}:{}: {}", options.listen, options.port, ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  [[nodiscard]] std::uint16_t port() const override { return port_; }

  core::Status run() override {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      core::log_event(LogLevel::kInfo, "server.stopping", {{"signal", std::to_string(signal)}});
      stop();
    });
    asio::co_spawn(io_, accept_loop(), asio::detached);
    io_.run();
    return {};
  }

  void stop() override {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      signals_.cancel(ignored);
      io_.stop();
    });
  }

 private:
  asio::awaitable<void> accept_loop() {
    while (acceptor_.is_open()) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    std::string peer;
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) peer = fmt::format("{}:{}", remote.address().to_string(), remote.port());
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), tls_);
    beast::get_lowest_layer(stream).expires_after(kIoTimeout);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      core::log_event(LogLevel::kDebug, "tls.handshake_failed",
                      {{"peer", peer}, {"reason", ec.message()}});
      co_return;
    }
    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBodyBytes);
      beast::get_lowest_layer(stream).expires_after(kIoTimeout);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      auto& req = parser.get();
      // The store is used on a worker thread; this coroutine waits without blocking I/O.
      Response r = co_await asio::co_spawn(
          workers_, route_on_worker(stores_, to_request(req, peer)), asio::use_awaitable);
      http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
      res.set(http::field::server, "vigied");
      res.set(http::field::content_type, r.content_type);
      res.set(http::field::cache_control, "no-store");
      res.set("Strict-Transport-Security", "max-age=31536000");
      res.set("X-Content-Type-Options", "nosniff");
      res.keep_alive(req.keep_alive());
      res.body() = std::move(r.body);
      res.prepare_payload();
      core::log_event(LogLevel::kInfo, "http.request",
                      {{"peer", peer},
                       {"method", std::string(req.method_string())},
                       {"target", std::string(req.target())},
                       {"status", std::to_string(r.status)}});
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  store::StorePool& stores_;
  asio::thread_pool workers_;
  asio::io_context io_{1};
  ssl::context tls_{ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  asio::signal_set signals_{io_, SIGINT, SIGTERM};
  std::uint16_t port_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<Server>> Server::create(const ServerOptions& options,
                                                     store::StorePool& stores) {
  auto server = std::make_unique<ServerImpl>(stores, std::max<size_t>(options.workers, 1));
  VIGIE_TRY(server->init(options));
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace vigie::api
