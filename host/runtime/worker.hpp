// The ferry process: starts the embedded broker when no Kafka is configured, runs
// every connector, reloads on SIGHUP and drains on SIGTERM/SIGINT.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/worker_config.hpp"
#include "kafka/embedded_broker.hpp"
#include "plugins/plugin_catalog.hpp"
#include "rest/rest_server.hpp"
#include "runtime/connector.hpp"
#include "runtime/metrics_registry.hpp"
#include "spans/group_collector.hpp"
#include "spans/span_publisher.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::runtime {

class Worker {
 public:
  Worker(config::WorkerConfig cfg, plugins::PluginCatalog& catalog,
         std::vector<std::string> named_files);
  ~Worker();

  // Blocks until SIGTERM or SIGINT. The caller must have blocked SIGTERM, SIGINT and
  // SIGHUP in every thread (see block_signals). Returns the process exit code.
  int run(std::vector<config::ConnectorConfig> connectors);

  // Blocks the signals the worker handles, before any thread exists.
  static void block_signals();

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
  const plugins::PluginCatalog& catalog() const { return catalog_; }
  MetricsRegistry& metrics() { return metrics_; }
  const spans::SpanTracker* span_tracker() const { return span_tracker_.get(); }
  // "host:port" of the REST API, Connect's worker_id; the host id without REST.
  const std::string& worker_id() const { return worker_id_; }

 private:
  bool start_connector(config::ConnectorConfig cfg, std::string* error = nullptr);
  void stop_connector(const std::string& name);
  void stop_all();
  // One line for `systemctl status`: connectors, running and failed tasks.
  std::string status_line() const;
  void update_sink_groups();
  void start_rest();

  config::WorkerConfig cfg_;
  plugins::PluginCatalog& catalog_;
  std::vector<std::string> named_files_;
  std::unique_ptr<kafka::EmbeddedBroker> embedded_;
  std::unique_ptr<spans::SpanPublisher> span_publisher_;
  std::unique_ptr<spans::SpanTracker> span_tracker_;
  std::unique_ptr<rest::RestServer> rest_;
  std::unique_ptr<spans::GroupCollector> collector_;
  config::KafkaProperties overrides_;
  MetricsRegistry metrics_;
  mutable std::mutex mu_;  // guards connectors_
  std::map<std::string, std::unique_ptr<Connector>> connectors_;
  std::atomic<bool> ready_{false};
  std::string worker_id_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ferry::runtime
