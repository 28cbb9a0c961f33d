// ${VAR}, ${VAR:-default}, ${file:/path} and $${ in string values.
#include <cstdint>
#include <string_view>

#include "config/substitution.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ferry::config::substitute(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok) (void)r.ok->value.size();
  return 0;
}
