// The broker (in vigied, or alone): terminates TLS for connectors and engineers, serves the
// connectors' enrollment and certificate renewal, and relays the streams of each granted
// engineer to a connector of the device's zone (docs/remote.md, docs/remote-protocol.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/phi/outbound.h"
#include "vigie/remote/access.h"
#include "vigie/remote/sessions.h"
#include "vigie/remote/transfers.h"
#include "vigie/store/pool.h"

namespace vigie::remote {

struct BrokerOptions {
  std::string listen = "0.0.0.0";
  std::uint16_t port = 443;
  std::filesystem::path ca_dir;  // the CA of pki.h (ca.pem, ca.key)
  std::filesystem::path cert;    // the broker's certificate, issued by that CA
  std::filesystem::path key;
  std::uint32_t stream_window = 1U << 20;
  std::size_t max_streams = 256;             // per WebSocket
  std::size_t max_queue_bytes = 257U << 20;  // per WebSocket, before it is dropped as stuck
  std::chrono::seconds idle{30};
  std::chrono::seconds grant_check{5};  // how often live grants and revocations are re-read
  int connector_cert_days = 90;
  bool engineer_bearer_tokens = false;  // static credentials for tests (see registry.h)
  std::size_t workers = 2;              // threads for the store
  // How often the change counter is read: an ended session's streams close within this.
  std::chrono::milliseconds session_check{250};
  SessionPolicy sessions;
  LoginPolicy logins;
  TransferArea transfers;
  // Every file leaving through the gateway passes it; null: no file leaves.
  std::shared_ptr<const phi::OutboundFilter> phi_filter;
  // Sends the notices due (sessions' e-mails), on a thread of its own every second, so that an
  // approver hears of a request within its 30 s. Empty: nothing sent from here.
  std::function<void()> deliver_notices;
};

class Broker {
 public:
  static core::Result<std::unique_ptr<Broker>> create(const BrokerOptions& options,
                                                      store::StorePool& stores);
  virtual ~Broker() = default;
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  // Serves until stop() (from any thread) or SIGINT/SIGTERM when `handle_signals`.
  virtual core::Status run(bool handle_signals) = 0;
  virtual void stop() = 0;
};

}  // namespace vigie::remote
