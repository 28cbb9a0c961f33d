// The ferry process: starts the embedded broker when no Kafka is configured, runs
// every connector, reloads on SIGHUP and drains on SIGTERM/SIGINT.
#pragma once

#include <map>
#include <memory>
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

 private:
  bool start_connector(config::ConnectorConfig cfg);
  void stop_connector(const std::string& name);
  void reload();
  void stop_all();
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
  std::map<std::string, std::unique_ptr<Connector>> connectors_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ferry::runtime
