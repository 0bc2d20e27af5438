// `nft -c` in a throw-away network namespace: a child process leaves the host's namespace
// (unshare CLONE_NEWNET; as a non-root user, inside a new user namespace too), runs
// libnftables in dry-run mode there and sends nft's messages back through a pipe. The host's
// ruleset is never read nor touched, and nothing is left behind when the child exits.
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vigie/core/file.h"
#include "vigie/netpolicy/nft.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;

// Exit codes of the checking child.
constexpr int kChildAccepted = 0;
constexpr int kChildRefused = 1;
constexpr int kChildNoNamespace = 3;
constexpr int kChildNoContext = 4;
constexpr size_t kRootlessBatchElements = 2000;
// Where the child keeps a ruleset given in memory, and the name nft then uses for it.
constexpr int kBufferFd = 100;
constexpr std::string_view kBufferPath = "/proc/self/fd/100";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct NftCtxDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using NftCtxPtr = std::unique_ptr<nft_ctx, NftCtxDeleter>;

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool write_id_map(const char* path, std::string_view line) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  return fd.get() >= 0 && write_all(fd.get(), line);
}

// Leaves the host's network namespace. Root (CAP_NET_ADMIN) needs only a new network
// namespace; anyone else also needs a user namespace in which they are root.
bool enter_scratch_namespace(std::string& why) {
  if (::unshare(CLONE_NEWNET) == 0) return true;
  int first_errno = errno;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 &&
      write_id_map("/proc/self/setgroups", "deny") &&
      write_id_map("/proc/self/uid_map", fmt::format("0 {} 1", uid)) &&
      write_id_map("/proc/self/gid_map", fmt::format("0 {} 1", gid))) {
    return true;
  }
  why = fmt::format("cannot create a network namespace: {} (as a user namespace: {})",
                    std::strerror(first_errno), std::strerror(errno));
  return false;
}

// In the child: never returns.
[[noreturn]] void run_child(int out_fd, const std::string& file, std::string_view buffer,
                            NftFormat format) {
  std::string why;
  if (!enter_scratch_namespace(why)) {
    write_all(out_fd, why);
    ::_exit(kChildNoNamespace);
  }
  NftCtxPtr ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) {
    write_all(out_fd, "cannot create an nftables context");
    ::_exit(kChildNoContext);
  }
  nft_ctx_set_dry_run(ctx.get(), true);
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  // libnftables 1.0.6 reads JSON input when its output is set to JSON.
  if (format == NftFormat::kJson) nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
  // A buffer goes through a memory file: nft gives line and column only for files.
  std::string path = file;
  if (path.empty()) {
    UniqueFd memory(::memfd_create("vigie-ruleset", MFD_CLOEXEC));
    if (memory.get() < 0 || !write_all(memory.get(), buffer) ||
        ::dup2(memory.get(), kBufferFd) != kBufferFd) {
      write_all(out_fd, fmt::format("cannot hold the ruleset in memory: {}", std::strerror(errno)));
      ::_exit(kChildNoContext);
    }
    path = kBufferPath;
  }
  int rc = nft_run_cmd_from_filename(ctx.get(), path.c_str());
  write_all(out_fd, nft_ctx_get_error_buffer(ctx.get()));
  write_all(out_fd, nft_ctx_get_output_buffer(ctx.get()));
  ctx.reset();
  ::_exit(rc == 0 ? kChildAccepted : kChildRefused);
}

// "FILE:LINE:COL-COL: Error: MESSAGE" (the range or even the column may be missing).
std::vector<NftDiagnostic> parse_diagnostics(const std::string& output) {
  static const std::regex kLine(R"(^(.*?):(\d+):(\d+)(?:-(\d+))?: (Error|Warning): (.*)$)");
  static const std::regex kBare(R"(^(Error|Warning): (.*)$)");
  std::vector<NftDiagnostic> out;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    start = end + 1;
    std::smatch m;
    if (std::regex_match(line, m, kLine)) {
      NftDiagnostic d;
      d.file = m[1];
      d.line = std::stoi(m[2]);
      d.column = std::stoi(m[3]);
      d.column_end = m[4].matched ? std::stoi(m[4]) : d.column;
      d.severity = m[5];
      d.message = m[6];
      out.push_back(std::move(d));
    } else if (std::regex_match(line, m, kBare)) {
      out.push_back({{}, 0, 0, 0, m[1], m[2]});
    }
  }
  return out;
}

// A checking child on its way: its pid and the read end of its messages.
struct Running {
  pid_t pid = -1;
  UniqueFd output;
};

Result<Running> start_check(const std::string& file, std::string_view buffer, NftFormat format) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return core::fail(ErrorCode::kInternal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return core::fail(ErrorCode::kInternal, fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    read_end.reset();
    run_child(write_end.get(), file, buffer, format);
  }
  return Running{pid, std::move(read_end)};
}

// `display` names the input where nft gives no position (its JSON parser says "internal:0:0").
Result<NftCheck> finish_check(Running running, const std::string& display) {
  std::string output;
  std::array<char, 4096> chunk{};
  for (;;) {
    ssize_t n = ::read(running.output.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(chunk.data(), static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(running.pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kChildNoNamespace || code == kChildNoContext) {
    return core::fail(ErrorCode::kUnavailable, output);
  }
  if (code != kChildAccepted && code != kChildRefused) {
    return core::fail(ErrorCode::kInternal,
                      fmt::format("the nft check process ended abnormally (status {})", status));
  }
  for (size_t at = output.find(kBufferPath); at != std::string::npos;
       at = output.find(kBufferPath, at + display.size())) {
    output.replace(at, kBufferPath.size(), display);
  }
  NftCheck check;
  check.accepted = code == kChildAccepted;
  check.diagnostics = parse_diagnostics(output);
  for (auto& d : check.diagnostics) {
    if (d.file.empty() || (d.file == "internal" && d.line == 0)) d.file = display;
  }
  check.output = std::move(output);
  return check;
}

Result<NftCheck> run_check(const std::string& file, std::string_view buffer, NftFormat format,
                           const std::string& display) {
  auto running = start_check(file, buffer, format);
  if (!running) return tl::unexpected(running.error());
  return finish_check(std::move(*running), display);
}

// The ruleset cut into batches of at most `max_elements` map elements. Every batch declares
// the whole table (counter, sets, every map, the chain and its rules) and carries a
// consecutive run of the elements, so that each batch is a ruleset nft checks on its own and
// every element is checked exactly once.
std::vector<NftRuleset> batches(const NftRuleset& rs, size_t max_elements) {
  std::vector<NftRuleset> out;
  NftRuleset empty = rs;
  for (auto& m : empty.maps) m.elements.clear();
  out.push_back(empty);
  size_t in_batch = 0;
  for (size_t i = 0; i < rs.maps.size(); ++i) {
    for (const auto& e : rs.maps[i].elements) {
      if (in_batch == max_elements) {
        out.push_back(empty);
        in_batch = 0;
      }
      out.back().maps[i].elements.push_back(e);
      ++in_batch;
    }
  }
  return out;
}

}  // namespace

std::string NftDiagnostic::to_string() const {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}:{}", line, column);
  return where.empty() ? fmt::format("{}: {}", severity, message)
                       : fmt::format("{}: {}: {}", where, severity, message);
}

NftFormat detect_nft_format(std::string_view ruleset) {
  size_t i = ruleset.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && ruleset[i] == '{' ? NftFormat::kJson : NftFormat::kText;
}

Result<NftCheck> nft_check_file(const std::filesystem::path& file) {
  auto text = core::read_file(file);
  if (!text) return tl::unexpected(text.error());
  return run_check(file.string(), {}, detect_nft_format(*text), file.string());
}

Result<NftCheck> nft_check_buffer(std::string_view ruleset, NftFormat format) {
  return run_check({}, ruleset, format, "<buffer>");
}

Result<NftCheck> nft_check_ruleset(const NftRuleset& ruleset, const NftCheckOptions& options) {
  auto render = [&](const NftRuleset& rs) {
    return options.format == NftFormat::kJson ? render_json(rs) : render_nft(rs);
  };
  size_t total = ruleset.element_count();
  size_t jobs = std::max<size_t>(1, options.jobs);
  size_t max_elements = total == 0 ? 1 : (total + jobs - 1) / jobs;
  // Outside root, netlink's buffers limit a batch (see nft_check_ruleset in nft.h).
  if (::geteuid() != 0) max_elements = std::min(max_elements, kRootlessBatchElements);
  if (options.max_elements > 0) max_elements = std::min(max_elements, options.max_elements);
  if (max_elements >= total) return nft_check_buffer(render(ruleset), options.format);

  auto parts = batches(ruleset, max_elements);
  std::vector<Running> running;
  std::optional<core::Error> error;
  bool refused = false;
  for (size_t next = 0; next < parts.size() || !running.empty();) {
    while (!error && next < parts.size() && running.size() < jobs) {
      auto started = start_check({}, render(parts[next++]), options.format);
      if (!started) {
        error = started.error();
        break;
      }
      running.push_back(std::move(*started));
    }
    if (running.empty()) break;
    // Every child started is waited for, even after an error.
    auto check = finish_check(std::move(running.front()), "<batch>");
    running.erase(running.begin());
    if (!check && !error) error = check.error();
    refused = refused || (check && !check->accepted);
  }
  if (error) return tl::unexpected(*error);
  if (!refused) {
    NftCheck ok;
    ok.accepted = true;
    return ok;
  }
  // Positions in a batch mean nothing to a reader: check the whole ruleset to report them.
  return nft_check_buffer(render(ruleset), options.format);
}

}  // namespace vigie::netpolicy
