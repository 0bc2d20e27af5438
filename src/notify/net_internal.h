// Blocking-with-deadline sockets for the SMTP and syslog clients: non-blocking descriptors
// driven by poll(), so that every connect, read and write ends within its timeout. Writes use
// MSG_NOSIGNAL: a peer that went away is an error, not a SIGPIPE.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::notify::internal {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Connects to host:port (every address the name resolves to, in order), within `timeout`.
core::Result<Fd> connect_tcp(const std::string& host, std::uint16_t port,
                             std::chrono::milliseconds timeout);
// A datagram socket connected to host:port.
core::Result<Fd> connect_udp(const std::string& host, std::uint16_t port);

core::Status send_all(int fd, std::string_view data, std::chrono::milliseconds timeout);
// Reads what is there (at least one byte) within `timeout`; 0 when the peer closed.
core::Result<size_t> recv_some(int fd, char* buffer, size_t size,
                               std::chrono::milliseconds timeout);

// This host's name (gethostname), "localhost" when it has none.
std::string host_name();

}  // namespace vigie::notify::internal
