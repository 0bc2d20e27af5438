// Real traffic for the nftables test bed: `serve` binds a TCP or UDP port, answers every
// connection or datagram, and goes to the background once it listens (so the caller needs no
// sleep); `connect` says by its exit code whether the server answered in time.
//
//   nft_probe serve tcp|udp ADDRESS PORT      prints the server's pid; it exits after 300 s
//   nft_probe connect tcp|udp ADDRESS PORT [TIMEOUT_MS]   0 answered, 1 not, 2 usage
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace {

constexpr int kServeSeconds = 300;
constexpr std::string_view kGreeting = "vigie-probe\n";

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
};

template <class SockAddr>
bool set_address(int family, const char* text, std::uint16_t port, Address& out) {
  SockAddr sa{};
  void* target = nullptr;
  if constexpr (std::is_same_v<SockAddr, sockaddr_in>) {
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    target = &sa.sin_addr;
  } else {
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    target = &sa.sin6_addr;
  }
  if (::inet_pton(family, text, target) != 1) return false;
  std::memcpy(&out.storage, &sa, sizeof sa);
  out.length = sizeof sa;
  out.family = family;
  return true;
}

bool parse_address(const char* text, const char* port_text, Address& out) {
  int port = 0;
  std::string_view p(port_text);
  if (std::from_chars(p.data(), p.data() + p.size(), port).ec != std::errc() || port < 1 ||
      port > 65535) {
    return false;
  }
  auto port16 = static_cast<std::uint16_t>(port);
  return set_address<sockaddr_in>(AF_INET, text, port16, out) ||
         set_address<sockaddr_in6>(AF_INET6, text, port16, out);
}

const sockaddr* as_sockaddr(const Address& a) {
  return reinterpret_cast<const sockaddr*>(&a.storage);  // NOLINT: the C socket API
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

int serve(bool tcp, const Address& at) {
  Fd sock(::socket(at.family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0));
  int one = 1;
  ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sock.get() < 0 || ::bind(sock.get(), as_sockaddr(at), at.length) != 0 ||
      (tcp && ::listen(sock.get(), 16) != 0)) {
    std::fprintf(stderr, "nft_probe: cannot serve: %s\n", std::strerror(errno));
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid > 0) {
    std::printf("%d\n", static_cast<int>(pid));
    return 0;
  }
  // Let go of the caller's output, or `$(nft_probe serve ...)` would wait for this process.
  Fd null(::open("/dev/null", O_RDWR));
  ::dup2(null.get(), STDOUT_FILENO);
  ::dup2(null.get(), STDERR_FILENO);
  ::setsid();
  ::alarm(kServeSeconds);  // never outlive a test run that forgot to stop it
  for (;;) {
    if (tcp) {
      Fd conn(::accept(sock.get(), nullptr, nullptr));
      if (conn.get() >= 0) (void)!::write(conn.get(), kGreeting.data(), kGreeting.size());
      continue;
    }
    std::array<char, 512> buf{};
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(sock.get(), buf.data(), buf.size(), 0,
                           reinterpret_cast<sockaddr*>(&from), &from_len);  // NOLINT: C API
    if (n > 0) {
      ::sendto(sock.get(), kGreeting.data(), kGreeting.size(), 0,
               reinterpret_cast<sockaddr*>(&from), from_len);  // NOLINT: C API
    }
  }
}

// Answered means the server's greeting came back: a dropped SYN or datagram never answers.
int probe(bool tcp, const Address& to, int timeout_ms) {
  Fd sock(::socket(to.family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) return 1;
  if (::connect(sock.get(), as_sockaddr(to), to.length) != 0 && errno != EINPROGRESS) return 1;
  if (!tcp && ::send(sock.get(), "ping", 4, 0) != 4) return 1;
  if (!wait_readable(sock.get(), timeout_ms)) return 1;
  std::array<char, 64> buf{};
  ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
  return n == static_cast<ssize_t>(kGreeting.size()) &&
                 std::string_view(buf.data(), kGreeting.size()) == kGreeting
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: nft_probe serve|connect tcp|udp ADDRESS PORT [TIMEOUT_MS]\n");
    return 2;
  }
  std::string_view mode(argv[1]);
  std::string_view proto(argv[2]);
  Address address;
  if ((proto != "tcp" && proto != "udp") || !parse_address(argv[3], argv[4], address)) {
    std::fprintf(stderr, "nft_probe: bad protocol, address or port\n");
    return 2;
  }
  int timeout_ms = 1000;
  if (argc > 5) {
    std::string_view t(argv[5]);
    std::from_chars(t.data(), t.data() + t.size(), timeout_ms);
  }
  std::signal(SIGPIPE, SIG_IGN);
  if (mode == "serve") return serve(proto == "tcp", address);
  if (mode == "connect") return probe(proto == "tcp", address, timeout_ms);
  std::fprintf(stderr, "nft_probe: unknown mode\n");
  return 2;
}
