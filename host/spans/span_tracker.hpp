// The host-wide view of spans, rebuilt from the span topic (the log), and the
// completion tracker.
//
// A reader consumes every partition of the span topic from the beginning, so each host
// knows every span: that is what GET /spans and the sink span hooks use. Emitting
// span.completed / span.expired is the job of one host per span: the span topic is
// keyed by span id and the hosts form the consumer group "ferry-span-trackers.<topic>";
// a host acts only for partitions the group gave it, and only once its reader has read
// those partitions up to where they ended when it got them, so it knows every
// completion already announced. A host giving partitions up first waits until the
// events it produced are in Kafka. Together: exactly one span.completed per group.
//
// Completion is computed from committed offsets: a group has completed a span when,
// for every topic-partition in span.delivered's `offsets`, its committed offset is past
// the span's last offset there. Redelivery and duplicates therefore cannot fool it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "config/kafka_properties.hpp"
#include "kafka/kafka_handles.hpp"
#include "metrics/metrics_registry.hpp"
#include "spans/span_publisher.hpp"

namespace ferry::spans {

// topic -> partition -> [first, last] offsets
using SpanOffsets = std::map<std::string, std::map<int32_t, std::pair<int64_t, int64_t>>>;

int64_t parse_time(const std::string& rfc3339);  // 0 when unreadable

class SpanTracker {
 public:
  struct Settings {
    std::string topic;
    int partitions = 6;        // when ferry creates the topic
    int64_t retention_ms = 0;  // finished spans are forgotten after this
    // Finished spans kept at most, the oldest forgotten first (0: no limit). Unfinished
    // spans are always kept: completion depends on them.
    size_t max_finished = 0;
    std::vector<std::string> watch_groups;
    std::vector<config::KafkaProperties> kafka;  // layers for the clients
    // Names this process among hosts in announcements: host id plus state dir, so
    // two processes sharing a host id (one machine) do not overwrite each other.
    std::string instance;
    bool create_topic = true;  // false on the embedded broker, which cannot create topics
  };

  static std::unique_ptr<SpanTracker> start(Settings settings, SpanPublisher& publisher,
                                            std::string& error);
  ~SpanTracker();

  // The consumer groups of this host's sink connectors and the topics they read:
  // completion is reported for them on spans whose records are in those topics. They
  // are announced on the span topic (a "host.sinks" event), so the tracker of another
  // host that owns a span knows about them too.
  void set_sink_groups(std::map<std::string, std::vector<std::string>> groups);

  // span.delivered's offsets, once the span is delivered.
  std::optional<SpanOffsets> delivered_offsets(const std::string& span_id) const;

  // Spans delivered with no record at all (an empty file) that were meant for `topic`,
  // for sinks that make something of them (a per-span file sink writes the empty file).
  struct EmptySpan {
    std::string id;
    nlohmann::json attrs;
    int64_t opened_at_ms = 0;
  };
  std::vector<EmptySpan> empty_delivered(const std::string& topic) const;

  std::optional<nlohmann::json> get(const std::string& span_id) const;
  // state: "" (all), open, delivered, completed, failed, expired.
  std::vector<nlohmann::json> list(const std::string& state) const;

  // For /metrics: spans known now by connector and state, and how long spans took
  // from opening to delivered and to completed (observed when this tracker saw it).
  struct Stats {
    std::map<std::pair<std::string, std::string>, uint64_t> by_state;
    std::map<std::string, metrics::Histogram> delivery_latency, completion_latency;
  };
  Stats stats() const;

 private:
  struct Span {
    std::string id;
    int32_t partition = 0;
    std::string connector, host;
    // Kept as text: a span's memory is most of what the tracker holds for the days of
    // its retention, and a parsed tree costs several times its text.
    std::string attrs = "{}";
    int64_t opened_at_ms = 0, delivered_at_ms = 0, ttl_ms = 0, last_event_ms = 0;
    uint64_t count = 0;
    bool closed = false, delivered = false, failed = false, expired = false;
    std::string reason;
    SpanOffsets offsets;
    std::set<std::string> topics;                      // where its records went (or would have)
    std::map<std::string, int64_t> completed;          // group -> completed_at (ms)
    std::set<std::string> completing;                  // announced by us, not yet read back
    std::map<std::string, std::set<uint64_t>> errors;  // group -> seqs it dead-lettered
    bool expiring = false;
  };

  SpanTracker(Settings settings, SpanPublisher& publisher);
  bool create_clients(std::string& error);          // no network: config errors only
  bool attach_until_stopped();                      // retries attach() with backoff
  bool attach(std::string& error, int timeout_ms);  // the span topic: create, read, join
  void run();
  void apply(int32_t partition, const nlohmann::json& event);
  // Why `event` is not taken for span `id`, or nullptr: events are taken only for spans
  // a span.opened announced, and source events only from that source's host/connector.
  const char* refusal(const std::string& id, const std::string& type,
                      const nlohmann::json& event) const;
  void learn(int32_t partition, std::string_view value);  // from the local publisher
  void serve_ownership();
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void check_completion();
  void collect_garbage();
  // Forgets the oldest finished spans beyond max_finished; the lock is held.
  void forget_oldest_finished();
  bool ready(int32_t partition) const;
  void learn_unknown_ends();
  std::set<std::string> groups_for(const Span& s) const;
  std::map<std::pair<std::string, int32_t>, int64_t> committed(
      const std::string& group, const std::set<std::pair<std::string, int32_t>>& tps);
  static std::string state_of(const Span& s, const std::set<std::string>& groups);
  static size_t errors_of(const Span& s, const std::string& group) {
    auto it = s.errors.find(group);
    return it == s.errors.end() ? 0 : it->second.size();
  }
  nlohmann::json to_json(const Span& s) const;

  Settings settings_;
  SpanPublisher& publisher_;
  std::shared_ptr<spdlog::logger> log_;
  kafka::KafkaPtr reader_, owner_;
  std::map<std::string, kafka::KafkaPtr> group_clients_;  // one per watched group

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Span> spans_;
  uint64_t refused_events_ = 0;
  uint64_t forgotten_early_ = 0, early_forgettings_ = 0;  // by max_finished: spans, times
  std::map<std::string, std::vector<std::string>> sink_groups_;
  // Latest "host.sinks" announcement of every instance, ours included.
  std::map<std::string, std::map<std::string, std::vector<std::string>>> host_sink_groups_;
  std::map<int32_t, int64_t> read_upto_;             // reader: next offset per partition
  std::map<int32_t, int64_t> owned_;                 // partition -> end offset when we got it
  static constexpr int64_t kUnknownEnd = INT64_MAX;  // asked again until the broker answers
  std::map<std::string, metrics::Histogram> delivery_latency_, completion_latency_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ferry::spans
