// The ferry process around the worker: the embedded broker when no Kafka is configured,
// the span publisher, tracker and group collector, the worker's connectors, the REST
// API, and the loop that answers signals and the systemd watchdog until SIGTERM or
// SIGINT, then the shutdown in the order each piece needs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/worker_config.hpp"
#include "kafka/embedded_broker.hpp"
#include "loader/plugin_catalog.hpp"
#include "rest/rest_server.hpp"
#include "runtime/worker.hpp"
#include "spans/group_collector.hpp"
#include "spans/span_publisher.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::service {

class FerryService {
 public:
  FerryService(config::WorkerConfig cfg, loader::PluginCatalog& catalog,
               std::vector<std::string> named_files);
  ~FerryService();

  // Blocks until SIGTERM or SIGINT. The caller must have blocked SIGTERM, SIGINT and
  // SIGHUP in every thread (see block_signals). Returns the process exit code.
  int run(std::vector<config::ConnectorConfig> connectors);

  // Blocks the signals the service handles, before any thread exists.
  static void block_signals();

 private:
  // The Kafka side services connectors use; false (logged) when ferry cannot run.
  bool start_kafka_side();
  void start_rest();
  // Until SIGTERM or SIGINT: SIGHUP reloads, the watchdog is fed, STATUS refreshed.
  void main_loop();
  void shut_down();

  config::WorkerConfig cfg_;
  loader::PluginCatalog& catalog_;
  std::vector<std::string> named_files_;
  config::KafkaProperties overrides_;
  std::unique_ptr<kafka::EmbeddedBroker> embedded_;
  std::unique_ptr<spans::SpanPublisher> span_publisher_;
  std::unique_ptr<spans::SpanTracker> span_tracker_;
  std::unique_ptr<spans::GroupCollector> collector_;
  std::unique_ptr<runtime::Worker> worker_;
  std::unique_ptr<rest::RestServer> rest_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ferry::service
