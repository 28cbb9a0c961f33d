// Worker files: [host], [kafka], [rest], [spans], [cluster], with substitution.
#include <cstdint>
#include <string_view>

#include "config/worker_config.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = fuzz::scratch_file(text, "ferry.toml");
  config::Diagnostics diags;
  auto cfg = config::load_worker_config(path.string(), diags);
  for (const auto& d : diags.items()) (void)d.str();
  return 0;
}
