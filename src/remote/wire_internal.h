// The asynchronous plumbing shared by the broker, the connector and the engineer's client:
// Asio/Beast types, one message queue per WebSocket, and the stream pump that moves bytes
// between a TCP socket and a stream of the tunnel within the peer's window. Private to the
// remote module; every coroutine here runs on one single-threaded io_context.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "vigie/remote/frame.h"

namespace vigie::remote::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCodeB = boost::system::error_code;
using WsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
// One frame, owned: what a reader filled is what a writer sends (no copy in between).
using Message = beast::flat_buffer;

inline std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }
inline beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }
inline auto redirect(ErrorCodeB& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

Message to_message(std::string_view bytes);
// Binary messages of at most one frame, no compression, pings on silence.
struct Limits;
void configure(WsStream& ws, const Limits& limits, bool server);
std::span<std::byte> bytes_of(Message& m);

// A timer used as a condition variable: wait() until notify() (or cancel at close).
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }
  void notify() { timer_.cancel(); }
  asio::awaitable<void> wait() {
    ErrorCodeB ec;
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await timer_.async_wait(redirect(ec));
  }

 private:
  asio::steady_timer timer_;
};

// Limits of one side of a tunnel, from the configuration.
struct Limits {
  std::size_t max_frame = kMaxDataPayload;  // DATA payload bytes
  std::uint32_t window = 1U << 20;          // per-stream receive window
  std::size_t max_streams = 256;            // per WebSocket
  std::size_t max_queue = 64U << 20;        // bytes waiting to be written on one WebSocket
  std::chrono::seconds idle{30};            // no byte from the peer: dead (pings every idle/2)
  std::chrono::seconds connect{10};         // connector's TCP connect to a device
};

// Writes the frames queued for one WebSocket, in order, one at a time. Owned by a peer.
class Outbox {
 public:
  explicit Outbox(const asio::any_io_executor& ex) : signal_(ex), room_(ex) {}
  // False when the queue is over `max`: the caller drops the peer (it does not read).
  bool push(Message m, std::size_t max) {
    bytes_ += m.size();
    queue_.push_back(std::move(m));
    signal_.notify();
    return bytes_ <= max;
  }
  void close() {
    closed_ = true;
    signal_.notify();
    room_.notify();
  }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  // Producers that can wait (the sockets read by the engineer's client and the connector) wait
  // here while more than `high_water` bytes are queued: their own queue stays small however
  // many streams run, while each stream's window still bounds what it has in flight.
  void set_high_water(std::size_t bytes) { high_water_ = bytes; }
  asio::awaitable<void> wait_room() {
    while (bytes_ > high_water_ && !closed_) co_await room_.wait();
  }
  // Runs until close() or a write error.
  asio::awaitable<void> run(WsStream& ws);

 private:
  std::deque<Message> queue_;
  std::size_t bytes_ = 0;
  std::size_t high_water_ = static_cast<std::size_t>(-1);
  bool closed_ = false;
  Signal signal_;
  Signal room_;
};

// The engineer's client and the connector: one WebSocket to the broker carrying many streams,
// each bound to a TCP socket on this side.
class Mux : public std::enable_shared_from_this<Mux> {
 public:
  // Called on the connector for each OPEN: the host:port may be dialled (a live grant)?
  using Admit = std::function<bool(std::string_view host, std::uint16_t port)>;

  Mux(WsStream ws, Limits limits, Admit admit);
  Mux(const Mux&) = delete;
  Mux& operator=(const Mux&) = delete;
  ~Mux();

  // Reads frames until the WebSocket closes or fails; returns why.
  asio::awaitable<std::string> run();
  // Engineer side: tunnels `socket` to `port` of device `device`. Returns the refusal, if any.
  asio::awaitable<std::optional<std::string>> open(tcp::socket socket, std::string device,
                                                   std::uint16_t port);
  void close();
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] std::size_t streams() const { return streams_.size(); }
  // Connector side: grants pushed by the broker (id -> host:port, expiry).
  std::function<void(const Frame&)> on_grant;

 private:
  struct Stream;
  void send(Message m);
  void send_close(std::uint32_t id, CloseCode code, std::string_view reason);
  void drop(std::uint32_t id);
  void handle(const Frame& f, Message& m);
  void finish_if_done(const std::shared_ptr<Stream>& s);
  void start_pumps(const std::shared_ptr<Stream>& s);
  // Coroutines take their owner by value: it lives as long as they run.
  static asio::awaitable<void> accept_open(std::shared_ptr<Mux> self, std::uint32_t id,
                                           std::string host, std::uint16_t port,
                                           std::uint32_t window);
  static asio::awaitable<void> pump_out(std::shared_ptr<Mux> self, std::shared_ptr<Stream> s);
  static asio::awaitable<void> pump_in(std::shared_ptr<Mux> self, std::shared_ptr<Stream> s);

  WsStream ws_;
  Limits limits_;
  Admit admit_;
  Outbox outbox_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Stream>> streams_;
  std::uint32_t next_id_ = 1;
  bool closed_ = false;
};

// Where and how to reach the broker.
struct DialTarget {
  std::string host;
  std::string port = "443";
  std::string path;    // "/v1/connector", "/v1/engineer"
  std::string proxy;   // "http://[user:password@]host:port" or ""
  std::string bearer;  // engineer credential, sent as Authorization: Bearer
  std::chrono::seconds timeout{15};
  bool verify = true;  // false only to fetch the CA whose fingerprint the caller then checks
  std::size_t max_reply = std::size_t{1} << 20;  // largest HTTPS answer body
};

// One HTTPS request to the broker (a new connection each time: these are rare).
struct HttpReply {
  int status = 0;
  std::string file_name;  // X-Vigie-Name, X-Vigie-SHA256 of a file the broker sends
  std::string file_sha256;
  std::string body;
};
asio::awaitable<core::Result<HttpReply>> https_call(asio::any_io_executor ex, ssl::context& tls,
                                                    const DialTarget& target, http::verb verb,
                                                    std::string path, std::string body);

// A client TLS context under Vigie's policy, trusting `ca_file`; with `identity` (key and
// certificate in one PEM file) as the client certificate when not empty.
core::Result<std::shared_ptr<ssl::context>> client_context(const std::string& ca_file,
                                                           const std::string& identity);

// TCP (through the proxy when set), TLS verified against the context's CA and the host name,
// then the WebSocket handshake with Vigie's subprotocol. Errors say which step failed.
asio::awaitable<core::Result<std::unique_ptr<WsStream>>> dial(asio::any_io_executor ex,
                                                              ssl::context& tls,
                                                              const DialTarget& target);

// TCP then TLS to the broker (through the proxy when set): for the enrollment's HTTPS calls.
asio::awaitable<core::Result<std::unique_ptr<beast::ssl_stream<beast::tcp_stream>>>> dial_tls(
    asio::any_io_executor ex, ssl::context& tls, const DialTarget& target);

// Parses "wss://host[:port]" (also https://) into a target; kInvalidInput otherwise.
core::Result<DialTarget> parse_broker_url(std::string_view url);

}  // namespace vigie::remote::detail
