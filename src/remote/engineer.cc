// `vigie connect`: a local listener; each accepted connection becomes one stream to the
// granted device port. Nothing listens beyond the address given (loopback by default).
#include "vigie/remote/engineer.h"

#include "vigie/core/file.h"
#include "vigie/core/text.h"

#include <fmt/format.h>

#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "vigie/core/log.h"
#include "wire_internal.h"

namespace vigie::remote {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace): the module's own plumbing
using core::ErrorCode;
using core::fail;

core::Result<tcp::endpoint> parse_local(const std::string& text) {
  auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? text : text.substr(0, colon);
  std::string port = colon == std::string::npos ? "0" : text.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  ErrorCodeB ec;
  auto address = asio::ip::make_address(host, ec);
  int p = -1;
  try {
    p = std::stoi(port);
  } catch (const std::exception&) {
    p = -1;
  }
  if (ec || p < 0 || p > 65535) {
    return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not ADDRESS:PORT", text), "--local");
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(p));
}

core::Result<DialTarget> target_of(const EngineerOptions& o, std::string path) {
  auto target = parse_broker_url(o.broker);
  if (!target) return tl::unexpected(target.error());
  target->path = std::move(path);
  target->proxy = o.proxy;
  target->bearer = o.credential;
  return target;
}

asio::awaitable<void> tunnel_one(std::shared_ptr<Mux> mux, tcp::socket socket, std::string device,
                                 std::uint16_t port) {
  ErrorCodeB ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto refused = co_await mux->open(std::move(socket), device, port);
  if (refused) {
    std::cerr << fmt::format("vigie connect: device {} port {}: {}\n", device, port, *refused);
  }
}

asio::awaitable<core::Status> engineer_async(EngineerOptions o, std::shared_ptr<ssl::context> tls,
                                             tcp::endpoint local) {
  auto ex = co_await asio::this_coro::executor;
  auto target = target_of(o, "/v1/engineer");
  if (!target) co_return tl::unexpected(target.error());
  auto ws = co_await dial(ex, *tls, *target);
  if (!ws) co_return tl::unexpected(ws.error());
  Limits limits;
  limits.window = o.window;
  auto mux = std::make_shared<Mux>(std::move(**ws), limits, nullptr);
  tcp::acceptor acceptor(ex);
  ErrorCodeB ec;
  acceptor.open(local.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(local, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    mux->close();
    co_return fail(ErrorCode::kUnavailable,
                   fmt::format("cannot listen on {}: {}", o.local, ec.message()), "--local");
  }
  auto bound = acceptor.local_endpoint();
  std::string where = bound.address().is_v6()
                          ? fmt::format("[{}]:{}", bound.address().to_string(), bound.port())
                          : fmt::format("{}:{}", bound.address().to_string(), bound.port());
  if (o.on_listening) o.on_listening(where);
  // The tunnel's reader runs beside the acceptor; when it ends, so does the acceptor.
  auto reason = std::make_shared<std::string>();
  asio::co_spawn(
      ex,
      [](std::shared_ptr<Mux> m, std::shared_ptr<std::string> why,
         tcp::acceptor* a) -> asio::awaitable<void> {
        *why = co_await m->run();
        ErrorCodeB ignored;
        a->close(ignored);
      }(mux, reason, &acceptor),
      asio::detached);
  while (acceptor.is_open()) {
    tcp::socket socket = co_await acceptor.async_accept(redirect(ec));
    if (ec) break;
    asio::co_spawn(ex, tunnel_one(mux, std::move(socket), o.device, o.port), asio::detached);
  }
  mux->close();
  if (reason->empty() || *reason == "closed") co_return core::Status{};
  co_return fail(ErrorCode::kUnavailable, "the tunnel ended: " + *reason, "broker");
}

}  // namespace

core::Status run_engineer(const EngineerOptions& options) {
  auto local = parse_local(options.local);
  if (!local) return tl::unexpected(local.error());
  auto tls = client_context(options.ca_file, "");
  if (!tls) return tl::unexpected(tls.error());
  asio::io_context io{1};
  std::optional<core::Status> result;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const ErrorCodeB& ec, int) {
    if (!ec) io.stop();
  });
  asio::co_spawn(io, engineer_async(options, *tls, *local),
                 [&result, &io](const std::exception_ptr& e, core::Status st) {
                   result = e ? core::Status(fail(ErrorCode::kInternal, "tunnel failure"))
                              : std::move(st);
                   io.stop();
                 });
  io.run();
  return result.value_or(core::Status{});
}

core::Result<BrokerReply> call_broker(const EngineerOptions& options, std::string_view method,
                                      const std::string& path, std::string body) {
  auto tls = client_context(options.ca_file, options.identity);
  if (!tls) return tl::unexpected(tls.error());
  auto target = target_of(options, "");
  if (!target) return tl::unexpected(target.error());
  target->max_reply = std::size_t{4} << 30;
  target->timeout = std::chrono::seconds(300);
  const http::verb verb = http::string_to_verb(bsv(method));
  asio::io_context io{1};
  std::optional<core::Result<HttpReply>> reply;
  asio::co_spawn(io, https_call(io.get_executor(), **tls, *target, verb, path, std::move(body)),
                 [&reply](const std::exception_ptr& e, core::Result<HttpReply> r) {
                   reply = e ? core::Result<HttpReply>(fail(ErrorCode::kInternal, "I/O failure"))
                             : std::move(r);
                 });
  io.run();
  if (!reply) return fail(ErrorCode::kInternal, "no answer");
  if (!*reply) return tl::unexpected(reply->error());
  return BrokerReply{(*reply)->status, std::move((*reply)->body), std::move((*reply)->file_name),
                     std::move((*reply)->file_sha256)};
}

core::Result<std::string> read_credential(const std::string& path) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  std::string_view view = *text;
  while (!view.empty() && (view.back() == '\n' || view.back() == '\r')) view.remove_suffix(1);
  view = core::trim(view);
  if (view.empty() || view.find_first_of("\r\n") != std::string_view::npos) {
    return fail(ErrorCode::kInvalidInput, "the file holds no one-line credential", path);
  }
  return std::string(view);
}

std::string refusal_of(const BrokerReply& reply) {
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("detail") && body["detail"].is_string()) {
    return body["detail"].get<std::string>();
  }
  return reply.body;
}

core::Result<std::vector<ReachableGrant>> list_reachable(const EngineerOptions& options) {
  auto reply = call_broker(options, "GET", "/v1/engineer/grants", "");
  if (!reply) return tl::unexpected(reply.error());
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !body.is_array()) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the broker answered {}: {}", reply->status, refusal_of(*reply)),
                "broker");
  }
  std::vector<ReachableGrant> out;
  out.reserve(body.size());
  for (const auto& g : body) {
    out.push_back({g.value("grant", std::int64_t{0}), g.value("device_id", std::int64_t{0}),
                   g.value("device", ""), g.value("port", 0), g.value("expires_at", "")});
  }
  return out;
}

}  // namespace vigie::remote
