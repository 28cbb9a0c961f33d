// The connectors of this host: starts them, reloads them from their files (SIGHUP,
// POST /reload) and stops them, and answers what runs for the REST API and systemd.
// The process around it (Kafka side services, REST, signals) is service/FerryService.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/worker_config.hpp"
#include "loader/plugin_catalog.hpp"
#include "metrics/metrics_registry.hpp"
#include "runtime/connector.hpp"
#include "runtime/task_environment.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::runtime {

class Worker {
 public:
  // `overrides`: Kafka settings the process adds (the embedded broker's address);
  // `spans`: the span publisher and tracker connectors use (either may be null).
  Worker(config::WorkerConfig cfg, loader::PluginCatalog& catalog,
         std::vector<std::string> named_files, config::KafkaProperties overrides,
         SpanServices spans);
  ~Worker();

  // Starts the connectors; returns how many run.
  size_t start(std::vector<config::ConnectorConfig> connectors);
  // Drains and stops every connector, in parallel.
  void stop_all();
  void set_ready(bool ready) { ready_ = ready; }
  void set_worker_id(std::string id) { worker_id_ = std::move(id); }
  // One line for `systemctl status`: connectors, running and failed tasks.
  std::string status_line() const;

  struct ReloadResult {
    std::vector<std::string> started, restarted, stopped;
    std::vector<std::string> errors;  // invalid files; their running versions keep running
  };
  // Compares the connector files with what runs: starts, restarts and stops only the
  // connectors whose files were added, changed or removed. SIGHUP and POST /reload.
  ReloadResult reload();

  // For the REST API. Each takes the worker's lock, so a reload and a REST call never
  // see a connector half started.
  std::vector<std::string> connector_names() const;
  // Runs `fn` on the named connector under the lock; false when there is none.
  bool with_connector(const std::string& name, const std::function<void(Connector&)>& fn);
  bool ready() const { return ready_.load(); }
  struct Counts {
    size_t connectors = 0, stopped_connectors = 0;
    size_t running = 0, failed = 0, paused = 0;  // tasks
  };
  Counts counts() const;
  const config::WorkerConfig& config() const { return cfg_; }
  const loader::PluginCatalog& catalog() const { return catalog_; }
  metrics::MetricsRegistry& metrics() { return metrics_; }
  const spans::SpanTracker* span_tracker() const { return spans_.tracker; }
  // "host:port" of the REST API, Connect's worker_id; the host id without REST.
  const std::string& worker_id() const { return worker_id_; }

 private:
  bool start_connector(config::ConnectorConfig cfg, std::string* error = nullptr);
  void stop_connector(const std::string& name);
  void update_sink_groups();

  config::WorkerConfig cfg_;
  loader::PluginCatalog& catalog_;
  std::vector<std::string> named_files_;
  config::KafkaProperties overrides_;
  SpanServices spans_;
  metrics::MetricsRegistry metrics_;
  mutable std::mutex mu_;  // guards connectors_
  std::map<std::string, std::unique_ptr<Connector>> connectors_;
  std::atomic<bool> ready_{false};
  std::string worker_id_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ferry::runtime
