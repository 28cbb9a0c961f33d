// Owns a plugin's task handle: created through the ABI, destroyed exactly once.
#pragma once

#include <string>
#include <utility>

#include "config/options.hpp"
#include "ferry/abi.h"
#include "ferry/status.hpp"

namespace ferry::runtime {

class PluginTask {
 public:
  PluginTask() = default;
  PluginTask(const PluginTask&) = delete;
  PluginTask& operator=(const PluginTask&) = delete;
  ~PluginTask() { reset(); }

  Status create(const ferry_plugin* plugin, const config::Options& options, ferry_host* host,
                const ferry_host_api* api, const std::string& connector, uint32_t task_id,
                uint32_t task_count) {
    reset();
    plugin_ = plugin;
    config::AbiConfig abi(options);
    ferry_task_init init{};
    init.struct_size = sizeof(init);
    init.api = api;
    init.host = host;
    init.connector = connector.c_str();
    init.task_id = task_id;
    init.task_count = task_count;
    init.config = abi.data();
    init.config_count = abi.size();
    ferry_error err{};
    ferry_status s = plugin->task_create(&init, &task_, &err);
    return wrap(s, err);
  }

  void reset() {
    if (task_ != nullptr) plugin_->task_destroy(std::exchange(task_, nullptr));
  }

  ferry_task* get() const { return task_; }
  const ferry_plugin* plugin() const { return plugin_; }

  static Status wrap(ferry_status s, const ferry_error& err) { return detail::from_c(s, err); }

 private:
  const ferry_plugin* plugin_ = nullptr;
  ferry_task* task_ = nullptr;
};

}  // namespace ferry::runtime
