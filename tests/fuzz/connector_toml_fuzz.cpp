// Connector files: TOML with ${VAR} / ${file:} substitution, checked against a plugin
// schema, with [kafka], [errors], [span] and [[transforms]] tables.
#include <cstdint>
#include <string_view>

#include "config/connector_config.hpp"
#include "fuzz_input.hpp"
#include "fuzz_plugin.hpp"
#include "transforms/transform.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = fuzz::scratch_file(text, "connector.toml");
  config::PluginLookup lookup;
  lookup.find = [](std::string_view name) -> const ferry_plugin* {
    return name == "fuzz-source" ? &fuzz::fuzz_plugin() : nullptr;
  };
  lookup.names = {"fuzz-source"};
  lookup.transforms = transforms::transform_schemas();
  config::Diagnostics diags;
  auto cfg = config::load_connector_config(path, lookup, diags);
  for (const auto& d : diags.items()) (void)d.str();
  return 0;
}
