#include "config/config_loader.hpp"

#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace ferry::config {

std::string resolve_worker_path(const std::string& cli_value) {
  if (!cli_value.empty()) return cli_value;
  if (const char* env = std::getenv("FERRY_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (std::filesystem::exists("/etc/ferry/ferry.toml", ec)) return "/etc/ferry/ferry.toml";
  return {};
}

void load_plugins(const WorkerConfig& worker, loader::PluginCatalog& catalog) {
  catalog.load_directory(loader::bundled_plugin_dir(), /*optional=*/true);
  for (const auto& dir : worker.plugin_path) catalog.load_directory(dir);
}

PluginLookup plugin_lookup(const loader::PluginCatalog& catalog,
                           std::vector<TransformSchema> transforms) {
  PluginLookup lookup;
  lookup.transforms = std::move(transforms);
  lookup.find = [&catalog](std::string_view name) -> const ferry_plugin* {
    const auto* p = catalog.find(name);
    return p ? p->descriptor : nullptr;
  };
  lookup.names = catalog.names();
  return lookup;
}

std::vector<std::filesystem::path> connector_files(const WorkerConfig& worker,
                                                   const std::vector<std::string>& named,
                                                   Diagnostics& diags) {
  std::vector<std::filesystem::path> files;
  if (!worker.connectors_dir.empty()) files = list_connector_files(worker.connectors_dir, diags);
  for (const auto& n : named) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(n, ec)) {
      diags.add_file(n, "connector file not found");
      continue;
    }
    files.emplace_back(n);
  }
  return files;
}

std::vector<ConnectorConfig> load_connectors(const std::vector<std::filesystem::path>& files,
                                             const loader::PluginCatalog& catalog,
                                             const std::vector<TransformSchema>& transforms,
                                             Diagnostics& diags) {
  std::vector<ConnectorConfig> out;
  std::map<std::string, std::string> seen;
  PluginLookup lookup = plugin_lookup(catalog, transforms);
  for (const auto& f : files) {
    Diagnostics local;
    ConnectorConfig cfg = load_connector_config(f, lookup, local);
    if (local.empty()) {
      auto [it, inserted] = seen.emplace(cfg.name, cfg.path);
      if (!inserted) {
        local.add_file(cfg.path, fmt::format("connector name \"{}\" is already used by {}",
                                             cfg.name, it->second));
      }
    }
    diags.append(local);
    if (local.empty()) out.push_back(std::move(cfg));
  }
  return out;
}

}  // namespace ferry::config
