// Boost.Beast over a blocking-looking API: each step runs its async operation on a private
// io_context, so that the stream's timeouts apply (Asio's synchronous calls have none).
#include "vigie/resilience/sync_client.h"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>

#include "vigie/core/tls.h"

namespace vigie::resilience {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::ErrorCode;
using core::fail;

constexpr auto kTimeout = std::chrono::seconds(30);
constexpr size_t kMaxReplyBytes = size_t{256} << 20;  // a large site's device snapshot

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

using Stream = beast::ssl_stream<beast::tcp_stream>;

// Runs one asynchronous operation to completion (or its timeout) on `io`.
template <class Start>
boost::system::error_code run(asio::io_context& io, Start&& start) {
  boost::system::error_code result = asio::error::would_block;
  start([&result](const boost::system::error_code& ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

core::Error unreachable(std::string_view url, std::string_view step,
                        const boost::system::error_code& ec) {
  return {ErrorCode::kUnavailable, fmt::format("{} failed: {}", step, ec.message()),
          std::string(url)};
}

// A connected TLS stream, verified or not.
Result<std::unique_ptr<Stream>> open_stream(asio::io_context& io, ssl::context& tls,
                                            const ServerUrl& server, std::string_view url) {
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(server.host, server.port, ec);
  if (ec) return tl::unexpected(unreachable(url, "name resolution", ec));
  auto stream = std::make_unique<Stream>(io, tls);
  if (SSL_set_tlsext_host_name(stream->native_handle(), server.host.c_str()) != 1) {
    return fail(ErrorCode::kInternal, "cannot set the TLS server name");
  }
  beast::get_lowest_layer(*stream).expires_after(kTimeout);
  ec = run(io, [&](auto handler) {
    beast::get_lowest_layer(*stream).async_connect(endpoints, std::move(handler));
  });
  if (ec) return tl::unexpected(unreachable(url, "connection", ec));
  beast::get_lowest_layer(*stream).expires_after(kTimeout);
  ec = run(io, [&](auto handler) {
    stream->async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    return fail(ErrorCode::kUnavailable,
                fmt::format("TLS handshake failed (is this the server whose certificate was "
                            "pinned at init?): {}",
                            ec.message()),
                std::string(url));
  }
  return stream;
}

}  // namespace

Result<ServerUrl> parse_server_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) {
    return fail(ErrorCode::kUsage, "the server URL must start with https://", std::string(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return fail(ErrorCode::kUsage, "expected https://host[:port]", std::string(url));
  }
  ServerUrl out{std::string(rest), "443"};
  if (rest.front() == '[') {  // [::1]:8443
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::kUsage, "unclosed '[' in the host", std::string(url));
    }
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() == ':') out.port = std::string(rest.substr(1));
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(rest.substr(0, colon));
    out.port = std::string(rest.substr(colon + 1));
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (ec != std::errc() || p != out.port.data() + out.port.size() || port == 0 || port > 65535) {
    return fail(ErrorCode::kUsage, fmt::format("'{}' is not a port", out.port), std::string(url));
  }
  return out;
}

Result<std::string> fetch_server_certificate(std::string_view url) {
  auto server = parse_server_url(url);
  if (!server) return tl::unexpected(server.error());
  asio::io_context io;
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);  // read only, never trusted as such: see the header
  auto stream = open_stream(io, tls, *server, url);
  if (!stream) return tl::unexpected(stream.error());
  X509Ptr cert(SSL_get1_peer_certificate((*stream)->native_handle()));
  if (!cert)
    return fail(ErrorCode::kUnavailable, "the server sent no certificate", std::string(url));
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> certificate_fingerprint(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(ErrorCode::kInvalidInput, "not a PEM certificate");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  X509_digest(cert.get(), EVP_sha256(), digest.data(), &length);
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    fmt::format_to(std::back_inserter(out), "{}{:02X}", i == 0 ? "" : ":", digest[i]);
  }
  return out;
}

struct SyncClient::Impl {
  std::string url;
  ServerUrl server;
  asio::io_context io;
  ssl::context tls{ssl::context::tls_client};
  std::unique_ptr<Stream> stream;

  core::Status reconnect() {
    stream.reset();
    auto s = open_stream(io, tls, server, url);
    if (!s) return tl::unexpected(s.error());
    stream = std::move(*s);
    return {};
  }

  Result<HttpReply> once(http::request<http::string_body>& req) {
    beast::get_lowest_layer(*stream).expires_after(kTimeout);
    auto ec = run(io, [&](auto handler) { http::async_write(*stream, req, std::move(handler)); });
    if (ec) return tl::unexpected(unreachable(url, "sending the request", ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxReplyBytes);
    beast::get_lowest_layer(*stream).expires_after(kTimeout);
    ec = run(io,
             [&](auto handler) { http::async_read(*stream, buffer, parser, std::move(handler)); });
    if (ec) return tl::unexpected(unreachable(url, "reading the reply", ec));
    auto& res = parser.get();
    if (!res.keep_alive()) stream.reset();
    return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }
};

SyncClient::SyncClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncClient::SyncClient(SyncClient&& other) noexcept = default;
SyncClient& SyncClient::operator=(SyncClient&& other) noexcept = default;
SyncClient::~SyncClient() = default;

Result<SyncClient> SyncClient::connect(std::string_view url, std::string_view trusted_pem) {
  auto server = parse_server_url(url);
  if (!server) return tl::unexpected(server.error());
  auto impl = std::make_unique<Impl>();
  impl->url = std::string(url);
  impl->server = *server;
  try {
    impl->tls.set_options(ssl::context::default_workarounds);
    VIGIE_TRY(core::apply_tls_policy(impl->tls.native_handle()));
    impl->tls.add_certificate_authority(asio::buffer(trusted_pem.data(), trusted_pem.size()));
  } catch (const boost::system::system_error& e) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the pinned server certificate is unusable: {}", e.what()));
  }
  // The pinned certificate is trusted as such even when it is not a root (a hospital PKI's
  // leaf): only it, or what it signed, is accepted.
  X509_STORE_set_flags(SSL_CTX_get_cert_store(impl->tls.native_handle()),
                       X509_V_FLAG_PARTIAL_CHAIN);
  impl->tls.set_verify_mode(ssl::verify_peer);
  impl->tls.set_verify_callback(ssl::host_name_verification(server->host));
  VIGIE_TRY(impl->reconnect());
  return SyncClient(std::move(impl));
}

Result<HttpReply> SyncClient::request(std::string_view method, std::string_view target,
                                      std::string_view token, std::string_view body) {
  http::request<http::string_body> req{
      http::string_to_verb(beast::string_view(method.data(), method.size())), std::string(target),
      11};
  req.set(http::field::host, impl_->server.host);
  req.set(http::field::user_agent, "vigie-sync");
  req.set(http::field::authorization, fmt::format("Bearer {}", token));
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.keep_alive(true);
  req.prepare_payload();
  bool fresh = false;
  if (!impl_->stream) {
    VIGIE_TRY(impl_->reconnect());
    fresh = true;
  }
  auto reply = impl_->once(req);
  // A kept-alive connection the server closed meanwhile: once more on a new one. Uploads are
  // idempotent, so a request that did reach the server is harmless to repeat.
  if (!reply && !fresh) {
    VIGIE_TRY(impl_->reconnect());
    reply = impl_->once(req);
  }
  return reply;
}

}  // namespace vigie::resilience
