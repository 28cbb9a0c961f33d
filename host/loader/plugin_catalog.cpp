#include "loader/plugin_catalog.hpp"

#include <dlfcn.h>

#include <algorithm>

#include <fmt/format.h>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace ferry::loader {

PluginCatalog::PluginCatalog() = default;
PluginCatalog::~PluginCatalog() {
  plugins_.clear();
  libraries_.clear();  // modules unload last, after nothing refers to them
}

std::string check_module_abi(const ferry_module& m) {
  if (m.abi_major != FERRY_ABI_VERSION_MAJOR)
    return fmt::format(
        "built for plugin ABI {}.{}, but this ferry speaks ABI {}.{}; rebuild it "
        "against this ferry's sdk/",
        m.abi_major, m.abi_minor, FERRY_ABI_VERSION_MAJOR, FERRY_ABI_VERSION_MINOR);
  // Within a major version structs only grow: a 1.0 module is fine, the host reads
  // newer fields only when struct_size covers them.
  if (m.module_size < sizeof(ferry_module) || m.plugin_size < FERRY_PLUGIN_SIZE_1_0 ||
      m.record_view_size < FERRY_RECORD_VIEW_SIZE_1_0)
    return fmt::format(
        "descriptor sizes ({}/{}/{}) are smaller than ABI {}.{} requires; the "
        "module is corrupt or built against a broken sdk/",
        m.module_size, m.plugin_size, m.record_view_size, FERRY_ABI_VERSION_MAJOR,
        FERRY_ABI_VERSION_MINOR);
  if (m.host_api_size > sizeof(ferry_host_api))
    return fmt::format("needs a newer ferry (ABI {}.{} host services); this ferry speaks {}.{}",
                       m.abi_major, m.abi_minor, FERRY_ABI_VERSION_MAJOR, FERRY_ABI_VERSION_MINOR);
  return {};
}

bool PluginCatalog::load_module(const std::filesystem::path& file) {
  auto refuse = [&](const std::string& why) {
    problems_.push_back(fmt::format("plugin module {} refused: {}", file.string(), why));
    return false;
  };
  auto lib = std::make_unique<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  // RTLD_NODELETE: a module stays mapped until the process ends. Libraries plugins use
  // (ODBC drivers, libmosquitto) keep threads and atexit handlers that must not
  // outlive their code, and sanitizers can still name a plugin's frames at exit.
  const auto mode = static_cast<boost::dll::load_mode::type>(
      boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local | RTLD_NODELETE);
  lib->load(file.string(), mode, ec);
  if (ec) return refuse(ec.message() + " (" + std::string(dlerror() ? dlerror() : "") + ")");
  if (!lib->has(FERRY_MODULE_ENTRY_SYMBOL))
    return refuse(std::string("no ") + FERRY_MODULE_ENTRY_SYMBOL +
                  " symbol; not a ferry plugin (build it with FERRY_PLUGIN from sdk/)");
  auto entry = lib->get<const ferry_module*()>(FERRY_MODULE_ENTRY_SYMBOL);
  const ferry_module* m = entry();
  if (m == nullptr) return refuse("entry point returned no module descriptor");
  if (auto why = check_module_abi(*m); !why.empty()) return refuse(why);
  for (size_t i = 0; i < m->plugin_count; ++i) {
    const ferry_plugin* p = m->plugins[i];
    if (p == nullptr || p->name == nullptr || p->struct_size < FERRY_PLUGIN_SIZE_1_0) {
      refuse("malformed plugin descriptor");
      continue;
    }
    if (const auto* other = find(p->name)) {
      problems_.push_back(fmt::format("plugin \"{}\" in {} ignored: already provided by {}",
                                      p->name, file.string(), other->module.string()));
      continue;
    }
    bool source = p->kind == FERRY_KIND_SOURCE && p->source_poll != nullptr;
    bool sink = p->kind == FERRY_KIND_SINK && p->sink_put != nullptr && p->sink_flush != nullptr;
    bool transform = p->kind == FERRY_KIND_TRANSFORM && FERRY_PLUGIN_HAS(p, transform_apply);
    if (p->task_create == nullptr || p->task_destroy == nullptr ||
        (!source && !sink && !transform)) {
      refuse(fmt::format("plugin \"{}\" lacks the functions its kind requires", p->name));
      continue;
    }
    plugins_.push_back(LoadedPlugin{p, file});
  }
  libraries_.push_back(std::move(lib));
  return true;
}

void PluginCatalog::load_directory(const std::filesystem::path& dir, bool optional) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (!optional)
      problems_.push_back(fmt::format("plugin directory {}: {}", dir.string(), ec.message()));
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : it) {
    std::string name = e.path().filename().string();
    if (name.rfind("lib", 0) == 0 && e.path().extension() == ".so") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_module(f);
}

const LoadedPlugin* PluginCatalog::find(std::string_view name) const {
  for (const auto& p : plugins_)
    if (name == p.descriptor->name) return &p;
  return nullptr;
}

std::vector<std::string> PluginCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& p : plugins_) out.emplace_back(p.descriptor->name);
  return out;
}

std::filesystem::path bundled_plugin_dir() {
  boost::dll::fs::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (ec) return {};
  return (std::filesystem::path(exe.parent_path().string()) / ".." / "lib" / "ferry" / "plugins")
      .lexically_normal();
}

}  // namespace ferry::loader
