// One running connector: its validated config, its durable offsets/state, and one
// supervised thread per task.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/worker_config.hpp"
#include "runtime/durable_map.hpp"
#include "runtime/metrics_registry.hpp"
#include "runtime/task_environment.hpp"
#include "runtime/task_supervisor.hpp"

namespace ferry::runtime {

class Connector {
 public:
  // Opens the connector's state under <state_dir>/connectors/<name>/; fails when the
  // state exists but cannot be read.
  static std::unique_ptr<Connector> create(config::ConnectorConfig cfg,
                                           const config::WorkerConfig& worker,
                                           const config::KafkaProperties& worker_overrides,
                                           MetricsRegistry& metrics, SpanServices spans,
                                           std::string& error);
  ~Connector();

  void start();
  void request_stop();
  void join();

  const config::ConnectorConfig& config() const { return cfg_; }
  const std::vector<std::unique_ptr<TaskSupervisor>>& tasks() const { return tasks_; }

 private:
  Connector() = default;
  config::ConnectorConfig cfg_;
  std::unique_ptr<DurableMap> offsets_, state_;
  std::vector<std::unique_ptr<TaskSupervisor>> tasks_;
};

}  // namespace ferry::runtime
