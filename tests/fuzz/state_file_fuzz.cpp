// offsets.json / state.json as found on disk (a torn write, an edit by hand): opened,
// read, updated and reopened, never crashing, never losing the update.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_input.hpp"
#include "runtime/durable_map.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  auto path =
      fuzz::scratch_file(std::string_view(reinterpret_cast<const char*>(data), size), "state.json");
  std::string error;
  auto map = runtime::DurableMap::open(path, error);
  if (!map) return 0;
  size_t n = 0;
  map->for_each([&](const std::string&, const std::string&) { ++n; });
  if (map->update({{"fuzz-key", std::string("v\xff\n\"", 4)}})) return 0;  // a write error
  auto again = runtime::DurableMap::open(path, error);
  if (!again || again->get("fuzz-key") != std::string("v\xff\n\"", 4)) std::abort();
  return 0;
}
