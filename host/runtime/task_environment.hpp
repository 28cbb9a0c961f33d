// Everything a task runner needs from the worker, bundled so runners stay testable.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "config/connector_config.hpp"
#include "config/worker_config.hpp"
#include "runtime/durable_map.hpp"
#include "runtime/metrics_registry.hpp"

namespace ferry::spans {
class SpanPublisher;
class SpanTracker;
}  // namespace ferry::spans

namespace ferry::runtime {

struct SpanServices {
  spans::SpanPublisher* publisher = nullptr;
  spans::SpanTracker* tracker = nullptr;
};

struct TaskEnvironment {
  const config::WorkerConfig* worker;
  const config::ConnectorConfig* connector;
  // librdkafka layers applied after the worker's [kafka] and before the connector's
  // (the embedded broker's address and tuning).
  config::KafkaProperties worker_overrides;
  bool embedded_broker = false;
  MetricsRegistry* metrics;
  DurableMap* offsets;
  DurableMap* state;
  std::shared_ptr<spdlog::logger> log;
  uint32_t task_id = 0;
  // Host-wide span services; null when the host runs without them.
  spans::SpanPublisher* span_publisher = nullptr;
  spans::SpanTracker* span_tracker = nullptr;
  // Set while the connector is PAUSED: the task keeps its resources (and group
  // membership) and finishes what is in flight, but moves no new records.
  const std::atomic<bool>* paused = nullptr;

  bool is_paused() const { return paused != nullptr && paused->load(std::memory_order_relaxed); }
};

}  // namespace ferry::runtime
