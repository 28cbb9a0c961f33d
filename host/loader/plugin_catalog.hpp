// Discovers plugin modules (lib*.so) in the plugin path, checks their ABI, and keeps
// them loaded for the life of the process. A module that fails any check is refused
// with a clear message; the others load normally.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/abi.h"

namespace boost::dll {
class shared_library;
}

namespace ferry::loader {

struct LoadedPlugin {
  const ferry_plugin* descriptor;
  std::filesystem::path module;
};

class PluginCatalog {
 public:
  PluginCatalog();
  ~PluginCatalog();
  PluginCatalog(const PluginCatalog&) = delete;
  PluginCatalog& operator=(const PluginCatalog&) = delete;

  // Loads every lib*.so in `dir` (missing directories are skipped silently when
  // `optional`). Refusals are recorded in problems().
  void load_directory(const std::filesystem::path& dir, bool optional = false);
  // Loads one module file; returns false and records the reason when refused.
  bool load_module(const std::filesystem::path& file);

  const LoadedPlugin* find(std::string_view name) const;
  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  std::vector<std::string> names() const;
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::unique_ptr<boost::dll::shared_library>> libraries_;
  std::vector<LoadedPlugin> plugins_;
  std::vector<std::string> problems_;
};

// Where the bundled plugins are: <dir of the ferry executable>/../lib/ferry/plugins.
std::filesystem::path bundled_plugin_dir();

// Checks a module descriptor against this host's ABI; empty string = compatible.
std::string check_module_abi(const ferry_module& module);

}  // namespace ferry::loader
