// Burned-in text: whether pixel data may show it, and blanking. Private to the phi module;
// shared by the de-identifier and the checker.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::phi::internal {

// Empty when the dataset has no pixel data, or (0028,0301) Burned In Annotation is NO and
// neither the modality nor the SOP class is one known to carry text; otherwise why not.
std::string burned_in_verdict(DcmItem& dataset);

// Replaces the pixel data by zeros: in place when it is native, by an uncompressed frame set
// of the same geometry when it is encapsulated (the transfer syntax to write is returned).
// Sets (0028,0301) to NO.
core::Result<E_TransferSyntax> blank_pixels(DcmItem& dataset, E_TransferSyntax original,
                                            size_t max_bytes, std::string_view name);

}  // namespace vigie::phi::internal
