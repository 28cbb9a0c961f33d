// A connector's state files as found on disk (a torn write, an edit by hand): the
// snapshot (offsets.json) when the first byte is even, the journal beside it when odd.
// Opened, read, updated and reopened, never crashing, never losing the update.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "fuzz_input.hpp"
#include "state/durable_map.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool journal = (data[0] & 1) != 0;
  auto path = fuzz::scratch_file(text, journal ? "state.json.journal" : "state.json");
  if (journal) {
    path.replace_extension();  // state.json: its journal holds the input
    std::filesystem::remove(path);
  } else {
    std::filesystem::remove(path.string() + ".journal");
  }
  auto map = state::DurableMap::open(path);
  if (!map) return 0;
  size_t n = 0;
  (*map)->for_each([&](const std::string&, const std::string&) { ++n; });
  if (!(*map)->update({{"fuzz-key", std::string("v\xff\n\"", 4)}}).ok()) return 0;  // write error
  auto again = state::DurableMap::open(path);
  if (!again || (*again)->get("fuzz-key") != std::string("v\xff\n\"", 4)) std::abort();
  return 0;
}
