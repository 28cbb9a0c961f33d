// Everything a task runner needs from the worker, bundled so runners stay testable.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "config/connector_config.hpp"
#include "config/worker_config.hpp"
#include "metrics/metrics_registry.hpp"
#include "state/durable_map.hpp"

namespace ferry::spans {
class SpanPublisher;
class SpanTracker;
}  // namespace ferry::spans

namespace ferry::runtime {

struct SpanServices {
  spans::SpanPublisher* publisher = nullptr;
  spans::SpanTracker* tracker = nullptr;
};

// The error a running task is retrying right now (database down, broker away), for
// its status: an operator sees why a RUNNING task moves nothing. Written by the task's
// thread, read by the REST API's.
class RetryNote {
 public:
  void set(std::string text) {
    std::lock_guard lock(mu_);
    text_ = std::move(text);
    set_.store(true, std::memory_order_relaxed);
  }
  void clear() {
    if (!set_.load(std::memory_order_relaxed)) return;  // the hot path: nothing to clear
    std::lock_guard lock(mu_);
    text_.clear();
    set_.store(false, std::memory_order_relaxed);
  }
  std::string get() const {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
  std::atomic<bool> set_{false};
};

struct TaskEnvironment {
  const config::WorkerConfig* worker;
  const config::ConnectorConfig* connector;
  // librdkafka layers applied after the worker's [kafka] and before the connector's
  // (the embedded broker's address and tuning).
  config::KafkaProperties worker_overrides;
  bool embedded_broker = false;
  metrics::MetricsRegistry* metrics;
  state::DurableMap* offsets;
  state::DurableMap* state;
  std::shared_ptr<spdlog::logger> log;
  uint32_t task_id = 0;
  // Host-wide span services; null when the host runs without them.
  spans::SpanPublisher* span_publisher = nullptr;
  spans::SpanTracker* span_tracker = nullptr;
  // Set while the connector is PAUSED: the task keeps its resources (and group
  // membership) and finishes what is in flight, but moves no new records.
  const std::atomic<bool>* paused = nullptr;
  RetryNote* retry_note = nullptr;  // owned by the task's supervisor

  bool is_paused() const { return paused != nullptr && paused->load(std::memory_order_relaxed); }
};

}  // namespace ferry::runtime
