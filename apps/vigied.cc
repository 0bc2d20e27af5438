// vigied: the Vigie daemon. For now it serves the HTTPS API (health, status, inventory) on
// the embedded defaults: SQLite in the home, the demo hospital loaded on first start.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app_context.h"
#include "vigie/api/server.h"
#include "vigie/api/tls_identity.h"
#include "vigie/core/log.h"
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
  // The one line on stdout: scripts and tests read the port from it.
  std::string host =
      options.listen.find(':') != std::string::npos ? "[" + options.listen + "]" : options.listen;
  std::printf("vigied listening on https://%s:%u\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  core::log_event(core::LogLevel::kInfo, "server.started",
                  {{"home", ctx->home.string()}, {"port", std::to_string((*server)->port())}});
  auto st = (*server)->run();
  core::log_event(core::LogLevel::kInfo, "server.stopped");
  return st ? 0 : core::exit_code(st.error());
}
