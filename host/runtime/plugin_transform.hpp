// A transform plugin (ABI 1.3) as one step of a task's transform chain: it owns the
// plugin's task, hands it each record as a view, and takes back what the plugin
// emits. The plugin reaches logging, metrics and state through the same host API as
// the connector's own plugin.
#pragma once

#include <memory>
#include <string>

#include "runtime/plugin_task.hpp"
#include "runtime/task_environment.hpp"
#include "runtime/task_host.hpp"
#include "transforms/transform.hpp"
#include "transforms/transform_chain.hpp"

namespace ferry::runtime {

class PluginTransform final : public transforms::Transform, public TaskHost {
 public:
  // Creates the plugin's task; null with `error` set when it does not start.
  static std::unique_ptr<PluginTransform> create(const config::TransformConfig& cfg,
                                                 const TaskEnvironment& env, std::string& error);

  // Throws transforms::TransformError when the plugin fails or rejects the record.
  bool apply(transforms::MutableRecord& record) override;

  ferry_status emit(const ferry_record_view& record, ferry_error* err) override;
  ferry_status reject(const ferry_record_view& record, const char* reason,
                      ferry_error* err) override;

 private:
  PluginTransform(const TaskEnvironment& env, std::string type);

  std::string type_;
  PluginTask plugin_;
  transforms::MutableRecord* current_ = nullptr;
  bool emitted_ = false;
  std::string rejected_;
};

// The task's transform chain, when the connector needs one (anything besides
// insert_header); a transform plugin that does not start fails the task.
Status build_transform_chain(const TaskEnvironment& env,
                             std::unique_ptr<transforms::TransformChain>& chain);

}  // namespace ferry::runtime
