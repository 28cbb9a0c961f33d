// One running connector: its validated config, its durable offsets/state, its target
// state (running, paused or stopped — kept across restarts of ferry) and one
// supervised thread per task.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/worker_config.hpp"
#include "metrics/metrics_registry.hpp"
#include "runtime/task_environment.hpp"
#include "runtime/task_supervisor.hpp"
#include "state/durable_map.hpp"

namespace ferry::runtime {

// What the operator asked for, as Kafka Connect names it. PAUSED keeps the tasks
// (and their consumer group membership) but moves no records; STOPPED shuts the
// tasks down and keeps only the configuration.
enum class TargetState { kRunning, kPaused, kStopped };
const char* target_state_name(TargetState s);

struct TaskStatus {
  uint32_t id;
  std::string state;  // RUNNING, PAUSED, FAILED, UNASSIGNED
  std::string trace;  // last error of a FAILED task
  int restarts;
};

struct ConnectorStatus {
  std::string state;  // RUNNING, PAUSED, STOPPED
  std::vector<TaskStatus> tasks;
};

class Connector {
 public:
  // Opens the connector's state under <state_dir>/connectors/<name>/; fails when the
  // state exists but cannot be read.
  static std::unique_ptr<Connector> create(config::ConnectorConfig cfg,
                                           const config::WorkerConfig& worker,
                                           const config::KafkaProperties& worker_overrides,
                                           metrics::MetricsRegistry& metrics, SpanServices spans,
                                           std::string& error);
  ~Connector();

  // Starts the tasks unless the saved target state is STOPPED.
  void start();
  void request_stop();
  void join();

  // Each persists the new target state first, so it survives a restart of ferry.
  // Returns an error message when the state cannot be saved (nothing changed then).
  [[nodiscard]] Status pause();
  [[nodiscard]] Status resume();
  [[nodiscard]] Status stop_tasks();  // drains and commits, like a shutdown

  // Restarts one task now (a FAILED one skips its backoff); false when no such task.
  bool restart_task(uint32_t id);
  // Restarts every task, or only the FAILED ones; returns how many were restarted.
  int restart_tasks(bool only_failed);

  ConnectorStatus status() const;
  TargetState target() const;
  const config::ConnectorConfig& config() const { return cfg_; }

 private:
  Connector() = default;
  std::unique_ptr<TaskSupervisor> make_task(uint32_t id);
  [[nodiscard]] Status save_target(TargetState s);
  void start_tasks_locked();
  void stop_tasks_locked();

  config::ConnectorConfig cfg_;
  const config::WorkerConfig* worker_ = nullptr;
  config::KafkaProperties worker_overrides_;
  metrics::MetricsRegistry* metrics_ = nullptr;
  SpanServices spans_;
  std::filesystem::path dir_;
  std::unique_ptr<state::DurableMap> offsets_, state_;
  std::atomic<bool> paused_{false};

  // Guards the task list and the target state against concurrent REST calls; held
  // while tasks stop, so a second call waits for the first to finish.
  mutable std::mutex mu_;
  TargetState target_ = TargetState::kRunning;
  std::vector<std::unique_ptr<TaskSupervisor>> tasks_;
};

}  // namespace ferry::runtime
