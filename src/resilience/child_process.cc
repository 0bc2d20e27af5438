#include "child_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace vigie::resilience::internal {
namespace {

namespace fs = std::filesystem;
constexpr size_t kStderrKept = size_t{64} * 1024;

// The program's full path: as given when it holds a '/', else the first match in PATH.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(-1); }
  [[nodiscard]] int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

core::Status make_pipe(Fd& read_end, Fd& write_end) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return core::fail(core::ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

// Reads both pipes until the child closes them: stdout split into lines, stderr kept.
void drain(Fd& out, Fd& err, const ChildSpec& spec, std::string& stderr_text) {
  std::string line_buffer;
  std::array<char, 65536> buffer{};
  std::array<pollfd, 2> fds{pollfd{out.get(), POLLIN, 0}, pollfd{err.get(), POLLIN, 0}};
  int open_pipes = 2;
  while (open_pipes > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open_pipes;
        continue;
      }
      std::string_view chunk(buffer.data(), static_cast<size_t>(n));
      if (i == 1) {
        stderr_text.append(chunk);
        if (stderr_text.size() > kStderrKept) {
          stderr_text.erase(0, stderr_text.size() - kStderrKept);
        }
        continue;
      }
      line_buffer.append(chunk);
      size_t start = 0;
      for (size_t nl = line_buffer.find('\n'); nl != std::string::npos;
           nl = line_buffer.find('\n', start)) {
        if (spec.on_stdout_line) {
          spec.on_stdout_line(std::string_view(line_buffer).substr(start, nl - start));
        }
        start = nl + 1;
      }
      line_buffer.erase(0, start);
    }
  }
  if (!line_buffer.empty() && spec.on_stdout_line) spec.on_stdout_line(line_buffer);
}

}  // namespace

std::vector<std::string> inherited_environment() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "http_proxy",
                           "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}) {
    if (const char* v = std::getenv(name)) env.push_back(fmt::format("{}={}", name, v));
  }
  return env;
}

core::Result<ChildExit> run_child(const ChildSpec& spec) {
  if (spec.argv.empty()) return core::fail(core::ErrorCode::kInternal, "no program to run");
  const std::string program = find_program(spec.argv.front());
  if (program.empty()) {
    return core::fail(core::ErrorCode::kUnavailable,
                      fmt::format("'{}' is not installed (not found in PATH)", spec.argv.front()));
  }
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> env = inherited_environment();
  env.insert(env.end(), spec.env.begin(), spec.env.end());
  std::vector<char*> argv;
  std::vector<char*> envp;
  argv.reserve(spec.argv.size() + 1);
  envp.reserve(env.size() + 1);
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const std::string cwd = spec.cwd.string();

  Fd out_read;
  Fd out_write;
  Fd err_read;
  Fd err_write;
  VIGIE_TRY(make_pipe(out_read, out_write));
  VIGIE_TRY(make_pipe(err_read, err_write));
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return core::fail(core::ErrorCode::kUnavailable,
                      fmt::format("cannot start {}: {}", program, std::strerror(errno)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGINT);
    if (::getppid() != parent) ::_exit(126);
    if (::dup2(null_in.get(), STDIN_FILENO) < 0 || ::dup2(out_write.get(), STDOUT_FILENO) < 0 ||
        ::dup2(err_write.get(), STDERR_FILENO) < 0) {
      ::_exit(126);
    }
    ::close_range(3, ~0U, 0);  // no store handle or socket of Vigie leaks into the child
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  out_write.reset(-1);
  err_write.reset(-1);
  ChildExit exit;
  drain(out_read, err_read, spec, exit.stderr_text);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return core::fail(core::ErrorCode::kInternal,
                        fmt::format("waitpid {}: {}", program, std::strerror(errno)));
    }
  }
  if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
  if (exit.exit_code == 126 && !cwd.empty() && exit.stderr_text.empty()) {
    return core::fail(core::ErrorCode::kIo, "cannot enter the working directory of " + program,
                      cwd);
  }
  return exit;
}

}  // namespace vigie::resilience::internal
