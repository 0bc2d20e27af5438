// Manufacturer Usage Descriptions (RFC 8520, with the ACLs of RFC 8519) as device
// communication profiles: read a MUD file into a Profile (the legacy draft syntax accepted
// with a warning naming each legacy construct), and write a Profile as a MUD file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/model.h"

namespace vigie::netpolicy {

struct MudImport {
  Profile profile;
  // "/ietf-access-control-list:access-lists: legacy draft name 'access-lists' (RFC 8520:
  // 'acls')", one per legacy construct, and one per ACE that is not an intent (drop).
  std::vector<std::string> warnings;
};

// Reads a MUD file. `file` names it in errors ("file:/json/pointer: reason", or
// "file:line:column" for malformed JSON) and in each intent's provenance (the JSON pointer of
// its ACE). Both halves of a flow (the from-device and the to-device ACE) give one intent.
// Refused: match conditions a profile cannot express (operator 'neq', TCP flags, Ethernet),
// documents over 4 MiB or nested deeper than 32 levels.
Result<MudImport> read_mud(std::string_view text, std::string_view file);

// The profile as an RFC 8520 MUD file (mud-version 1), deterministic for the same profile and
// `last_update` (RFC 3339). A site role has no word in MUD: it is written as the controller
// "urn:vigie:role:<role>" and read back as the role. Purpose, cleartext flag and direction of
// each intent travel in the "vigie-intents" extension so that reading the file back gives the
// same intents. Refused: an intent with ports but neither TCP nor UDP.
Result<std::string> write_mud(const Profile& profile, std::string_view last_update);

// The mud-url a profile is exported with: its own, else "https://mud.vigie.invalid/<name>".
std::string mud_url_of(const Profile& profile);

}  // namespace vigie::netpolicy
