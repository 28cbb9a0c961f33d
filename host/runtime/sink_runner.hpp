// Drives one sink task as a member of the connector's consumer group: consumes
// batches, hands them to the plugin, and commits consumer offsets only after the
// plugin's flush succeeded (and every dead-lettered record is acknowledged).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kafka/kafka_handles.hpp"
#include "runtime/plugin_task.hpp"
#include "runtime/task_environment.hpp"
#include "runtime/task_host.hpp"
#include "transforms/transform_chain.hpp"

namespace ferry::runtime {

class SinkRunner final : public TaskHost {
 public:
  explicit SinkRunner(TaskEnvironment env);
  ~SinkRunner() override;

  Status run(const std::atomic<bool>& stop);

  ferry_status emit(const ferry_record_view& record, ferry_error* err) override;
  ferry_status reject(const ferry_record_view& record, const char* reason,
                      ferry_error* err) override;

  // Consumer group callbacks; librdkafka calls them on this task's thread.
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void on_dead_letter_delivery(const rd_kafka_message_t& msg);
  // From each statistics report: says in the status while no broker is reachable.
  void note_brokers(const metrics::KafkaClientStats& stats);

 private:
  using Clock = std::chrono::steady_clock;
  using TopicPartition = std::pair<std::string, int32_t>;

  Status create_consumer();
  Status create_dead_letter_producer();
  void consume_batch(std::vector<kafka::MessagePtr>& batch, int timeout_ms);
  void nudge_idle_fetchers();
  Status deliver(const std::vector<kafka::MessagePtr>& batch);
  Status flush_and_commit();
  void leave_group();
  // Follows the connector's PAUSED state: paused partitions fetch nothing, but the
  // task keeps polling so it stays in the group.
  void apply_pause();
  void set_paused(rd_kafka_topic_partition_list_t* partitions, bool paused);
  // Retries `call` with backoff while it fails retriably, up to errors.retry_timeout.
  Status with_retries(const char* what, const std::function<Status()>& call);
  void publish_metrics();
  // Runs the transform chain over views_: fills put_views_ with what is kept.
  void transform_batch();
  // Span hooks: span_begin before a span's first record, span_end once every record
  // of it on our partitions is put (per span.delivered), then offsets are committed.
  Status begin_spans(const std::vector<kafka::MessagePtr>& batch);
  Status end_finished_spans();
  // Tells the plugin of spans that ended with no record, when this task owns partition 0
  // of a topic they were for (once per span and run; the plugin remembers across runs).
  Status tell_empty_spans();
  void restore_spans(const std::set<TopicPartition>& partitions);
  void note_span_partitions(const std::string& id);
  bool span_hooks() const;
  // A dead-lettered record of a span: tells the span's tracker (span.completed errors).
  void report_span_error(const ferry_record_view& r, const char* reason);

  TaskEnvironment env_;
  kafka::KafkaPtr consumer_;
  kafka::QueuePtr consumer_queue_;  // released before the consumer closes
  std::vector<rd_kafka_message_t*> raw_batch_;
  std::vector<ferry_record_view> views_;
  std::vector<ferry_header_view> header_views_;
  kafka::KafkaPtr dead_letter_;
  PluginTask plugin_;
  std::vector<std::pair<std::string, std::string>> insert_headers_;
  std::unique_ptr<transforms::TransformChain> chain_;  // null: none, or only insert_header
  std::vector<transforms::MutableRecord> transformed_;
  std::vector<ferry_record_view> put_views_;
  std::vector<ferry_header_view> put_headers_;
  std::map<TopicPartition, int64_t> pending_;  // next offset to commit, after flush
  uint64_t uncommitted_records_ = 0;
  std::set<TopicPartition> assigned_;
  std::map<TopicPartition, int64_t> processed_;  // next offset after the last record put
  std::map<std::string, std::set<TopicPartition>> active_spans_;
  std::map<std::string, std::optional<std::string>> span_changes_;  // saved before commit
  Clock::time_point next_span_check_{};
  Clock::time_point next_empty_check_{};
  std::set<std::string> told_empty_;
  Clock::time_point next_nudge_{};
  bool brokers_down_ = false;
  Clock::time_point brokers_down_since_{};
  bool span_errors_unflushed_ = false;
  std::string failure_;
  bool paused_ = false;

  metrics::Histogram commit_latency_;
  uint64_t records_in_ = 0, bytes_in_ = 0, dead_lettered_ = 0, filtered_ = 0;
  uint64_t published_in_ = 0, published_bytes_ = 0, published_dlq_ = 0, published_filtered_ = 0;
};

}  // namespace ferry::runtime
