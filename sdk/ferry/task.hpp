// The classes plugin authors derive from.
//
// Threading: the host drives each task from one thread of its own. Every virtual
// method, and every Host call, happens on that thread; no two calls into one task
// overlap. Different tasks of the same plugin run on different threads, so state
// shared between tasks (statics) needs the plugin's own locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/abi.h"
#include "ferry/config.hpp"
#include "ferry/record.hpp"
#include "ferry/status.hpp"

namespace ferry {

// Services the host offers a task: logging, metrics, offsets and durable state.
class Host {
 public:
  Host() = default;
  explicit Host(const ferry_task_init& init)
      : api_(init.api),
        host_(init.host),
        connector_(init.connector),
        task_id_(init.task_id),
        task_count_(init.task_count) {}

  const std::string& connector() const { return connector_; }
  uint32_t task_id() const { return task_id_; }
  uint32_t task_count() const { return task_count_; }

  void log(ferry_log_level level, std::string_view msg) const {
    api_->log(host_, level, msg.data(), msg.size());
  }
  void debug(std::string_view msg) const { log(FERRY_LOG_DEBUG, msg); }
  void info(std::string_view msg) const { log(FERRY_LOG_INFO, msg); }
  void warn(std::string_view msg) const { log(FERRY_LOG_WARN, msg); }
  void error(std::string_view msg) const { log(FERRY_LOG_ERROR, msg); }

  void count(const char* metric, double delta = 1) const {
    api_->counter_add(host_, metric, delta);
  }
  void gauge(const char* metric, double value) const { api_->gauge_set(host_, metric, value); }

  Status emit(const SourceRecord& record) const {
    ferry_record_view v = record.view();
    ferry_error err;
    ferry_status s = api_->emit(host_, &v, &err);
    return wrap(s, err);
  }
  // Bad input: dead letter topic under tolerance "all", task failure otherwise.
  Status reject(const ferry_record_view& record, const std::string& reason) const {
    ferry_error err;
    ferry_status s = api_->reject(host_, &record, reason.c_str(), &err);
    return wrap(s, err);
  }
  Status reject(const SourceRecord& record, const std::string& reason) const {
    ferry_record_view v = record.view();
    return reject(v, reason);
  }

  using BytesFn = std::function<void(std::string_view, std::string_view)>;
  void committed_offsets(const BytesFn& fn) const { api_->offsets_list(host_, &thunk, (void*)&fn); }
  Status put_state(std::string_view key, std::optional<std::string_view> value) const {
    ferry_error err;
    ferry_status s =
        api_->state_put(host_, to_bytes(key), value ? to_bytes(*value) : null_bytes(), &err);
    return wrap(s, err);
  }
  void state(const BytesFn& fn) const { api_->state_list(host_, &thunk, (void*)&fn); }

  // Spans (sources). `key` names the span for this plugin, e.g. a file's identity; the
  // host maps it to a span id that is unique across hosts and restarts, and tags every
  // record emitted with SourceRecord::span = key. Re-opening a key whose span was open
  // when the task last stopped resumes that span (same id, sequence continues).
  using Attrs = std::vector<std::pair<const char*, std::string_view>>;
  Status span_open(std::string_view key, const Attrs& attrs = {}) const {
    std::vector<ferry_header_view> views;
    views.reserve(attrs.size());
    for (const auto& [name, value] : attrs) views.push_back({name, to_bytes(value)});
    ferry_error err;
    return wrap(api_->span_open(host_, to_bytes(key), views.data(), views.size(), &err), err);
  }
  Status span_close(std::string_view key) const {
    ferry_error err;
    return wrap(api_->span_close(host_, to_bytes(key), &err), err);
  }

  // Sources: creates `topic` with these configs unless it exists (once per topic; it
  // blocks for the broker's answer).
  Status ensure_topic(const std::string& topic, const Attrs& configs = {},
                      int32_t partitions = -1) const {
    if (api_->struct_size < offsetof(ferry_host_api, topic_ensure) + sizeof(void*))
      return Status::Ok();
    std::vector<ferry_header_view> views;
    views.reserve(configs.size());
    for (const auto& [name, value] : configs) views.push_back({name, to_bytes(value)});
    ferry_error err;
    return wrap(
        api_->topic_ensure(host_, topic.c_str(), partitions, views.data(), views.size(), &err),
        err);
  }

  // Sources: the stored offset of `partition` is no longer needed (its input is gone
  // for good); see ferry_host_api::offset_forget. A no-op on hosts before ABI 1.5.
  Status forget_offset(std::string_view partition) const {
    if (api_->struct_size < offsetof(ferry_host_api, offset_forget) + sizeof(void*))
      return Status::Ok();
    ferry_error err;
    return wrap(api_->offset_forget(host_, to_bytes(partition), &err), err);
  }

 private:
  static void thunk(void* user, ferry_bytes k, ferry_bytes v) {
    (*static_cast<const BytesFn*>(user))(std::string_view(k.data, k.len),
                                         std::string_view(v.data, v.len));
  }
  static Status wrap(ferry_status s, const ferry_error& err) { return detail::from_c(s, err); }
  const ferry_host_api* api_ = nullptr;
  ferry_host* host_ = nullptr;
  std::string connector_;
  uint32_t task_id_ = 0;
  uint32_t task_count_ = 1;
};

// A source reads from the outside world and emits records. Construct with
// (const Host&, const Config&); do setup in `start`, not the constructor, so that a
// failure comes back as a Status.
class SourceTask {
 public:
  virtual ~SourceTask() = default;
  virtual Status start() { return Status::Ok(); }
  // Emit up to about `max_records` records with host().emit(). Return promptly (no
  // blocking waits) when there is nothing to read: the host does the waiting.
  virtual Status poll(uint32_t max_records) = 0;
  // The host is stopping: take no new input. The host goes on polling until a poll
  // emits nothing, so emit what is already buffered there.
  virtual void stop() {}
  // `offset` is durably committed for `partition`: every record up to it is in Kafka.
  virtual void committed(std::string_view partition, std::string_view offset) {
    (void)partition;
    (void)offset;
  }
  // Kafka has every record of `partition` up to the one emitted with `offset` (not yet
  // saved; see ferry_plugin::source_delivered in abi.h). Records without a source
  // partition are partition "".
  virtual void delivered(std::string_view partition, std::string_view offset) {
    (void)partition;
    (void)offset;
  }
};

// A sink receives batches of records from Kafka.
// A transform plugin: a step in a connector's [[transforms]] chain, named by the
// plugin's name in `type`. apply() sees each record once. Pass it on with
// host().emit(...) — pass_on(record) starts a copy to change — at most
// once; emit nothing to drop it. A failed Status sends the record to the connector's
// error handling (dead letter topic, or a task failure).
class TransformTask {
 public:
  virtual ~TransformTask() = default;
  virtual Status start() { return Status::Ok(); }
  virtual Status apply(const RecordView& record) = 0;
};

// A span that ended with no record, as a sink is told of it.
struct EmptySpan {
  std::string_view id;
  std::string_view topic;
  int32_t partition = 0;
  int64_t opened_at_ms = 0;
  std::vector<std::pair<std::string_view, std::string_view>> attrs;
  std::optional<std::string_view> attr(std::string_view name) const {
    for (const auto& [n, v] : attrs)
      if (n == name) return v;
    return std::nullopt;
  }
};

class SinkTask {
 public:
  virtual ~SinkTask() = default;
  virtual Status start() { return Status::Ok(); }
  // Process a batch. The views are valid only during the call.
  virtual Status put(std::span<const RecordView> records) = 0;
  // Make everything put so far durable; consumer offsets are committed after Ok.
  virtual Status flush() = 0;
  // Span hooks (see ferry_plugin::sink_span_begin/sink_span_end in abi.h).
  virtual Status span_begin(std::string_view span_id) {
    (void)span_id;
    return Status::Ok();
  }
  virtual Status span_end(std::string_view span_id) {
    (void)span_id;
    return Status::Ok();
  }
  // A span with no record ended (see ferry_plugin::sink_span_empty in abi.h).
  virtual Status span_empty(const EmptySpan& span) {
    (void)span;
    return Status::Ok();
  }
};

}  // namespace ferry
