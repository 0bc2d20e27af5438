// The device communication profiles Vigie ships (data/profiles/), embedded at build time.
// Each is a port table in the YAML form of docs/netpolicy-formats.md.
#pragma once

#include <string_view>

namespace vigie::profile_data {

// data/profiles/philips-essenta-dr-compact.yaml: Annex A of Philips 2023-PD-DXR-009.
std::string_view philips_essenta_dr_compact();

}  // namespace vigie::profile_data
