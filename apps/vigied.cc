// vigied: the Vigie daemon. It serves the HTTPS API (health, status, inventory) on the
// embedded defaults (SQLite in the home, the demo hospital loaded on first start) and runs the
// periodic jobs of daemon_jobs.h: Vigie's own backups, their verification and restore tests,
// the disaster-recovery export, the alerts and their notices.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app_context.h"
#include "daemon_jobs.h"
#include "vigie/api/server.h"
#include "vigie/api/tls_identity.h"
#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/scheduler/scheduler.h"
#include "vigie/store/pool.h"

int main(int argc, char** argv) {
  using namespace vigie;
  CLI::App app{"vigied: the Vigie daemon (HTTPS API, console, remote-service broker)"};
  std::optional<std::string> home;
  std::optional<std::string> listen;
  std::optional<std::uint16_t> port;
  app.add_option("--home", home, "Data directory (default: $VIGIE_HOME, ~/.local/share/vigie)");
  app.add_option("--listen", listen, "Address to listen on (overrides server.listen)");
  app.add_option("--port", port, "Port to listen on, 0 for any (overrides server.port)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto ctx = apps::open_home(home);
  if (!ctx) {
    std::cerr << "vigied: " << ctx.error().to_string() << "\n";
    return core::exit_code(ctx.error());
  }
  if (ctx->config.demo_load_on_first_start) {
    auto loaded = apps::load_demo_if_empty(*ctx);
    if (!loaded) {
      std::cerr << "vigied: demo hospital: " << loaded.error().to_string() << "\n";
      return core::exit_code(loaded.error());
    }
  }
  // The periodic jobs are checked before anything listens: a configuration they cannot use
  // stops vigied at start, not at every run.
  static const core::SystemClock kClock;
  auto job_list = apps::daemon_jobs(ctx->config, ctx->home, kClock);
  if (!job_list) {
    std::cerr << "vigied: " << job_list.error().to_string() << "\n";
    return core::exit_code(job_list.error());
  }
  api::ServerOptions options;
  options.listen = listen.value_or(ctx->config.server_listen);
  options.port = port.value_or(static_cast<std::uint16_t>(ctx->config.server_port));
  options.tls_cert = ctx->home / ctx->config.server_tls_cert;
  options.tls_key = ctx->home / ctx->config.server_tls_key;
  if (auto made = api::ensure_tls_identity(options.tls_cert, options.tls_key); !made) {
    std::cerr << "vigied: " << made.error().to_string() << "\n";
    return core::exit_code(made.error());
  }
  auto stores =
      store::StorePool::open(store::resolve_url(ctx->config.store_url, ctx->home), options.workers);
  if (!stores) {
    std::cerr << "vigied: " << stores.error().to_string() << "\n";
    return core::exit_code(stores.error());
  }
  ctx->store.reset();  // the workers' connections take over
  auto server = api::Server::create(options, **stores);
  if (!server) {
    std::cerr << "vigied: " << server.error().to_string() << "\n";
    return core::exit_code(server.error());
  }
  // Periodic work on a connection of its own, started once the API is up.
  auto job_store = store::Store::open(store::resolve_url(ctx->config.store_url, ctx->home));
  if (!job_store) {
    std::cerr << "vigied: " << job_store.error().to_string() << "\n";
    return core::exit_code(job_store.error());
  }
  scheduler::Scheduler jobs(**job_store, kClock, std::move(*job_list));
  jobs.start(std::chrono::seconds(15));
  // The one line on stdout: scripts and tests read the port from it.
  std::string host =
      options.listen.find(':') != std::string::npos ? "[" + options.listen + "]" : options.listen;
  std::printf("vigied listening on https://%s:%u\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  core::log_event(core::LogLevel::kInfo, "server.started",
                  {{"home", ctx->home.string()}, {"port", std::to_string((*server)->port())}});
  auto st = (*server)->run();
  jobs.stop();  // a job in progress ends first: a backup is never cut short by a clean stop
  core::log_event(core::LogLevel::kInfo, "server.stopped");
  return st ? 0 : core::exit_code(st.error());
}
