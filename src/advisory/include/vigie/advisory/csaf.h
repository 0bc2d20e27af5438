// CSAF 2.0 documents read into Vigie's model of an advisory: the products it names (every
// leaf of the product tree with the path that describes it, full product names and
// relationships), product groups, and per vulnerability the product status lists, the
// remediations, scores, threats and flags. Reading checks types and bounds and reports every
// problem with the JSON pointer; the CSAF schema and the mandatory tests of section 6.1 are
// checked by the validator (validate.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/advisory/version.h"
#include "vigie/core/result.h"

namespace vigie::advisory {

// A file of a product and its digests (algorithm, value), as product_identification_helper gives.
struct CsafFileHash {
  std::string filename;
  std::vector<std::pair<std::string, std::string>> digests;
};

// A note (document or vulnerability): category (summary, description, details...), title, text.
struct CsafNote {
  std::string category;
  std::string title;
  std::string text;
};

// One product an advisory can name by product_id.
struct CsafProduct {
  std::string product_id;
  std::string name;     // the product's own name
  std::string pointer;  // JSON pointer of its definition
  // Branch categories on the way to the leaf: vendor, product_family, product_name,
  // product_version, product_version_range, architecture, service_pack...
  std::string vendor;
  std::string product_family;
  std::string product_name;
  std::string product_version;
  std::string version_range_text;  // product_version_range as written
  std::optional<VersionRange> version_range;
  std::optional<core::Error> version_range_error;  // an unreadable range, never "not affected"
  std::string architecture;
  std::string service_pack;
  // product_identification_helper
  std::vector<std::string> cpes;
  std::vector<std::string> purls;
  std::vector<std::string> model_numbers;
  std::vector<std::string> serial_numbers;  // may hold * and ? wildcards
  std::vector<std::string> skus;
  std::vector<CsafFileHash> hashes;
  std::vector<std::string> sbom_urls;
  std::vector<std::pair<std::string, std::string>> generic_uris;  // namespace, uri
  // For relationships: "A installed_on B"...
  std::string relationship;
  std::string product_reference;
  std::string relates_to;
};

struct CsafRemediation {
  std::string category;  // vendor_fix, mitigation, workaround, none_available, no_fix_planned
  std::string details;
  std::string url;
  std::vector<std::string> product_ids;
  std::vector<std::string> group_ids;
  std::string restart_required;
};

struct CsafVulnerability {
  std::string cve;
  std::string title;
  std::vector<std::string> cwes;  // "CWE-287"
  std::vector<CsafNote> notes;
  // known_affected, first_affected, last_affected, fixed, first_fixed, known_not_affected,
  // recommended, under_investigation -> product ids
  std::map<std::string, std::vector<std::string>> product_status;
  std::vector<CsafRemediation> remediations;
  double max_base_score = 0;                                 // highest CVSS base score given
  std::vector<std::pair<std::string, std::string>> threats;  // category, details
  std::vector<std::string> flags;
};

struct CsafDocument {
  std::string tracking_id;
  std::string title;
  std::string category;
  std::string publisher;
  std::string publisher_namespace;
  std::string version;
  std::string status;
  std::string initial_release_date;
  std::string current_release_date;
  std::string lang;
  std::vector<CsafNote> notes;
  std::vector<CsafProduct> products;
  std::map<std::string, std::vector<std::string>> product_groups;  // group id -> product ids
  std::vector<CsafVulnerability> vulnerabilities;

  [[nodiscard]] const CsafProduct* product(std::string_view product_id) const;
};

// Reads a CSAF 2.0 JSON text. `source` names it in errors ("file.json:/pointer" or
// "file.json:line:column" for a syntax error).
Result<CsafDocument> read_csaf(std::string_view json_text, std::string_view source);

// The order to read a free-text version of a product: vendor codes such as VB23P use the
// vendor scheme, anything else the generic one.
Scheme guess_scheme(std::string_view version_text);

}  // namespace vigie::advisory
