// The engineer's side (`vigie connect`): a local listener whose every accepted TCP connection
// is tunnelled, through the broker and the device zone's connector, to one port of one device.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::remote {

struct EngineerOptions {
  std::string broker;      // wss://host[:port]
  std::string ca_file;     // the hospital's CA (the broker's certificate is checked against it)
  std::string credential;  // the engineer's login token (or a static test credential)
  std::string identity;    // PEM key and certificate: a certificate as second factor ("" none)
  std::string proxy;       // http://[user:password@]host:port, "" = direct
  std::string device;      // device id
  std::uint16_t port = 0;
  std::string local = "127.0.0.1:0";  // where to listen; port 0 = any free port
  std::uint32_t window = 1U << 20;
  // Told the local address once listening (the CLI prints it).
  std::function<void(const std::string&)> on_listening;
};

// Tunnels until SIGINT/SIGTERM or until the broker goes away (an error saying why).
core::Status run_engineer(const EngineerOptions& options);

struct ReachableGrant {
  std::int64_t grant = 0;
  std::int64_t device_id = 0;
  std::string device;
  int port = 0;
  std::string expires_at;
};

// What the engineer may reach now (`vigie connect --list`).
core::Result<std::vector<ReachableGrant>> list_reachable(const EngineerOptions& options);

// The credential kept in a file (vigie login --save): its line ends and blanks are not part of it.
core::Result<std::string> read_credential(const std::string& path);

struct BrokerReply {
  int status = 0;
  std::string body;
  std::string file_name;  // of a file sent (GET .../files/NAME)
  std::string file_sha256;
};
// One request of the engineers' HTTPS API (docs/remote-protocol.md): login, sessions, files.
// Errors are the transport's; the broker's refusals come back as a status and a problem body.
core::Result<BrokerReply> call_broker(const EngineerOptions& options, std::string_view method,
                                      const std::string& path, std::string body);
// The broker's problem+json "detail" of a refusal, or the body.
std::string refusal_of(const BrokerReply& reply);

}  // namespace vigie::remote
