// Running a helper program (restic, pg_dump, pg_restore) as a child process: no shell, an
// explicit environment (secrets travel as file paths or environment variables, never on the
// command line that `ps` shows), stdout read line by line, stderr kept for the error message.
// Private to the resilience module.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::resilience::internal {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "NAME=value" added to the few variables passed through
  std::filesystem::path cwd;      // empty: the caller's
  // Each line of stdout, without its newline, as it arrives.
  std::function<void(std::string_view)> on_stdout_line;
};

struct ChildExit {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string stderr_text;  // the last 64 KiB of stderr
};

// Runs the child to its end. kUnavailable when the program cannot be started. The child gets
// SIGINT (its clean stop: restic removes its lock) if this thread dies first.
core::Result<ChildExit> run_child(const ChildSpec& spec);

// The environment variables a child inherits from Vigie's own (PATH, HOME, TMPDIR, LANG and
// the proxy settings); everything else, e.g. a RESTIC_PASSWORD set by hand, is not passed.
std::vector<std::string> inherited_environment();

}  // namespace vigie::resilience::internal
