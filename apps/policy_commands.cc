#include "policy_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/netpolicy/nft.h"

namespace vigie::apps {
namespace {

using nlohmann::json;
namespace np = netpolicy;

json diagnostics_json(const np::NftCheck& check) {
  json out = json::array();
  for (const auto& d : check.diagnostics) {
    out.push_back({{"file", d.file},
                   {"line", d.line},
                   {"column", d.column},
                   {"column_end", d.column_end},
                   {"severity", d.severity},
                   {"message", d.message}});
  }
  return out;
}

int check(const std::string& file, bool as_json) {
  auto result = np::nft_check_file(file);
  if (!result) return fail_with(result.error());
  if (as_json) {
    std::cout << json{{"file", file},
                      {"accepted", result->accepted},
                      {"diagnostics", diagnostics_json(*result)}}
                     .dump(2)
              << "\n";
    return result->accepted ? 0 : 1;
  }
  for (const auto& d : result->diagnostics) std::cout << d.to_string() << "\n";
  // nft messages without a recognisable position are still shown, as nft printed them.
  if (!result->accepted && result->diagnostics.empty()) std::cout << result->output;
  std::cout << fmt::format(
      "{}: {}\n", file,
      result->accepted ? "accepted by nft -c (scratch network namespace)" : "refused by nft -c");
  return result->accepted ? 0 : 1;
}

// The generator checks what it wrote: a refusal here is a bug of the generator, not the input.
int self_check(const np::NftRuleset& ruleset, np::NftFormat format) {
  size_t jobs = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  auto result = np::nft_check_ruleset(ruleset, {format, jobs, 0});
  if (!result) {
    std::cerr << "vigie: warning: the ruleset was not checked with nft: " << result.error().message
              << "\n";
    return 0;
  }
  if (result->accepted) return 0;
  std::cerr << "vigie: nft refused the generated ruleset (please report it):\n" << result->output;
  return 1;
}

int generate(AppContext& ctx, const std::string& zone, const std::string& format,
             const std::string& output, bool no_check) {
  auto generated = np::generate_zone_ruleset(*ctx.store, zone);
  if (!generated) return fail_with(generated.error());
  for (const auto& u : generated->unbound) std::cerr << "vigie: warning: unbound: " << u << "\n";
  for (const auto& w : generated->ruleset.warnings) std::cerr << "vigie: warning: " << w << "\n";
  bool as_json = format == "json";
  std::string rendered =
      as_json ? np::render_json(generated->ruleset) : np::render_nft(generated->ruleset);
  if (!no_check) {
    auto format = as_json ? np::NftFormat::kJson : np::NftFormat::kText;
    if (int rc = self_check(generated->ruleset, format)) {
      return rc;
    }
  }
  if (output.empty()) {
    std::cout << rendered;
  } else if (auto written = core::write_file_durably(output, rendered, 0644); !written) {
    return fail_with(written.error());
  }
  std::cerr << fmt::format("vigie: zone {}: {} allow-list elements in {} maps, table inet {}\n",
                           generated->ruleset.zone_label, generated->ruleset.element_count(),
                           generated->ruleset.maps.size(), generated->ruleset.table);
  return 0;
}

}  // namespace

PolicyCommands::PolicyCommands(CLI::App& app) {
  auto* policy = app.add_subcommand("policy", "nftables rulesets from the allow-list");
  policy->require_subcommand(1);
  generate_ = policy->add_subcommand("generate", "A zone's nftables ruleset (checked by nft -c)");
  generate_->add_option("--zone", zone_, "Zone name, or SITE/ZONE")->required();
  generate_->add_option("--format", format_, "nft (default) or json")
      ->check(CLI::IsMember({"nft", "json"}));
  generate_->add_option("--out", output_, "Write to FILE instead of stdout");
  generate_->add_flag("--no-check", no_check_, "Do not check the ruleset with nft -c");
  check_ = policy->add_subcommand("check", "Check an .nft or nftables JSON file with nft -c");
  check_->add_option("FILE", file_, "The ruleset (.nft text, or JSON)")->required();
  check_->add_flag("--json", json_, "The outcome as JSON on stdout");
}

std::optional<int> PolicyCommands::run_without_home() const {
  if (check_->parsed()) return check(file_, json_);
  return std::nullopt;
}

std::optional<int> PolicyCommands::run(AppContext& ctx) const {
  if (generate_->parsed()) return generate(ctx, zone_, format_, output_, no_check_);
  return std::nullopt;
}

}  // namespace vigie::apps
