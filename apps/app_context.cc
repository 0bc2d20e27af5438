#include "app_context.h"

#include <fmt/format.h>

#include <fstream>

#include "vigie/advisory/findings.h"
#include "vigie/advisory/notices.h"
#include "vigie/core/file.h"
#include "vigie/core/home.h"
#include "vigie/core/log.h"
#include "vigie/demo_data.h"
#include "vigie/inventory/import.h"
#include "vigie/netpolicy/firewall.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::apps {

core::Result<AppContext> open_home(const std::optional<std::string>& home_flag) {
  AppContext ctx;
  ctx.home = core::resolve_home(home_flag);
  auto config = core::load_config(core::config_path(ctx.home));
  if (!config) return tl::unexpected(config.error());
  ctx.config = *config;
  core::init_logging(ctx.config.log_level, ctx.config.log_format);
  auto store = store::Store::open(store::resolve_url(ctx.config.store_url, ctx.home));
  if (!store) return tl::unexpected(store.error());
  ctx.store = std::move(*store);
  return ctx;
}

namespace {

// A letter the demo hospital received, with the advisory it carries.
struct DemoLetter {
  std::string_view (*csaf)();
  std::string_view (*letter)();
  const char* file;  // the letter's name in <home>/demo/
  advisory::NoticeInput notice;
};

std::vector<DemoLetter> demo_letters() {
  auto notice = [](const char* reference, const char* advisory, const char* received,
                   const char* channel, std::int64_t response_days) {
    advisory::NoticeInput in;
    in.reference = reference;
    in.advisory = advisory;
    in.received_on = received;
    in.channel = channel;
    in.forwarded_to = "biomedical engineering, IT security officer";
    in.response_days = response_days;
    return in;
  };
  return {
      {demo::ax047_csaf, demo::ax047_letter, "AX047-17-S.txt",
       notice("AX047/17/S", "AX047/17/S", "2017-07-10", "registered letter", 0)},
      {demo::mi510_csaf, demo::mi510_letter, "MI-510-17-S.txt",
       notice("MI 510 17 S", "MI 510 17 S", "2017-05-22", "registered letter", 0)},
      {demo::dxr009_csaf, demo::dxr009_letter, "2023-PD-DXR-009.txt",
       notice("2023-PD-DXR-009", "2023-PD-DXR-009", "2023-09-18", "registered letter", 30)},
  };
}

// The letters of the demo: their advisories imported and assessed, the notices recorded with
// the letter's text as their document.
core::Status load_demo_letters(AppContext& ctx) {
  static const core::SystemClock kClock;
  advisory::Actor actor{"demo", kClock, advisory::DeadlinePolicy::from(ctx.config)};
  for (auto& l : demo_letters()) {
    auto imported = advisory::import_advisory(*ctx.store, l.csaf(), l.file, {}, actor);
    if (!imported) return tl::unexpected(imported.error());
    std::filesystem::path letter = ctx.home / "demo" / l.file;
    VIGIE_TRY(core::write_file_durably(letter, l.letter(), 0644));
    l.notice.document = letter;
    auto added = advisory::add_notice(*ctx.store, ctx.home, l.notice, actor);
    if (!added) return tl::unexpected(added.error());
  }
  return {};
}

// The demo's network: its inter-zone firewall and the servers that play each role, written
// into the home first so that errors point to a real file.
core::Status load_demo_network(AppContext& ctx) {
  const auto firewall = ctx.home / "demo" / "firewall.csv";
  const auto roles = ctx.home / "demo" / "roles.csv";
  VIGIE_TRY(core::write_file_durably(firewall, demo::firewall_csv(), 0644));
  VIGIE_TRY(core::write_file_durably(roles, demo::roles_csv(), 0644));
  auto rules = netpolicy::read_rules_csv(firewall, "coeur");
  if (!rules) return tl::unexpected(rules.error());
  const netpolicy::Actor actor{"demo", "init", {}};
  auto tx = store::Transaction::begin(*ctx.store);
  if (!tx) return tl::unexpected(tx.error());
  VIGIE_TRY(netpolicy::save_ruleset(*ctx.store, *rules, firewall.string(), actor));
  auto bound = netpolicy::import_roles_csv(*ctx.store, roles, actor);
  if (!bound) return tl::unexpected(bound.error());
  return tx->commit();
}

}  // namespace

core::Result<size_t> load_demo_if_empty(AppContext& ctx) {
  auto count = ctx.store->query_int("SELECT COUNT(*) FROM devices");
  if (!count) return tl::unexpected(count.error());
  if (*count > 0) return 0;
  // The demo file is written into the home so that import errors point to a real file.
  std::filesystem::path path = ctx.home / "demo" / "devices.csv";
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    auto csv = demo::devices_csv();
    out.write(csv.data(), static_cast<std::streamsize>(csv.size()));
    if (!out) return core::fail(core::ErrorCode::kIo, "cannot write the demo inventory", path);
  }
  auto result = inventory::import_devices(*ctx.store, path, inventory::ImportFormat::kCsv, {});
  if (!result.ok()) return tl::unexpected(result.errors.front());
  VIGIE_TRY(load_demo_letters(ctx));
  VIGIE_TRY(load_demo_network(ctx));
  core::log_event(core::LogLevel::kInfo, "demo.loaded",
                  {{"devices", std::to_string(result.summary.created)}, {"file", path.string()}});
  return result.summary.created;
}

}  // namespace vigie::apps
