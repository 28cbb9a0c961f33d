// The host side of `ferry_host`: what a plugin task reaches through ferry_host_api.
// Runners derive from TaskHost and implement the parts that differ between sources
// and sinks; the C trampolines in host_api() catch every exception so none crosses
// into plugin code.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "ferry/abi.h"
#include "metrics/metrics_registry.hpp"
#include "state/durable_map.hpp"

struct ferry_host {
  virtual ~ferry_host() = default;
};

namespace ferry::runtime {

class TaskHost : public ferry_host {
 public:
  TaskHost(std::shared_ptr<spdlog::logger> log, metrics::MetricsRegistry& metrics,
           std::string connector, uint32_t task, state::DurableMap& offsets,
           state::DurableMap& state)
      : log_(std::move(log)),
        metrics_(metrics),
        connector_(std::move(connector)),
        task_id_(task),
        offsets_(offsets),
        state_(state) {}

  virtual ferry_status emit(const ferry_record_view& record, ferry_error* err) = 0;
  virtual ferry_status reject(const ferry_record_view& record, const char* reason,
                              ferry_error* err) = 0;

  virtual ferry_status span_open(ferry_bytes key, const ferry_header_view* attrs, size_t count,
                                 ferry_error* err);
  virtual ferry_status span_close(ferry_bytes key, ferry_error* err);
  virtual ferry_status topic_ensure(const char* topic, int32_t partitions,
                                    const ferry_header_view* configs, size_t count,
                                    ferry_error* err);
  virtual ferry_status offset_forget(ferry_bytes partition, ferry_error* err);

  void log(ferry_log_level level, std::string_view message);
  // librdkafka's statistics callback for this task's clients: publishes the metrics and
  // returns what it read (role empty when it was not statistics).
  metrics::KafkaClientStats on_kafka_stats(const char* json, size_t len);
  void counter_add(const char* name, double delta);
  void gauge_set(const char* name, double value);
  void offsets_list(ferry_bytes_fn fn, void* user);
  ferry_status state_put(ferry_bytes key, ferry_bytes value, ferry_error* err);
  void state_list(ferry_bytes_fn fn, void* user);

  spdlog::logger& logger() { return *log_; }
  const std::string& connector() const { return connector_; }
  uint32_t task() const { return task_id_; }

 protected:
  // Adds what a hot-path counter gained since the last call to the registry.
  void publish_count(const char* name, uint64_t total, uint64_t& published) {
    if (total != published) metrics_.add(name, connector_, task_id_, double(total - published));
    published = total;
  }

  std::shared_ptr<spdlog::logger> log_;
  metrics::MetricsRegistry& metrics_;
  std::string connector_;
  uint32_t task_id_;
  state::DurableMap& offsets_;
  state::DurableMap& state_;
};

const ferry_host_api* host_api();

}  // namespace ferry::runtime
