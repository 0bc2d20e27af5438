// DICOM PS3.15 2023b Annex E tables (data/phi/), embedded at build time for the phi module:
// Table E.1-1 (the confidentiality profile and its options) and Table E.3.10-1 (safe private
// attributes), both as published CSV.
#pragma once

#include <string_view>

namespace vigie::phi_tables {

std::string_view table_e1_1_csv();
std::string_view table_e3_10_1_csv();

}  // namespace vigie::phi_tables
