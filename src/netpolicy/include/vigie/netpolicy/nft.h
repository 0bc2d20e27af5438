// nftables generation for a medical zone: the allow-list of the zone's devices becomes one
// `inet vigie_<zone>` table (default drop, conntrack first, named sets per peer role,
// concatenated verdict maps with a counter per element, rate-limited logging of drops),
// rendered as nftables JSON for libnftables / `nft -j -f` and as `.nft` text for review, both
// from the same in-memory ruleset. Each element's provenance (profile and intent) is a `#`
// note at the end of its line in the `.nft` view, not an nft comment: a comment per element
// would cost the firewall kernel memory and make `nft -c` half as slow again at 75,000
// elements, and Vigie itself names the entry behind each element (exposure, conformance). Generated
// rulesets are checked with the real `nft -c` inside a throw-away network namespace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/netpolicy/ip.h"
#include "vigie/netpolicy/model.h"

namespace vigie::store {
class Store;
}

namespace vigie::netpolicy {

// What one ruleset is generated from: the zone to protect, its allow-list and the names of the
// profiles the entries come from (for element comments; "profile N" when a name is missing).
struct NftInput {
  Zone zone;
  std::vector<AllowEntry> entries;
  std::map<std::int64_t, std::string> profile_names;
};

enum class NftFamily { kIpv4, kIpv6 };

// A named set of addresses: a role's peers (`role_pacs_v4`) or the zone itself (`zone_v4`).
// Prefixes are sorted and none contains another.
struct NftSet {
  std::string name;
  NftFamily family = NftFamily::kIpv4;
  std::vector<IpPrefix> elements;
  std::string comment;
};

// One element of a verdict map: the device's address, a protocol range (a single IANA number,
// or 0-255 for any protocol) and the responder's port range; always `accept`. Elements of one
// map never overlap, so each counter counts one thing; `comment` names the profile and intent
// of every entry the element stands for (the `.nft` view's note).
struct NftElement {
  IpAddress device;
  std::uint8_t protocol_first = 0;
  std::uint8_t protocol_last = 0;
  PortRange ports;
  std::string comment;

  [[nodiscard]] bool exact() const {
    return protocol_first == protocol_last && ports.first == ports.last;
  }
};

// A verdict map keyed on `device address . meta l4proto . th dport`, consulted by one rule of
// the forward chain that also matches the peer set (`peer_set` empty: any peer). Single
// values go to a hashed map, ranges to an interval map (`flags interval`, `ranged`).
struct NftMap {
  std::string name;
  NftFamily family = NftFamily::kIpv4;
  Direction direction = Direction::kToDevice;
  std::string peer_set;
  bool ranged = false;
  std::vector<NftElement> elements;
  std::string comment;
};

struct NftRuleset {
  std::string table;       // "vigie_imagerie"
  std::string zone_label;  // "CHU/Imagerie (VLAN 150)"
  std::string log_prefix;  // "vigie-drop imagerie "
  std::vector<NftSet> sets;
  std::vector<NftMap> maps;
  // Entries that could not be expressed (a peer of the other address family only...).
  std::vector<std::string> warnings;

  [[nodiscard]] std::size_t element_count() const;
};

// Builds the ruleset of `input.zone` from its allow-list. Deterministic: the same input, in
// any order, gives the same ruleset. Refuses a zone without a name.
Result<NftRuleset> build_ruleset(const NftInput& input);

// The ruleset of a stored zone ("SITE/ZONE" or a zone name unique across sites): its
// allow-list (load_allow_list), the profiles' names for the comments, and the intents the
// site has not bound to addresses (they allow nothing; the caller shows them as warnings).
struct ZoneRuleset {
  NftRuleset ruleset;
  std::vector<std::string> unbound;
};
Result<ZoneRuleset> generate_zone_ruleset(store::Store& store, std::string_view zone);

// The ruleset as an nft script: `nft -f FILE` replaces the table atomically.
std::string render_nft(const NftRuleset& ruleset);
// The same ruleset as nftables JSON (`nft -j -f FILE`), one object per line and one map
// element per line so that diffs stay readable.
std::string render_json(const NftRuleset& ruleset);

// Makes a zone name an nft identifier: lower-case ASCII letters, digits and '_'.
std::string nft_identifier(std::string_view text);

// Checking with nft ----------------------------------------------------------------------

enum class NftFormat { kText, kJson };

// One message of nft, with the position it gives (line and columns 0 when it gives none).
struct NftDiagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  int column_end = 0;
  std::string severity;  // "Error", "Warning"
  std::string message;

  // "FILE:LINE:COLUMN: Error: MESSAGE"
  [[nodiscard]] std::string to_string() const;
};

struct NftCheck {
  bool accepted = false;
  std::vector<NftDiagnostic> diagnostics;
  std::string output;  // everything nft printed, as printed
};

// `nft -c` of a file (.nft text, or JSON when its first character is '{') inside a new
// network namespace, so the host's ruleset is neither read nor touched. A refusal by nft is
// a value (accepted = false); an error means the check could not run (no namespace, no file).
Result<NftCheck> nft_check_file(const std::filesystem::path& file);
// The same for a ruleset in memory (nft's messages name it "<buffer>").
Result<NftCheck> nft_check_buffer(std::string_view ruleset, NftFormat format);

// How a generated ruleset is checked: in `jobs` nft processes at once (each in its own
// namespace), each given at most `max_elements` map elements (0: as many as `jobs` allows).
// As a non-root user, in a user namespace, nft cannot raise netlink's buffer sizes and large
// batches fail: batches are then cut to at most 2,000 elements whatever is asked.
struct NftCheckOptions {
  NftFormat format = NftFormat::kText;
  size_t jobs = 1;
  size_t max_elements = 0;
};
// Every batch declares the whole table, chain and rules, so every element and every rule is
// checked. When a batch is refused the whole ruleset is checked again in one piece, so that
// nft's positions are those of the rendered ruleset (render_nft / render_json).
Result<NftCheck> nft_check_ruleset(const NftRuleset& ruleset, const NftCheckOptions& options);

// Guesses the format of a ruleset from its first non-blank character.
NftFormat detect_nft_format(std::string_view ruleset);

}  // namespace vigie::netpolicy
