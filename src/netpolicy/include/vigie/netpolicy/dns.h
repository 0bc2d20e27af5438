// DNS names a site binds to roles ("pacs.chu.example"), resolved with their TTLs and
// re-resolved when they expire. Every address a name has had is kept with when it was seen,
// and each change of a name's addresses is audited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/store/store.h"

namespace vigie::netpolicy {

struct ResolvedAddress {
  IpAddress address;
  std::uint32_t ttl = 0;  // seconds
};

struct ResolverOptions {
  // "127.0.0.1:5353"; the system's resolv.conf servers when empty.
  std::string server;
  int timeout_seconds = 2;
  int attempts = 2;
};

// A and AAAA records of `name`, with their TTLs. An unknown name is kNotFound; a server that
// does not answer is kUnavailable.
Result<std::vector<ResolvedAddress>> resolve_name(std::string_view name,
                                                  const ResolverOptions& options);

struct ResolveOutcome {
  std::string role;
  std::string name;
  std::vector<std::string> added;
  std::vector<std::string> removed;  // addresses of the last resolution not seen any more
  std::vector<std::string> current;
  std::string error;  // why the name could not be resolved (its addresses are kept)
};

// Resolves the DNS names bound at every site whose addresses expire before `actor.at` (all of
// them when `force`), stores what they resolve to and audits changes. Call inside a
// transaction.
Result<std::vector<ResolveOutcome>> resolve_roles(store::Store& store,
                                                  const ResolverOptions& options,
                                                  const Actor& actor, bool force);

}  // namespace vigie::netpolicy
