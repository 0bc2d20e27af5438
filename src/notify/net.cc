#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "net_internal.h"

namespace vigie::notify::internal {
namespace {

using core::ErrorCode;
using Clock = std::chrono::steady_clock;

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

std::string errno_text(int e) { return std::strerror(e); }  // NOLINT(concurrency-mt-unsafe)

// Waits for `events` until `deadline`; false on timeout or error (errno says which).
core::Status wait_for(int fd, short events, Clock::time_point deadline, std::string_view what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return core::fail(ErrorCode::kUnavailable, fmt::format("timed out {}", what));
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
    if (n > 0) return {};
    if (n == 0) continue;  // the loop re-checks the deadline
    if (errno == EINTR) continue;
    return core::fail(ErrorCode::kIo, fmt::format("poll failed {}: {}", what, errno_text(errno)));
  }
}

core::Result<std::unique_ptr<addrinfo, AddrInfoFree>> resolve(const std::string& host,
                                                              std::uint16_t port, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("cannot resolve '{}': {}", host, ::gai_strerror(rc)));
  }
  return std::unique_ptr<addrinfo, AddrInfoFree>(found);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

core::Result<Fd> connect_tcp(const std::string& host, std::uint16_t port,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto list = resolve(host, port, SOCK_STREAM);
  if (!list) return tl::unexpected(list.error());
  std::string last_error = "no address";
  for (addrinfo* a = list->get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) {
      last_error = errno_text(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      last_error = errno_text(errno);
      continue;
    }
    auto waited = wait_for(fd.get(), POLLOUT, deadline, "connecting");
    if (!waited) {
      last_error = waited.error().message;
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    last_error = errno_text(err);
  }
  return core::fail(ErrorCode::kUnavailable,
                    fmt::format("cannot connect to {}:{}: {}", host, port, last_error));
}

core::Result<Fd> connect_udp(const std::string& host, std::uint16_t port) {
  auto list = resolve(host, port, SOCK_DGRAM);
  if (!list) return tl::unexpected(list.error());
  std::string last_error = "no address";
  for (addrinfo* a = list->get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() >= 0 && ::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    last_error = errno_text(errno);
  }
  return core::fail(ErrorCode::kUnavailable,
                    fmt::format("cannot reach {}:{} over UDP: {}", host, port, last_error));
}

core::Status send_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      VIGIE_TRY(wait_for(fd, POLLOUT, deadline, "sending"));
      continue;
    }
    return core::fail(ErrorCode::kUnavailable, fmt::format("send failed: {}", errno_text(errno)));
  }
  return {};
}

core::Result<size_t> recv_some(int fd, char* buffer, size_t size,
                               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    ssize_t n = ::recv(fd, buffer, size, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      VIGIE_TRY(wait_for(fd, POLLIN, deadline, "waiting for the server"));
      continue;
    }
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("receive failed: {}", errno_text(errno)));
  }
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace vigie::notify::internal
