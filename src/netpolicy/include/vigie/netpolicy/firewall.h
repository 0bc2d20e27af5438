// The hospital's existing firewall rules between zones, read from a documented CSV format
// (docs/netpolicy.md) or from nftables' own JSON (`nft -j list ruleset`), stored per ruleset
// and evaluated in order by the exposure analysis.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/model.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {

struct RuleSet {
  std::string name;
  std::vector<FirewallRule> rules;  // in evaluation order; positions 1..n
  std::vector<std::string> warnings;
};

// CSV with a header: ruleset, position (optional: file order otherwise), name, source,
// destination, protocol, ports, action. Endpoints: "any", or '|'-separated zone names
// ("Site/Zone" or "Zone") and prefixes. `ruleset` names the rules of rows without one.
Result<RuleSet> read_rules_csv(const std::filesystem::path& path, std::string_view ruleset);

struct NftImportOptions {
  std::string ruleset;                            // the name to store the rules under
  std::map<std::string, std::string> interfaces;  // iifname/oifname -> zone ("Site/Zone")
  bool skip_unsupported = false;  // skip rules Vigie cannot model (warned) instead of refusing
};
// The forward-hook base chains of an `nft -j list ruleset` document, jumps and gotos inlined,
// named sets expanded, the chain policy as the last rule. Errors name the JSON pointer.
Result<RuleSet> read_rules_nft_json(std::string_view json, std::string_view file_name,
                                    const NftImportOptions& options);

// Replaces the stored ruleset of the same name (all or nothing, inside the caller's
// transaction). Zone names must exist: refused otherwise, naming the rule.
Status save_ruleset(store::Store& store, const RuleSet& ruleset, std::string_view source,
                    const Actor& actor);
// Every stored rule: rulesets in name order, rules in position order.
Result<std::vector<FirewallRule>> load_rules(store::Store& store);

// "any", or the zones and prefixes joined by '|'.
std::string format_endpoint(const Endpoint& endpoint);
Result<Endpoint> parse_endpoint(std::string_view text);

}  // namespace vigie::netpolicy
