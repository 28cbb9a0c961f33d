// Every librdkafka handle is owned by a unique_ptr with the matching destroy function
// from the moment it exists.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>

namespace ferry::kafka {

struct KafkaDeleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
  void operator()(rd_kafka_topic_conf_t* p) const { rd_kafka_topic_conf_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
  void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, KafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, KafkaDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, KafkaDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, KafkaDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, KafkaDeleter>;

// Leaves the consumer group and destroys the consumer, waiting at most `timeout_ms`
// for the group to let go. rd_kafka_consumer_close alone can block for minutes when a
// rebalance is held up (a member that died without leaving, until its session times
// out), and a SIGTERM must finish in bounded time. `on_rebalance` gets the revoke (as
// the rebalance callback would); without it the partitions are simply unassigned.
// Returns false when it gave up: the group then notices our departure by session
// timeout.
inline bool close_consumer(
    KafkaPtr& consumer, int timeout_ms,
    const std::function<void(rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)>& on_rebalance =
        nullptr) {
  if (!consumer) return true;
  bool closed = false;
  QueuePtr queue(rd_kafka_queue_new(consumer.get()));
  ErrorPtr error(rd_kafka_consumer_close_queue(consumer.get(), queue.get()));
  if (!error) {
    for (int waited = 0; waited < timeout_ms; waited += 50) {
      if (rd_kafka_consumer_closed(consumer.get())) {
        closed = true;
        break;
      }
      rd_kafka_event_t* ev = rd_kafka_queue_poll(queue.get(), 50);
      if (ev == nullptr) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
        if (on_rebalance) {
          on_rebalance(rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
        } else {
          rd_kafka_assign(consumer.get(), nullptr);
        }
      }
      rd_kafka_event_destroy(ev);
    }
  }
  queue.reset();
  rd_kafka_destroy_flags(consumer.release(), closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return closed;
}

}  // namespace ferry::kafka
