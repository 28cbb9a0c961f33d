// Collector mode: a drop-in replacement for kafka-eb-collector. On its input topic it
// accepts EventGroupCollectorCreate {id, expected, ttl, payload} and
// EventGroupCollectorEntityDone {id, group, result | error}, and emits
// EventGroupCollectorSuccess / EventGroupCollectorFailure with that project's fields.
//
// Unlike the original it loses nothing and never guesses:
//   - Input is routed to a work topic keyed by group id, so every event of one group is
//     handled by one host (hosts share the work as a consumer group) and in order.
//   - Group state lives in a compacted state topic keyed by group id; a host that gets
//     a work partition first rebuilds the state of that partition from it. So state
//     survives restarts and moves with the partition.
//   - A Done before its Create is kept; a duplicate Create changes nothing; a duplicate
//     or late Done is counted, never resets anything.
//   - The timeout runs from the Create's timestamp and is checked every 200 ms.
//   - Outputs and state are acknowledged by Kafka before input offsets are committed;
//     when Kafka refuses them, the collector reconnects and resumes from the last commit.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "config/kafka_properties.hpp"
#include "kafka/kafka_handles.hpp"

namespace ferry::spans {

class GroupCollector {
 public:
  struct Settings {
    std::string input, output;  // output empty = input
    int partitions = 6;
    int64_t default_ttl_ms = 30'000;
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;
    std::vector<config::KafkaProperties> kafka;
    bool create_topics = true;         // false on the embedded broker, which cannot create topics
    int64_t restore_wait_ms = 15'000;  // per rebalance, before a partition waits paused
  };

  static std::unique_ptr<GroupCollector> start(Settings settings, std::string& error);
  ~GroupCollector();

  // Internal: librdkafka callbacks.
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void on_delivery(const rd_kafka_message_t& msg);

 private:
  struct Group {
    std::string id;
    int32_t partition = 0;
    bool created = false;
    nlohmann::json expected = nlohmann::json::array();
    nlohmann::json payload;
    int64_t ttl_ms = 0, created_ms = 0, resolved_ms = 0, touched_ms = 0;
    nlohmann::json results = nlohmann::json::object();  // entity -> result (null on error)
    std::string first_error;
    bool resolved = false, emitted = false;
    uint64_t duplicates = 0, late = 0;
  };

  explicit GroupCollector(Settings settings);
  bool connect(std::string& error);
  void disconnect();
  void run();
  bool route();
  bool collect();
  void apply(const nlohmann::json& event, int64_t timestamp_ms, int32_t partition);
  void maybe_resolve(Group& g, int64_t now);
  void resolve(Group& g, const nlohmann::json& output, int64_t now);
  void check_timeouts();
  void collect_garbage();
  void save(const Group& g);
  // Reads the groups of `partitions` from the state topic; returns those read whole.
  std::set<int32_t> restore(const std::set<int32_t>& partitions, std::chrono::milliseconds wait);
  void retry_restore();
  kafka::PartitionListPtr work_list(const std::set<int32_t>& partitions) const;
  bool flush_all();
  nlohmann::json state_json(const Group& g) const;
  static Group group_from(const nlohmann::json& j);

  Settings settings_;
  std::string work_topic_, state_topic_;
  std::shared_ptr<spdlog::logger> log_;
  kafka::KafkaPtr producer_, router_, worker_;
  std::map<std::string, Group> groups_;
  std::set<int32_t> unrestored_;  // assigned, paused until their state is read
  std::chrono::steady_clock::time_point next_restore_{};
  std::atomic<bool> stop_{false}, delivery_failed_{false};
  std::thread thread_;
};

}  // namespace ferry::spans
