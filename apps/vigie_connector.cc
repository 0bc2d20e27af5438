// vigie-connector: runs next to the devices of one zone and opens only outbound connections,
// to the Vigie broker (TLS/WebSocket, port 443 by default, directly or through the hospital's
// HTTP proxy). `enroll` once with the code `vigie connectors add` printed, then `run` (the
// systemd unit dist/systemd/vigie-connector.service, or in the foreground); `status` shows
// its identity and its link.
#include <CLI/CLI.hpp>
#include <iostream>

#include "vigie/core/log.h"
#include "vigie/remote/connector.h"

int main(int argc, char** argv) {
  using namespace vigie;
  CLI::App app{"vigie-connector: the outbound-only link between a medical VLAN and Vigie"};
  app.require_subcommand(1);
  std::string dir = "/var/lib/vigie-connector";
  std::string broker;
  std::string code;
  std::string proxy;
  std::string level = "info";
  app.add_option("--log-level", level, "debug, info, warn or error");
  auto* enroll = app.add_subcommand("enroll", "Enroll once with a one-time code");
  enroll->add_option("--dir", dir, "State directory (default /var/lib/vigie-connector)");
  enroll->add_option("--broker", broker, "Broker URL, wss://host[:port] (port 443 by default)")
      ->required();
  enroll->add_option("--code", code, "Enrollment code from `vigie connectors add`")->required();
  enroll->add_option("--proxy", proxy, "HTTP proxy, http://[user:password@]host:port");
  auto* run = app.add_subcommand("run", "Connect and serve until SIGTERM (reconnects by itself)");
  run->add_option("--dir", dir, "State directory (default /var/lib/vigie-connector)");
  auto* status = app.add_subcommand("status", "Identity, certificate and link state");
  status->add_option("--dir", dir, "State directory (default /var/lib/vigie-connector)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  core::LogLevel log_level = core::LogLevel::kInfo;
  if (!core::parse_log_level(level, log_level)) {
    std::cerr << "vigie-connector: --log-level: expected debug, info, warn or error\n";
    return 2;
  }
  core::init_logging(log_level, core::LogFormat::kText);
  core::Status st;
  if (enroll->parsed()) {
    st = remote::enroll_connector(dir, broker, code, proxy);
    if (st)
      std::cout << "vigie-connector: enrolled; start it with: vigie-connector run --dir " << dir
                << "\n";
  } else if (run->parsed()) {
    st = remote::run_connector(dir);
  } else if (status->parsed()) {
    auto s = remote::connector_status(dir);
    if (s) std::cout << *s;
    st = s ? core::Status{} : core::Status(tl::unexpected(s.error()));
  }
  if (!st) {
    std::cerr << "vigie-connector: " << st.error().to_string() << "\n";
    return core::exit_code(st.error());
  }
  return 0;
}
