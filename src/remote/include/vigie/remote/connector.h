// vigie-connector's work: enrolling once with a one-time token, then keeping an outbound
// TLS/WebSocket connection to the broker, dialling for each stream only a host:port the broker
// granted, and rotating its certificate before it expires (docs/remote.md).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::remote {

using core::Result;
using core::Status;

// What `vigie connectors add` prints: the secret, a dot, the SHA-256 fingerprint of the CA the
// broker must present (the connector trusts nothing before it has checked it).
std::string enrollment_code(std::string_view token, std::string_view ca_fingerprint);

// The connector's state directory: connector.toml (settings), ca.pem, identity.pem (key and
// certificate in one file, replaced atomically at rotation), status.json.
struct ConnectorSettings {
  std::string broker;                         // wss://host[:port], port 443 by default
  std::string proxy;                          // http://[user:password@]host:port, "" = direct
  std::int64_t keepalive_seconds = 30;        // silence after which the broker is deemed gone
  std::int64_t backoff_max_seconds = 60;      // reconnect delay cap (exponential, jittered)
  std::int64_t renew_before_seconds = 0;      // 0 = when a third of the certificate's life is left
  std::int64_t connect_timeout_seconds = 10;  // to a device
  std::int64_t max_streams = 256;
};
Result<ConnectorSettings> load_connector_settings(const std::filesystem::path& dir);

// Creates the key pair, sends the request with the token, stores the certificate. The broker
// is trusted only once its CA matches the fingerprint in `code`.
Status enroll_connector(const std::filesystem::path& dir, std::string_view broker_url,
                        std::string_view code, std::string_view proxy);

// Runs until SIGINT/SIGTERM: connects, serves, reconnects with back-off and jitter.
Status run_connector(const std::filesystem::path& dir);

// The identity currently in `dir` ("name serial not_after"), for `vigie-connector status`.
Result<std::string> connector_status(const std::filesystem::path& dir);

}  // namespace vigie::remote
