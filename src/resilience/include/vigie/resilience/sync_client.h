// The offline PC's side of `vigie sync`: HTTPS to vigied, trusting only the server
// certificate pinned at `vigie offline init`, with the site's sync token as a bearer token.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::resilience {

using core::Result;

struct HttpReply {
  int status = 0;
  std::string body;
};

struct ServerUrl {
  std::string host;
  std::string port;
};
// "https://host[:port]" (a trailing "/" allowed); anything else is refused.
Result<ServerUrl> parse_server_url(std::string_view url);

// The server's leaf certificate (PEM) as it presents it, read without trusting it: `vigie
// offline init --fingerprint` compares its SHA-256 with the one the administrator read on the
// server before pinning it.
Result<std::string> fetch_server_certificate(std::string_view url);
// "AB:CD:..." SHA-256 of the certificate's DER form, as `openssl x509 -fingerprint -sha256`.
Result<std::string> certificate_fingerprint(std::string_view pem);

class SyncClient {
 public:
  // Connects and verifies the server against `trusted_pem` (the pinned certificate, or the CA
  // that issued it) and the URL's host name.
  static Result<SyncClient> connect(std::string_view url, std::string_view trusted_pem);
  SyncClient(SyncClient&& other) noexcept;
  SyncClient& operator=(SyncClient&& other) noexcept;
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;
  ~SyncClient();

  // One request on the kept-alive connection (reconnects once when the server closed it).
  Result<HttpReply> request(std::string_view method, std::string_view target,
                            std::string_view token, std::string_view body = {});

 private:
  struct Impl;
  explicit SyncClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::resilience
