// The conformance side of the command line: `vigie conformance FILE` checks an nmap scan, a
// Zeek conn.log or a capture against the allow-list, stores the run and its findings, and
// prints them; `--propose` lists candidate intents for a person to review.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class ConformanceCommands {
 public:
  explicit ConformanceCommands(CLI::App& app);

  // The exit code of the command given, or nullopt when it is not `conformance`.
  std::optional<int> run(AppContext& ctx) const;

 private:
  CLI::App* conformance_ = nullptr;
  std::string file_;
  std::string format_;
  bool json_ = false;
  bool propose_ = false;
};

}  // namespace vigie::apps
