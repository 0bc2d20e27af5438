// Names normalised for matching: letters folded to lower-case ASCII (accents removed),
// punctuation turned into single spaces, legal suffixes dropped, known vendor aliases
// merged ("Siemens Healthcare GmbH" = "SIEMENS" = "siemens healthineers").
#pragma once

#include <string>
#include <string_view>

namespace vigie::inventory {

// Lower-case ASCII words separated by single spaces.
std::string normalize_words(std::string_view text);
std::string normalize_vendor(std::string_view text);
// `vendor_norm` is the normalised vendor (product aliases are per vendor).
std::string normalize_product(std::string_view vendor_norm, std::string_view text);

}  // namespace vigie::inventory
