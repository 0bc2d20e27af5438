// The stored side of generation: a zone's allow-list from the store, then build_ruleset.
#include "vigie/netpolicy/nft.h"
#include "vigie/netpolicy/policy_store.h"

namespace vigie::netpolicy {

Result<ZoneRuleset> generate_zone_ruleset(store::Store& store, std::string_view zone) {
  auto found = find_zone(store, zone);
  if (!found) return tl::unexpected(found.error());
  auto allow = load_allow_list(store, AllowListScope{found->id});
  if (!allow) return tl::unexpected(allow.error());
  auto profiles = load_profiles(store);
  if (!profiles) return tl::unexpected(profiles.error());
  NftInput input{*found, std::move(allow->entries), {}};
  for (const auto& p : *profiles) input.profile_names[p.id] = p.name;
  auto ruleset = build_ruleset(input);
  if (!ruleset) return tl::unexpected(ruleset.error());
  return ZoneRuleset{std::move(*ruleset), std::move(allow->unbound)};
}

}  // namespace vigie::netpolicy
