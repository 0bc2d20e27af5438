// What the notify tests share: a throw-away CA and relay certificate made with openssl, a real
// SMTP server (smtp_server.py, Debian's aiosmtpd) run as a child process, and sockets a test
// listens on as a syslog collector would.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace vigie::notify::testing {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void run_or_fail(const std::string& command) {
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

// A CA, and a relay certificate it signed (EC P-256), by default for localhost and 127.0.0.1.
struct Pki {
  fs::path ca_cert, ca_key, server_cert, server_key;
  static void make(const fs::path& dir, const std::string& name, Pki& out,
                   const std::string& san = "DNS:localhost,IP:127.0.0.1") {
    const std::string d = dir.string() + "/" + name;
    out = {d + "-ca.crt", d + "-ca.key", d + "-server.crt", d + "-server.key"};
    run_or_fail("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                out.ca_key.string() + " -out " + out.ca_cert.string() +
                " -days 2 -subj '/CN=" + name + " test CA'");
    vigie::testing::write_file(d + "-ext.cnf", "subjectAltName=" + san + "\n");
    run_or_fail("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                out.server_key.string() + " -out " + d + "-server.csr -subj /CN=localhost");
    run_or_fail("openssl x509 -req -in " + d + "-server.csr -CA " + out.ca_cert.string() +
                " -CAkey " + out.ca_key.string() + " -CAcreateserial -out " +
                out.server_cert.string() + " -days 2 -extfile " + d + "-ext.cnf");
  }
};

// The test binary's PKIs, each made at first use and removed when the binary exits: "relay"
// and "other" for localhost and 127.0.0.1, "elsewhere" for a name the tests never connect to.
inline const Pki& suite_pki(const std::string& name) {
  static const vigie::testing::TempDir kDir;
  static std::map<std::string, Pki> made;
  auto it = made.find(name);
  if (it == made.end()) {
    Pki p;
    Pki::make(kDir.path(), name, p,
              name == "elsewhere" ? "DNS:relay.elsewhere.example" : "DNS:localhost,IP:127.0.0.1");
    it = made.emplace(name, p).first;
  }
  return it->second;
}

// smtp_server.py in a child process; killed when the object goes.
class SmtpServer {
 public:
  explicit SmtpServer(const fs::path& out, std::vector<std::string> args = {}, int port = 0)
      : out_(out) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(VIGIE_SOURCE_DIR) + "/tests/notify/smtp_server.py",
                                     "--out",
                                     out.string(),
                                     "--port",
                                     std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    std::array<char, 64> buf{};
    for (;;) {
      ssize_t n = ::read(fds[0], buf.data(), buf.size());
      if (n <= 0) break;
      line.append(buf.data(), static_cast<size_t>(n));
      if (line.find('\n') != std::string::npos) break;
    }
    ::close(fds[0]);
    port_ = std::atoi(line.c_str());
  }
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;
  ~SmtpServer() { stop(); }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  [[nodiscard]] std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
  [[nodiscard]] bool ready() const { return port_ > 0; }

  // The messages received so far: N.eml, in order.
  [[nodiscard]] std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (int i = 1; fs::exists(out_ / (std::to_string(i) + ".eml")); ++i) {
      out.push_back(slurp(out_ / (std::to_string(i) + ".eml")));
    }
    return out;
  }
  [[nodiscard]] std::string envelope(int n) const {
    return slurp(out_ / (std::to_string(n) + ".json"));
  }
  [[nodiscard]] std::string events() const { return slurp(out_ / "events.log"); }

 private:
  fs::path out_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A listening socket on 127.0.0.1 (TCP or UDP) with an ephemeral port.
class Listener {
 public:
  explicit Listener(int type) : fd_(::socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (type == SOCK_STREAM) ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{5, 0};  // a test never hangs on a message that does not come
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener() { ::close(fd_); }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

  // One datagram.
  [[nodiscard]] std::string receive() const {
    std::array<char, 65536> buf{};
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    return n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// Reads from a stream until `bytes` have come (or the peer closed / 5 s passed).
inline std::string read_stream(int fd, size_t bytes) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  std::array<char, 4096> buf{};
  while (out.size() < bytes) {
    ssize_t n = ::recv(fd, buf.data(), std::min(buf.size(), bytes - out.size()), 0);
    if (n <= 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

}  // namespace vigie::notify::testing
