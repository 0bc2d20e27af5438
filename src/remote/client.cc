// The client side of the tunnel: reaching the broker (directly or through the hospital's HTTP
// proxy), the per-WebSocket message queue, and the streams of the engineer's client and the
// connector with their flow control (docs/remote-protocol.md, "Flow control").
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "vigie/core/log.h"
#include "vigie/core/tls.h"
#include "wire_internal.h"

namespace vigie::remote::detail {

// Frames the engineer's client or a connector queues before its sockets wait for the link.
constexpr std::size_t kHighWaterFrames = 64;

using core::ErrorCode;
using core::fail;

void configure(WsStream& ws, const Limits& limits, bool server) {
  ws.binary(true);
  ws.auto_fragment(false);
  ws.read_message_max(kHeaderSize + std::max(limits.max_frame, kMaxTargetBytes + 32));
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(15);
  // Dead-peer detection: a ping after idle/2 of silence, the connection dropped at idle.
  t.idle_timeout = limits.idle;
  t.keep_alive_pings = true;
  ws.set_option(t);
  // A client masks each frame through this buffer: at Beast's default 4 KiB a 64 KiB frame
  // became 16 TLS records and as many system calls.
  ws.write_buffer_bytes(kMaxDataPayload + kHeaderSize + 16);
  if (server) {
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "vigied");
      res.set(http::field::sec_websocket_protocol, std::string(kSubprotocol));
    }));
  }
}

Message to_message(std::string_view bytes) {
  Message m;
  auto buf = m.prepare(bytes.size());
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  m.commit(bytes.size());
  return m;
}

std::span<std::byte> bytes_of(Message& m) {
  auto d = m.data();
  return {static_cast<std::byte*>(d.data()), d.size()};
}

asio::awaitable<void> Outbox::run(WsStream& ws) {
  while (true) {
    while (queue_.empty() && !closed_) co_await signal_.wait();
    if (closed_) co_return;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= m.size();
    if (bytes_ <= high_water_) room_.notify();
    ErrorCodeB ec;
    co_await ws.async_write(m.data(), redirect(ec));
    if (ec) {
      closed_ = true;
      co_return;
    }
  }
}

// One TCP connection tunnelled as one stream.
struct Mux::Stream {
  Stream(std::uint32_t stream_id, tcp::socket s)
      : id(stream_id),
        sock(std::move(s)),
        credit_signal(sock.get_executor()),
        data_signal(sock.get_executor()),
        opened(sock.get_executor()) {}
  std::uint32_t id;
  tcp::socket sock;
  std::int64_t credit = 0;  // bytes the peer's window still lets us send
  Signal credit_signal;
  std::deque<Message> inbound;  // DATA frames waiting to be written to the socket
  Signal data_signal;
  std::uint64_t outstanding = 0;  // bytes received and not yet given back as WINDOW
  std::uint32_t to_ack = 0;       // bytes written to the socket since the last WINDOW
  bool peer_eof = false;
  bool sent_eof = false;
  bool done_writing = false;
  bool closed = false;
  bool open_ok = false;
  Signal opened;
  std::optional<std::string> refusal;
};

Mux::Mux(WsStream ws, Limits limits, Admit admit)
    : ws_(std::move(ws)), limits_(limits), admit_(std::move(admit)), outbox_(ws_.get_executor()) {
  configure(ws_, limits_, false);
  outbox_.set_high_water(kHighWaterFrames * kMaxDataPayload);
}

Mux::~Mux() = default;

void Mux::send(Message m) {
  if (closed_) return;
  // Bounded without a limit here: socket reads wait for room (pump_out), and what remains are
  // small control frames.
  outbox_.push(std::move(m), std::numeric_limits<std::size_t>::max());
}

void Mux::send_close(std::uint32_t id, CloseCode code, std::string_view reason) {
  std::string out;
  encode_close(out, id, code, reason);
  send(to_message(out));
}

void Mux::drop(std::uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto s = it->second;
  streams_.erase(it);
  s->closed = true;
  ErrorCodeB ignored;
  s->sock.close(ignored);
  s->credit_signal.notify();
  s->data_signal.notify();
  s->opened.notify();
}

void Mux::close() {
  if (closed_) return;
  closed_ = true;
  std::vector<std::uint32_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, s] : streams_) ids.push_back(id);
  for (auto id : ids) drop(id);
  outbox_.close();
  beast::get_lowest_layer(ws_).close();
}

namespace {
asio::awaitable<void> write_all(std::shared_ptr<Mux> /*owner*/, Outbox& out, WsStream& ws) {
  co_await out.run(ws);
}
}  // namespace

asio::awaitable<std::string> Mux::run() {
  auto self = shared_from_this();
  asio::co_spawn(ws_.get_executor(), write_all(self, outbox_, ws_), asio::detached);
  std::string why = "closed";
  while (!closed_) {
    Message m;
    ErrorCodeB ec;
    co_await ws_.async_read(m, redirect(ec));
    if (ec) {
      why = ec == websocket::error::closed ? "the broker closed the connection" : ec.message();
      break;
    }
    auto f = decode_frame(bytes_of(m), limits_.max_frame);
    if (!f) {
      why = "protocol error from the broker: " + f.error().to_string();
      break;
    }
    handle(*f, m);
  }
  close();
  co_return why;
}

void Mux::handle(const Frame& f, Message& m) {
  if (f.type == FrameType::kGrant || f.type == FrameType::kRevoke) {
    if (on_grant) on_grant(f);
    return;
  }
  if (f.type == FrameType::kOpen) {
    if (!admit_ || streams_.contains(f.stream)) {
      send_close(f.stream, CloseCode::kProtocol, "unexpected OPEN");
      return;
    }
    if (streams_.size() >= limits_.max_streams) {
      send_close(f.stream, CloseCode::kLimit, "too many streams on this connector");
      return;
    }
    asio::co_spawn(
        ws_.get_executor(),
        accept_open(shared_from_this(), f.stream, std::string(f.target), f.port, f.window),
        asio::detached);
    return;
  }
  auto it = streams_.find(f.stream);
  // Frames of a stream just closed may still arrive (they crossed our CLOSE): ignored.
  if (it == streams_.end()) return;
  auto s = it->second;
  switch (f.type) {
    case FrameType::kOpenOk:
      if (s->open_ok) break;
      s->open_ok = true;
      s->credit = f.window;
      s->opened.notify();
      start_pumps(s);
      break;
    case FrameType::kData:
      if (!s->open_ok || s->peer_eof || s->outstanding + f.data.size() > limits_.window) {
        send_close(s->id, CloseCode::kFlowControl, "data beyond the window or after EOF");
        drop(s->id);
        break;
      }
      s->outstanding += f.data.size();
      s->inbound.push_back(std::move(m));
      s->data_signal.notify();
      break;
    case FrameType::kWindow:
      s->credit += f.window;
      s->credit_signal.notify();
      break;
    case FrameType::kEof:
      s->peer_eof = true;
      s->data_signal.notify();
      break;
    case FrameType::kClose:
      if (!s->open_ok) {
        s->refusal = fmt::format("{}: {}", to_string(f.code), f.reason);
      }
      drop(s->id);
      break;
    default:
      break;
  }
}

void Mux::start_pumps(const std::shared_ptr<Stream>& s) {
  asio::co_spawn(ws_.get_executor(), pump_out(shared_from_this(), s), asio::detached);
  asio::co_spawn(ws_.get_executor(), pump_in(shared_from_this(), s), asio::detached);
}

void Mux::finish_if_done(const std::shared_ptr<Stream>& s) {
  if (s->sent_eof && s->done_writing) drop(s->id);
}

// Socket to tunnel: reads at most what the peer's window allows, straight into a frame.
asio::awaitable<void> Mux::pump_out(std::shared_ptr<Mux> self, std::shared_ptr<Stream> s) {
  while (!s->closed) {
    while (s->credit <= 0 && !s->closed) co_await s->credit_signal.wait();
    co_await self->outbox_.wait_room();
    if (s->closed) break;
    std::size_t n =
        std::min<std::size_t>(static_cast<std::size_t>(s->credit), self->limits_.max_frame);
    Message m;
    auto buf = m.prepare(kHeaderSize + n);
    ErrorCodeB ec;
    std::size_t got = co_await s->sock.async_read_some(
        asio::buffer(static_cast<char*>(buf.data()) + kHeaderSize, n), redirect(ec));
    if (s->closed) break;
    if (ec == asio::error::eof) {
      std::string out;
      encode_eof(out, s->id);
      self->send(to_message(out));
      s->sent_eof = true;
      self->finish_if_done(s);
      break;
    }
    if (ec) {
      self->send_close(s->id, CloseCode::kNormal, "connection reset: " + ec.message());
      self->drop(s->id);
      break;
    }
    write_data_header(static_cast<std::byte*>(buf.data()), s->id);
    m.commit(kHeaderSize + got);
    s->credit -= static_cast<std::int64_t>(got);
    self->send(std::move(m));
  }
}

// Tunnel to socket: writes the frames received, then gives their bytes back as window.
asio::awaitable<void> Mux::pump_in(std::shared_ptr<Mux> self, std::shared_ptr<Stream> s) {
  const std::uint32_t ack_at = std::max<std::uint32_t>(self->limits_.window / 4, 1);
  while (true) {
    while (s->inbound.empty() && !s->peer_eof && !s->closed) co_await s->data_signal.wait();
    if (s->closed) break;
    if (s->inbound.empty()) {  // the peer's EOF, everything before it written
      ErrorCodeB ignored;
      s->sock.shutdown(tcp::socket::shutdown_send, ignored);
      s->done_writing = true;
      self->finish_if_done(s);
      break;
    }
    Message m = std::move(s->inbound.front());
    s->inbound.pop_front();
    auto data = m.data();
    std::size_t n = data.size() - kHeaderSize;
    ErrorCodeB ec;
    co_await asio::async_write(s->sock,
                               asio::buffer(static_cast<const char*>(data.data()) + kHeaderSize, n),
                               redirect(ec));
    if (s->closed) break;
    if (ec) {
      self->send_close(s->id, CloseCode::kNormal, "connection reset: " + ec.message());
      self->drop(s->id);
      break;
    }
    s->to_ack += static_cast<std::uint32_t>(n);
    if (s->to_ack >= ack_at) {
      std::string out;
      encode_window(out, s->id, s->to_ack);
      self->send(to_message(out));
      s->outstanding -= s->to_ack;
      s->to_ack = 0;
    }
  }
}

asio::awaitable<std::optional<std::string>> Mux::open(tcp::socket socket, std::string device,
                                                      std::uint16_t port) {
  auto self = shared_from_this();
  if (closed_) co_return std::string("the tunnel to the broker is down");
  if (streams_.size() >= limits_.max_streams) co_return std::string("too many streams");
  std::uint32_t id = next_id_++;
  auto s = std::make_shared<Stream>(id, std::move(socket));
  streams_.emplace(id, s);
  std::string out;
  encode_open(out, id, device, port, limits_.window);
  send(to_message(out));
  while (!s->open_ok && !s->closed) co_await s->opened.wait();
  if (s->open_ok) co_return std::nullopt;
  co_return s->refusal.value_or("the tunnel closed");
}

asio::awaitable<void> Mux::accept_open(std::shared_ptr<Mux> self, std::uint32_t id,
                                       std::string host, std::uint16_t port, std::uint32_t window) {
  auto ex = self->ws_.get_executor();
  if (!self->admit_(host, port)) {
    core::log_event(core::LogLevel::kWarn, "connector.open_refused",
                    {{"host", host}, {"port", std::to_string(port)}});
    self->send_close(id, CloseCode::kNotGranted,
                     fmt::format("{}:{} is not granted to this connector", host, port));
    co_return;
  }
  auto s = std::make_shared<Stream>(id, tcp::socket(ex));
  self->streams_.emplace(id, s);
  ErrorCodeB ec;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                   tcp::resolver::numeric_service, redirect(ec));
  if (!ec && !s->closed) {
    // The connect is bounded: a device that does not answer must not hold the stream.
    asio::steady_timer deadline(ex, self->limits_.connect);
    deadline.async_wait([s](const ErrorCodeB& e) {
      if (!e && !s->open_ok) {
        // Closed, not cancelled: a connect over several addresses stops only on a closed socket.
        ErrorCodeB ignored;
        s->sock.close(ignored);
      }
    });
    co_await asio::async_connect(s->sock, endpoints, redirect(ec));
    deadline.cancel();
  }
  if (s->closed) co_return;  // the broker closed it meanwhile
  if (ec) {
    CloseCode code = ec == asio::error::operation_aborted    ? CloseCode::kTimeout
                     : ec == asio::error::connection_refused ? CloseCode::kRefused
                                                             : CloseCode::kUnreachable;
    self->send_close(id, code, fmt::format("{}:{}: {}", host, port, ec.message()));
    self->drop(id);
    co_return;
  }
  s->sock.set_option(tcp::no_delay(true), ec);
  s->open_ok = true;
  s->credit = window;
  std::string out;
  encode_open_ok(out, id, self->limits_.window);
  self->send(to_message(out));
  self->start_pumps(s);
}

core::Result<DialTarget> parse_broker_url(std::string_view url) {
  DialTarget t;
  std::string_view rest;
  if (url.starts_with("wss://")) {
    rest = url.substr(6);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a wss:// or https:// URL", url),
                "broker");
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::kInvalidInput, "unclosed [ in the broker URL", "broker");
    }
    t.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (rest.starts_with(':')) t.port = std::string(rest.substr(1));
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    t.host = std::string(rest.substr(0, colon));
    t.port = std::string(rest.substr(colon + 1));
  } else {
    t.host = std::string(rest);
  }
  if (t.host.empty() || !valid_host(t.host) || t.port.empty() ||
      !std::all_of(t.port.begin(), t.port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(ErrorCode::kInvalidInput, fmt::format("'{}' names no host and port", url),
                "broker");
  }
  return t;
}

namespace {

struct ProxyUrl {
  std::string host;
  std::string port;
  std::string credentials;  // "user:password" or ""
};

core::Result<ProxyUrl> parse_proxy(std::string_view url) {
  if (!url.starts_with("http://")) {
    return fail(ErrorCode::kInvalidInput, "the proxy URL must start with http://", "proxy");
  }
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find('/'));
  ProxyUrl p;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    p.credentials = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
  }
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(ErrorCode::kInvalidInput, "the proxy URL needs host:port", "proxy");
  }
  p.host = std::string(rest.substr(0, colon));
  p.port = std::string(rest.substr(colon + 1));
  return p;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// TCP to the broker, or to the proxy and through it with CONNECT.
asio::awaitable<core::Result<beast::tcp_stream>> connect_tcp(asio::any_io_executor ex,
                                                             const DialTarget& target) {
  std::string host = target.host;
  std::string port = target.port;
  std::optional<ProxyUrl> proxy;
  if (!target.proxy.empty()) {
    auto p = parse_proxy(target.proxy);
    if (!p) co_return tl::unexpected(p.error());
    proxy = *p;
    host = p->host;
    port = p->port;
  }
  ErrorCodeB ec;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, port, redirect(ec));
  if (ec) {
    co_return fail(ErrorCode::kUnavailable,
                   fmt::format("cannot resolve {}: {}", host, ec.message()),
                   proxy ? "proxy" : "broker");
  }
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_after(target.timeout);
  co_await tcp_stream.async_connect(endpoints, redirect(ec));
  if (ec) {
    co_return fail(ErrorCode::kUnavailable,
                   fmt::format("cannot connect to {}:{}: {}", host, port, ec.message()),
                   proxy ? "proxy" : "broker");
  }
  tcp_stream.socket().set_option(tcp::no_delay(true), ec);
  if (proxy) {
    std::string authority = target.host.find(':') != std::string::npos
                                ? fmt::format("[{}]:{}", target.host, target.port)
                                : fmt::format("{}:{}", target.host, target.port);
    http::request<http::empty_body> req{http::verb::connect, authority, 11};
    req.set(http::field::host, authority);
    if (!proxy->credentials.empty()) {
      req.set(http::field::proxy_authorization, "Basic " + base64(proxy->credentials));
    }
    co_await http::async_write(tcp_stream, req, redirect(ec));
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT response has no body: the tunnel starts after the header
    if (!ec) co_await http::async_read_header(tcp_stream, buffer, parser, redirect(ec));
    if (ec) {
      co_return fail(ErrorCode::kUnavailable, "the proxy closed: " + ec.message(), "proxy");
    }
    if (parser.get().result() != http::status::ok) {
      co_return fail(ErrorCode::kUnavailable,
                     fmt::format("the proxy refused CONNECT {}: {} {}", authority,
                                 parser.get().result_int(), std::string(parser.get().reason())),
                     "proxy");
    }
    if (buffer.size() != 0) {
      co_return fail(ErrorCode::kUnavailable, "the proxy sent bytes before the tunnel", "proxy");
    }
  }
  co_return tcp_stream;
}

}  // namespace

asio::awaitable<core::Result<std::unique_ptr<beast::ssl_stream<beast::tcp_stream>>>> dial_tls(
    asio::any_io_executor ex, ssl::context& tls, const DialTarget& target) {
  auto tcp_stream = co_await connect_tcp(ex, target);
  if (!tcp_stream) co_return tl::unexpected(tcp_stream.error());
  auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp_stream), tls);
  // SNI only for names; the certificate is checked against the name or address either way.
  boost::system::error_code ec;
  if (asio::ip::make_address(target.host, ec), ec) {
    SSL_set_tlsext_host_name(stream->native_handle(), target.host.c_str());
  }
  if (target.verify) {
    stream->set_verify_mode(ssl::verify_peer);
    stream->set_verify_callback(ssl::host_name_verification(target.host));
  } else {
    stream->set_verify_mode(ssl::verify_none);
  }
  beast::get_lowest_layer(*stream).expires_after(target.timeout);
  co_await stream->async_handshake(ssl::stream_base::client, redirect(ec));
  if (ec) {
    long verify = SSL_get_verify_result(stream->native_handle());
    std::string why = verify == X509_V_OK ? ec.message()
                                          : fmt::format("{} ({})", ec.message(),
                                                        X509_verify_cert_error_string(verify));
    co_return fail(ErrorCode::kUnavailable,
                   fmt::format("TLS handshake with {} failed: {}", target.host, why), "broker");
  }
  co_return stream;
}

asio::awaitable<core::Result<std::unique_ptr<WsStream>>> dial(asio::any_io_executor ex,
                                                              ssl::context& tls,
                                                              const DialTarget& target) {
  auto stream = co_await dial_tls(ex, tls, target);
  if (!stream) co_return tl::unexpected(stream.error());
  auto ws = std::make_unique<WsStream>(std::move(**stream));
  ws->set_option(websocket::stream_base::decorator([&target](websocket::request_type& req) {
    req.set(http::field::user_agent, "vigie");
    req.set(http::field::sec_websocket_protocol, std::string(kSubprotocol));
    if (!target.bearer.empty()) req.set(http::field::authorization, "Bearer " + target.bearer);
  }));
  websocket::response_type res;
  ErrorCodeB ec;
  co_await ws->async_handshake(res, target.host, target.path, redirect(ec));
  if (ec) {
    // A response the handshake read says why; otherwise the error does.
    std::string why = res.result() != http::status::ok
                          ? fmt::format("{} {}", res.result_int(), std::string(res.reason()))
                          : ec.message();
    co_return fail(
        res.result() == http::status::unauthorized || res.result() == http::status::forbidden
            ? ErrorCode::kInvalidInput
            : ErrorCode::kUnavailable,
        fmt::format("the broker refused the WebSocket: {}", why), "broker");
  }
  if (sv(res[http::field::sec_websocket_protocol]) != kSubprotocol) {
    co_return fail(ErrorCode::kUnavailable, "the broker does not speak vigie.tunnel.v1", "broker");
  }
  beast::get_lowest_layer(*ws).expires_never();
  co_return ws;
}

asio::awaitable<core::Result<HttpReply>> https_call(asio::any_io_executor ex, ssl::context& tls,
                                                    const DialTarget& target, http::verb verb,
                                                    std::string path, std::string body) {
  auto stream = co_await dial_tls(ex, tls, target);
  if (!stream) co_return tl::unexpected(stream.error());
  http::request<http::string_body> req{verb, path, 11};
  req.set(http::field::host, target.host);
  req.set(http::field::user_agent, "vigie");
  if (!target.bearer.empty()) req.set(http::field::authorization, "Bearer " + target.bearer);
  if (!body.empty()) {
    req.set(http::field::content_type,
            verb == http::verb::put ? "application/octet-stream" : "application/json");
  }
  req.body() = std::move(body);
  req.prepare_payload();
  ErrorCodeB ec;
  beast::get_lowest_layer(**stream).expires_after(target.timeout);
  co_await http::async_write(**stream, req, redirect(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(target.max_reply);
  if (!ec) co_await http::async_read(**stream, buffer, parser, redirect(ec));
  if (ec) {
    co_return fail(
        ErrorCode::kUnavailable,
        fmt::format("{} {} failed: {}", std::string(http::to_string(verb)), path, ec.message()),
        "broker");
  }
  co_await (*stream)->async_shutdown(redirect(ec));
  const auto& res = parser.get();
  co_return HttpReply{static_cast<int>(res.result_int()), std::string(sv(res["X-Vigie-Name"])),
                      std::string(sv(res["X-Vigie-SHA256"])), std::move(parser.get().body())};
}

core::Result<std::shared_ptr<ssl::context>> client_context(const std::string& ca_file,
                                                           const std::string& identity) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  VIGIE_TRY(core::apply_tls_policy(ctx->native_handle()));
  ErrorCodeB ec;
  if (!ca_file.empty()) ctx->load_verify_file(ca_file, ec);
  if (ec) {
    return fail(ErrorCode::kInvalidInput, "cannot read the CA certificate: " + ec.message(),
                ca_file);
  }
  if (!identity.empty()) {
    ctx->use_certificate_chain_file(identity, ec);
    if (!ec) ctx->use_private_key_file(identity, ssl::context::pem, ec);
    if (ec) {
      return fail(ErrorCode::kInvalidInput,
                  "cannot read the client's key and certificate: " + ec.message(), identity);
    }
  }
  return ctx;
}

}  // namespace vigie::remote::detail
