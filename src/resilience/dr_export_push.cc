// Pushing archives to the strategic PCs with OpenSSH's sftp: a dedicated key, batch mode, and a
// known_hosts file Vigie writes from the host keys registered with each PC -- host keys are
// checked strictly, never learnt on first use.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "dr_export_internal.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn needs it

namespace vigie::resilience::internal {
namespace {

using core::ErrorCode;

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// The last meaningful line of the tools' output, for people (no batch echo lines).
std::string summary_of(const std::string& output) {
  std::string last;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string_view line(output.data() + start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty() && !line.starts_with("sftp>")) last = std::string(line);
    start = end + 1;
  }
  return last.empty() ? "no output" : last;
}

PushOutcome classify(const std::string& output) {
  if (contains(output, "Host key verification failed") ||
      contains(output, "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
      contains(output, "No ED25519 host key is known") || contains(output, "host key is known")) {
    return PushOutcome::kUnverifiable;
  }
  if (contains(output, "Connection refused") || contains(output, "timed out") ||
      contains(output, "No route to host") || contains(output, "Could not resolve") ||
      contains(output, "Network is unreachable") || contains(output, "Connection closed") ||
      contains(output, "Connection reset")) {
    return PushOutcome::kUnreachable;
  }
  return PushOutcome::kFailed;
}

std::vector<std::string> sftp_command(const PushRequest& r, const std::filesystem::path& batch) {
  const ExportHost& h = *r.host;
  const bool ipv6 = h.ssh_host.find(':') != std::string::npos;
  // Not -q: it would hide ssh's diagnostics (host key refused, connection refused) we classify.
  return {"sftp",
          "-b",
          batch.string(),
          "-i",
          r.ssh_key.string(),
          "-P",
          std::to_string(h.ssh_port),
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=yes",
          "-o",
          "UserKnownHostsFile=" + r.known_hosts.string(),
          "-o",
          "GlobalKnownHostsFile=/dev/null",
          "-o",
          "IdentitiesOnly=yes",
          "-o",
          "PasswordAuthentication=no",
          "-o",
          "KbdInteractiveAuthentication=no",
          "-o",
          fmt::format("ConnectTimeout={}", r.connect_timeout_seconds),
          "-o",
          "ServerAliveInterval=10",
          "-o",
          "ServerAliveCountMax=3",
          "-o",
          "User=" + h.ssh_user,
          ipv6 ? "[" + h.ssh_host + "]" : h.ssh_host};
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv) {
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    return core::fail(ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args.front(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return core::fail(ErrorCode::kUnavailable,
                      fmt::format("cannot run {}: {}", argv.front(), std::strerror(spawned)));
  }
  ProcessResult out;
  std::array<char, 4096> buffer{};
  while (true) {
    const ssize_t n = ::read(pipe_fds[0], buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.output.append(buffer.data(), static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return core::fail(ErrorCode::kIo, "waitpid failed");
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

std::string archive_file_name(std::string_view generation) {
  return fmt::format("vigie-dr-{}.vdr", generation);
}

bool is_archive_file_name(std::string_view name) {
  constexpr std::string_view kPrefix = "vigie-dr-";
  constexpr std::string_view kSuffix = ".vdr";
  if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return false;
  }
  std::string_view middle =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  return middle.find_first_not_of("0123456789TZ.") == std::string_view::npos;
}

std::string known_hosts_text(const ExportHost& h) {
  const std::string name = h.ssh_port == 22 && h.ssh_host.find(':') == std::string::npos
                               ? h.ssh_host
                               : fmt::format("[{}]:{}", h.ssh_host, h.ssh_port);
  return fmt::format("{} {}\n", name, h.ssh_host_key);
}

PushResult push_archive(const PushRequest& r) {
  PushResult result;
  result.host = r.host->name;
  const std::string name = r.archive.filename().string();
  const std::string dir = r.host->remote_dir;
  const auto readback = r.scratch / ("readback-" + core::random_hex(4));
  const auto batch = r.scratch / ("batch-" + core::random_hex(4));
  // "-mkdir": a directory that already exists is not an error. Paths are checked at
  // registration (no spaces, quotes or ".."), so they need no quoting here.
  const std::string commands = fmt::format(
      "-mkdir {0}\nput {1} {0}/{2}.part\nrename {0}/{2}.part {0}/{2}\n"
      "get {0}/{2} {3}\nls -1 {0}\n",
      dir, r.archive.string(), name, readback.string());
  if (auto st = core::write_file_durably(batch, commands, 0600); !st) {
    result.detail = st.error().to_string();
    return result;
  }
  auto ran = run_process(sftp_command(r, batch));
  std::error_code ec;
  std::filesystem::remove(batch, ec);
  if (!ran) {
    result.detail = ran.error().to_string();
    return result;
  }
  if (ran->exit_code != 0) {
    std::filesystem::remove(readback, ec);
    result.outcome = classify(ran->output);
    result.detail = summary_of(ran->output);
    return result;
  }
  auto copy = core::read_file(readback);
  std::filesystem::remove(readback, ec);
  if (!copy || core::sha256_hex(*copy) != r.archive_sha256) {
    result.outcome = PushOutcome::kUnverifiable;
    result.detail = "the copy read back from the PC does not match the archive sent";
    return result;
  }
  // Rotation: the PC's generations, oldest first; names sort by time.
  std::vector<std::string> present;
  std::vector<std::string> leftovers;
  size_t start = 0;
  const std::string& out = ran->output;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    std::string base = line.substr(line.rfind('/') == std::string::npos ? 0 : line.rfind('/') + 1);
    if (is_archive_file_name(base)) present.push_back(base);
    // An upload cut short (the server killed, the network lost) leaves NAME.part behind.
    constexpr std::string_view kPart = ".part";
    if (base.ends_with(kPart) && is_archive_file_name(base.substr(0, base.size() - kPart.size()))) {
      leftovers.push_back(base);
    }
  }
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  const size_t keep = static_cast<size_t>(std::max(1, r.generations_kept));
  std::string removals;
  for (size_t i = 0; i + keep < present.size(); ++i) {
    if (present[i] == name) continue;  // never the one just sent
    removals += fmt::format("rm {}/{}\n", dir, present[i]);
  }
  for (const auto& part : leftovers) removals += fmt::format("-rm {}/{}\n", dir, part);
  result.generations_kept = static_cast<int>(std::min(present.size(), keep));
  if (!removals.empty()) {
    if (auto st = core::write_file_durably(batch, removals, 0600); !st) {
      result.outcome = PushOutcome::kOk;
      result.detail =
          fmt::format("{} pushed and read back, but old generations were not removed: {}", name,
                      st.error().to_string());
      return result;
    }
    auto removed = run_process(sftp_command(r, batch));
    std::filesystem::remove(batch, ec);
    if (!removed || removed->exit_code != 0) {
      // The archive is there and checked: the push counts; the warning is kept in the detail.
      result.outcome = PushOutcome::kOk;
      result.detail =
          fmt::format("{} pushed and read back, but old generations were not removed: {}", name,
                      removed ? summary_of(removed->output) : removed.error().to_string());
      return result;
    }
  }
  result.outcome = PushOutcome::kOk;
  result.detail = fmt::format("{} pushed and read back; {} generation(s) on the PC", name,
                              result.generations_kept);
  return result;
}

}  // namespace vigie::resilience::internal
