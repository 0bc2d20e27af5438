// Character sets with ISO 2022 code extensions (PS3.5 6.1.2.5): Debian's DCMTK converts
// through glibc iconv, which cannot follow DICOM's escape sequences (ISO 2022 IR 87 and
// friends), so the phi module decodes them itself, set by set, into UTF-8. Private.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <optional>
#include <string>
#include <string_view>

namespace vigie::phi::internal {

// One value of (0008,0005) terms (the whole attribute, backslash-separated) and one text
// value in that character set: the text in UTF-8, or nullopt when a byte or an escape
// sequence cannot be decoded.
std::optional<std::string> iso2022_to_utf8(std::string_view character_sets, std::string_view text,
                                           bool person_name);

// Converts every text element of a dataset (nested items included, each in the character set
// in force there) from ISO 2022 to UTF-8 and sets (0008,0005) to ISO_IR 192. False when a value
// could not be decoded (the dataset is then partly converted; callers treat its text as
// unreadable).
bool convert_iso2022(DcmItem& dataset, int max_depth);

}  // namespace vigie::phi::internal
