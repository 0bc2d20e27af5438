// vigied: the Vigie daemon. It serves the HTTPS API (health, status, inventory) on the
// embedded defaults (SQLite in the home, the demo hospital loaded on first start) and runs the
// periodic jobs of daemon_jobs.h: Vigie's own backups, their verification and restore tests,
// the disaster-recovery export, the alerts and their notices. Beside them, on a port of its own,
// the remote-service broker (docs/remote.md); `--broker-only` runs the broker alone (a DMZ host).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app_context.h"
#include "daemon_jobs.h"
#include "remote_settings.h"
#include "vigie/api/server.h"
#include "vigie/api/tls_identity.h"
#include "vigie/core/log.h"
#include "vigie/core/time.h"
#include "vigie/notify/settings.h"
#include "vigie/phi/key.h"
#include "vigie/phi/outbound.h"
#include "vigie/remote/broker.h"
#include "vigie/remote/pki.h"
#include "vigie/scheduler/scheduler.h"
#include "vigie/store/pool.h"

namespace {

std::string host_of(const std::string& listen) {
  return listen.find(':') != std::string::npos ? "[" + listen + "]" : listen;
}

// The broker on its own store connections: its CA and certificate made when missing.
vigie::core::Result<std::unique_ptr<vigie::remote::Broker>> start_broker(
    const vigie::apps::AppContext& ctx, std::optional<std::uint16_t> port,
    std::unique_ptr<vigie::store::StorePool>& stores) {
  using namespace vigie;
  const auto& c = ctx.config;
  remote::BrokerOptions o;
  o.listen = c.remote_broker_listen;
  o.port = port.value_or(static_cast<std::uint16_t>(c.remote_broker_port));
  o.ca_dir = ctx.home / c.remote_ca_dir;
  o.cert = ctx.home / c.remote_broker_cert;
  o.key = ctx.home / c.remote_broker_key;
  o.stream_window = static_cast<std::uint32_t>(c.remote_stream_window);
  o.max_streams = static_cast<std::size_t>(c.remote_max_streams);
  o.max_queue_bytes = c.remote_max_queue_bytes > 0
                          ? static_cast<std::size_t>(c.remote_max_queue_bytes)
                          : o.max_streams * o.stream_window + (std::size_t{1} << 20);
  o.idle = std::chrono::seconds(c.remote_idle_seconds);
  o.grant_check = std::chrono::seconds(c.remote_grant_check_seconds);
  o.connector_cert_days = static_cast<int>(c.remote_connector_cert_days);
  o.engineer_bearer_tokens = c.remote_engineer_bearer_tokens;
  o.session_check = std::chrono::milliseconds(c.remote_session_check_ms);
  auto sessions = apps::session_policy(c);
  if (!sessions) return tl::unexpected(sessions.error());
  o.sessions = std::move(*sessions);
  o.logins = apps::login_policy(c);
  o.transfers = apps::transfer_area(c, ctx.home);
  auto phi_key = phi::load_or_create_key(ctx.home);
  if (!phi_key) return tl::unexpected(phi_key.error());
  o.phi_filter = std::make_shared<const phi::OutboundFilter>(*phi_key, phi::FilterConfig{});
  auto notify_settings = notify::Settings::from(c, ctx.home);
  if (!notify_settings) return tl::unexpected(notify_settings.error());
  if (notify_settings->smtp || notify_settings->syslog) {
    static const core::SystemClock kNoticeClock;
    auto channels = std::make_shared<notify::ConfiguredChannels>(*notify_settings, kNoticeClock);
    auto notice_store = store::Store::open(store::resolve_url(c.store_url, ctx.home));
    if (!notice_store) return tl::unexpected(notice_store.error());
    std::shared_ptr<store::Store> connection(std::move(*notice_store));
    o.deliver_notices = [channels, connection, retry = notify_settings->retry] {
      auto report = notify::deliver_pending(*connection, channels->view(), core::utc_now(), retry);
      if (!report) {
        core::log_event(core::LogLevel::kWarn, "broker.notices_failed",
                        {{"reason", report.error().to_string()}});
      }
    };
  }
  VIGIE_TRY(remote::ensure_ca(o.ca_dir));
  VIGIE_TRY(remote::ensure_server_cert(o.ca_dir, o.cert, o.key, c.remote_broker_names,
                                       static_cast<int>(c.remote_broker_cert_days)));
  auto pool = store::StorePool::open(store::resolve_url(c.store_url, ctx.home), o.workers);
  if (!pool) return tl::unexpected(pool.error());
  stores = std::move(*pool);
  return remote::Broker::create(o, *stores);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigie;
  CLI::App app{"vigied: the Vigie daemon (HTTPS API, console, remote-service broker)"};
  std::optional<std::string> home;
  std::optional<std::string> listen;
  std::optional<std::uint16_t> port;
  app.add_option("--home", home, "Data directory (default: $VIGIE_HOME, ~/.local/share/vigie)");
  app.add_option("--listen", listen, "Address to listen on (overrides server.listen)");
  app.add_option("--port", port, "Port to listen on, 0 for any (overrides server.port)");
  std::optional<std::uint16_t> broker_port;
  bool no_broker = false;
  bool broker_only = false;
  app.add_option("--broker-port", broker_port,
                 "Broker port, 0 for any (overrides remote.broker_port)");
  app.add_flag("--no-broker", no_broker, "Do not run the remote-service broker");
  app.add_flag("--broker-only", broker_only, "Run only the broker (no API, no periodic jobs)");
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
  std::unique_ptr<store::StorePool> broker_stores;
  std::unique_ptr<remote::Broker> broker;
  if ((ctx->config.remote_broker_enabled && !no_broker) || broker_only) {
    auto made = start_broker(*ctx, broker_port, broker_stores);
    if (!made) {
      std::cerr << "vigied: " << made.error().to_string() << "\n";
      return core::exit_code(made.error());
    }
    broker = std::move(*made);
    std::printf("vigied broker on wss://%s:%u\n", host_of(ctx->config.remote_broker_listen).c_str(),
                broker->port());
    std::fflush(stdout);
  }
  if (broker_only) {
    ctx->store.reset();
    core::log_event(core::LogLevel::kInfo, "broker.started",
                    {{"port", std::to_string(broker->port())}});
    auto st = broker->run(true);
    return st ? 0 : core::exit_code(st.error());
  }
  std::thread broker_thread;
  if (broker) broker_thread = std::thread([&broker] { (void)broker->run(false); });
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
  std::printf("vigied listening on https://%s:%u\n", host_of(options.listen).c_str(),
              (*server)->port());
  std::fflush(stdout);
  core::log_event(core::LogLevel::kInfo, "server.started",
                  {{"home", ctx->home.string()}, {"port", std::to_string((*server)->port())}});
  auto st = (*server)->run();
  jobs.stop();  // a job in progress ends first: a backup is never cut short by a clean stop
  if (broker) {
    broker->stop();
    broker_thread.join();
  }
  core::log_event(core::LogLevel::kInfo, "server.stopped");
  return st ? 0 : core::exit_code(st.error());
}
