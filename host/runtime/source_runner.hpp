// Drives one source task: polls the plugin, produces its records with an idempotent
// acks=all producer, and commits a source offset only once Kafka acknowledged every
// record up to it. In-flight records and bytes are bounded: when the limit is reached
// the plugin is simply not polled (backpressure) until acknowledgements come back.
#pragma once

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "kafka/kafka_handles.hpp"
#include "kafka/produce_batch.hpp"
#include "runtime/plugin_task.hpp"
#include "runtime/source_offset_tracker.hpp"
#include "runtime/task_environment.hpp"
#include "runtime/task_host.hpp"
#include "spans/span_ledger.hpp"
#include "transforms/transform_chain.hpp"

namespace ferry::runtime {

class SourceRunner final : public TaskHost {
 public:
  explicit SourceRunner(TaskEnvironment env);
  ~SourceRunner() override;

  // Runs until `stop` is set (then drains in-flight records, commits offsets and
  // returns Ok) or the task fails (returns the failure).
  Status run(const std::atomic<bool>& stop);

  ferry_status emit(const ferry_record_view& record, ferry_error* err) override;
  ferry_status emit_view(const ferry_record_view& record, ferry_error* err);
  ferry_status emit_transformed(const ferry_record_view& record, ferry_error* err);
  ferry_status reject(const ferry_record_view& record, const char* reason,
                      ferry_error* err) override;
  ferry_status span_open(ferry_bytes key, const ferry_header_view* attrs, size_t count,
                         ferry_error* err) override;
  ferry_status span_close(ferry_bytes key, ferry_error* err) override;
  ferry_status topic_ensure(const char* topic, int32_t partitions, const ferry_header_view* configs,
                            size_t count, ferry_error* err) override;
  ferry_status offset_forget(ferry_bytes partition, ferry_error* err) override;

  // Delivery report for one message; librdkafka calls it on this task's thread.
  void on_delivery(const rd_kafka_message_t& msg);
  // An error of the producer client itself (brokers down, transport), also on this thread.
  void on_kafka_error(int err, const char* reason);

 private:
  using Clock = std::chrono::steady_clock;

  Status create_producer();
  // Polls the plugin and produces until `stop` is set (Ok) or the task fails.
  Status pump(const std::atomic<bool>& stop);
  void settle_after_failure();
  rd_kafka_topic_t* topic(const char* name);
  Status poll_plugin(uint32_t max_records, Clock::time_point& retry_since,
                     std::chrono::milliseconds& backoff);
  bool produce_to_dead_letter(const ferry_record_view& record, std::string_view reason,
                              std::string_view stage, SourceOffsetTracker::Entry* entry);
  // Queues the staged records; a refused one goes the way a refused producev would.
  void flush_batch();
  void on_refused(const kafka::ProduceBatch::Refused& record);
  // Queues what is staged, then rd_kafka_poll, after which the cached delivery-report
  // clock is stale.
  void poll_producer(int timeout_ms);
  // Tells the plugin which partitions Kafka has acknowledged further (source_delivered).
  void tell_delivered();
  Status commit_offsets();
  Status stop_plugin();
  void drain();
  void publish_metrics();
  // Says in the task's status and the log when Kafka has acknowledged nothing for a
  // while although records wait, and when it does again.
  void watch_delivery(Clock::time_point now);
  // Stops reading (and says so) while offsets cannot be saved; reads on once they are.
  void note_save(const Status& saved);

  TaskEnvironment env_;
  kafka::KafkaPtr producer_;
  std::unordered_map<std::string, kafka::TopicPtr> topics_;
  rd_kafka_topic_t* default_topic_ = nullptr;
  // Records without headers or a timestamp of their own, in source order, not yet
  // queued on the producer (at most one batch: any other produce flushes it first).
  kafka::ProduceBatch batch_;
  SourceOffsetTracker tracker_;
  // Partitions the plugin forgot, to be erased from the stored offsets at the next commit.
  std::set<std::string> forgotten_;
  std::unique_ptr<spans::SpanLedger> spans_;  // null: spans disabled
  PluginTask plugin_;
  std::vector<std::pair<std::string, std::string>> insert_headers_;
  std::unique_ptr<transforms::TransformChain> chain_;  // null: none, or only insert_header
  std::vector<ferry_header_view> transformed_headers_;
  std::string failure_;
  bool closing_ = false;
  uint64_t acks_ = 0, acks_seen_ = 0;
  Clock::time_point last_progress_ = Clock::now();
  Clock::time_point next_stall_report_{}, next_stall_log_{};
  bool kafka_stalled_ = false;
  bool save_failing_ = false;
  Clock::time_point next_save_log_{};
  // State changes (spans, forgotten partitions) a failed save could not write.
  std::map<std::string, std::optional<std::string>> unsaved_;
  std::string last_kafka_error_;
  uint64_t emitted_since_poll_ = 0;
  // The produce latency histogram reads the clock once per 256 records produced and
  // once per 256 delivery reports served by one rd_kafka_poll, not once per record:
  // at ~1 µs per record that is < 0.3 ms of error, and it saves a clock read per record
  // on the thread that limits a source's throughput.
  int64_t produce_clock_us_ = 0;
  int64_t delivery_clock_us_ = -1;  // -1: read it at the next delivery report
  uint32_t deliveries_since_clock_ = 0;

  // Counted locally on the hot path, published to the registry on each commit tick.
  metrics::Histogram produce_latency_, commit_latency_;
  uint64_t records_in_ = 0, records_out_ = 0, bytes_out_ = 0, dead_lettered_ = 0, filtered_ = 0;
  uint64_t published_in_ = 0, published_out_ = 0, published_bytes_ = 0, published_dlq_ = 0,
           published_filtered_ = 0;
};

}  // namespace ferry::runtime
