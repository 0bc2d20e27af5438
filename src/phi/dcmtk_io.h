// DCMTK reading and writing from and to memory, shared by the de-identifier and the checker.
// Private to the phi module.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <memory>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::phi::internal {

// Silences DCMTK's own logger (its warnings would go to stderr, and may quote values).
void quiet_dcmtk();

// Parses a whole DICOM file (with or without preamble and meta header) from memory. Errors
// name the file and the byte offset where DCMTK stopped.
core::Result<std::unique_ptr<DcmFileFormat>> read_dicom(std::string_view bytes,
                                                        std::string_view name);

// Writes a file (preamble, meta header updated from the dataset, dataset) to memory.
core::Result<std::string> write_dicom(DcmFileFormat& file, E_TransferSyntax xfer,
                                      std::string_view name);

// The string value of an element (all values, backslash-separated), empty when it has none.
std::string string_of(DcmElement& element);

// "(gggg,eeee)".
std::string tag_text(const DcmTagKey& tag);

}  // namespace vigie::phi::internal
