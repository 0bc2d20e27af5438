#include "app_context.h"

#include <fmt/format.h>

#include <fstream>

#include "vigie/core/home.h"
#include "vigie/core/log.h"
#include "vigie/demo_data.h"
#include "vigie/inventory/import.h"

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
  core::log_event(core::LogLevel::kInfo, "demo.loaded",
                  {{"devices", std::to_string(result.summary.created)}, {"file", path.string()}});
  return result.summary.created;
}

}  // namespace vigie::apps
