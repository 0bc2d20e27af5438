// The demo hospital's inventory (data/demo/devices.csv), embedded at build time.
#pragma once

#include <string_view>

namespace vigie::demo {

std::string_view devices_csv();

}  // namespace vigie::demo
