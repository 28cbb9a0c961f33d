// Loads the worker file and every connector file (connectors_dir drop-ins plus files
// named on the command line), validating each against its plugin's schema. Shared by
// `ferry validate`, `ferry run` and reload so all three judge configs the same way.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostics.hpp"
#include "config/worker_config.hpp"
#include "loader/plugin_catalog.hpp"

namespace ferry::config {

// The worker file to use: -c, else $FERRY_CONFIG, else /etc/ferry/ferry.toml when it
// exists, else none (built-in defaults).
std::string resolve_worker_path(const std::string& cli_value);

// Loads plugins from the bundled directory and the worker's plugin_path.
void load_plugins(const WorkerConfig& worker, loader::PluginCatalog& catalog);

PluginLookup plugin_lookup(const loader::PluginCatalog& catalog,
                           std::vector<TransformSchema> transforms);

// All connector files in effect: the drop-in directory's, then the named ones.
std::vector<std::filesystem::path> connector_files(const WorkerConfig& worker,
                                                   const std::vector<std::string>& named,
                                                   Diagnostics& diags);

// Loads and validates every file; also reports duplicate connector names.
std::vector<ConnectorConfig> load_connectors(const std::vector<std::filesystem::path>& files,
                                             const loader::PluginCatalog& catalog,
                                             const std::vector<TransformSchema>& transforms,
                                             Diagnostics& diags);

}  // namespace ferry::config
