// vigied's HTTPS front: TLS 1.2+ with AEAD ciphers only, a JSON API under /api/v1 (for
// now: health, status and the device inventory) and RFC 9457 problem+json errors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "vigie/core/result.h"

namespace vigie::store {
class StorePool;
}

namespace vigie::api {

struct ServerOptions {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  // Threads that run requests against the store, so that the I/O thread never blocks on it.
  size_t workers = 2;
};

class Server {
 public:
  // Binds and prepares TLS; does not serve until run().
  // `stores` should hold one connection per worker.
  static core::Result<std::unique_ptr<Server>> create(const ServerOptions& options,
                                                      store::StorePool& stores);
  virtual ~Server() = default;
  // The port actually bound (useful with port 0).
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  // Serves until SIGTERM/SIGINT or stop(); returns after every connection is closed.
  virtual core::Status run() = 0;
  virtual void stop() = 0;
};

}  // namespace vigie::api
