// The notify side of the command line: `vigie notify test` queues a test notice and delivers
// it at once (the way to check a relay, a whitelist or a syslog collector), `vigie notify
// outbox` lists the notices not yet delivered, `vigie notify deliver` sends what is due (what
// vigied does on its schedule; also for a cron job or a systemd timer).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class NotifyCommands {
 public:
  explicit NotifyCommands(CLI::App& app);

  // The exit code of the notify command given, or nullopt when it is none of them.
  std::optional<int> run(AppContext& ctx) const;

 private:
  int test(AppContext& ctx) const;
  int outbox(AppContext& ctx) const;
  int deliver(AppContext& ctx) const;

  CLI::App* test_ = nullptr;
  CLI::App* outbox_ = nullptr;
  CLI::App* deliver_ = nullptr;

  std::string email_;
  bool syslog_ = false;
  bool all_ = false;
  std::int64_t limit_ = 200;
  bool json_ = false;
};

}  // namespace vigie::apps
