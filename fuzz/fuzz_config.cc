// The configuration parser on arbitrary bytes: never crash; an accepted file has valid values.
#include <cstdlib>
#include <string_view>

#include "vigie/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = vigie::core::parse_config(text, "fuzz.toml");
  if (config && (config->server_port < 0 || config->server_port > 65535)) std::abort();
  return 0;
}
