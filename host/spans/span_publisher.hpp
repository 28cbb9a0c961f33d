// Produces span lifecycle events to the span topic (key = span id, value = JSON) with
// one idempotent acks=all producer shared by every connector of the host. Delivery
// reports are served by the publisher's own thread; a caller that must know an event
// is in Kafka passes `on_ack`.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/kafka_properties.hpp"
#include "kafka/kafka_handles.hpp"

namespace ferry::spans {

int64_t now_ms();
// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T07:19:54.123Z".
std::string format_time(int64_t epoch_ms);

class SpanPublisher {
 public:
  using AckFn = std::function<void(bool ok, const std::string& error)>;

  static std::unique_ptr<SpanPublisher> create(const std::vector<config::KafkaProperties>& layers,
                                               std::string topic, std::string host_id,
                                               std::string& error);
  ~SpanPublisher();

  // Adds `type`, `span`, `host` and `at` to `event` and produces it. Never blocks.
  void publish(const std::string& type, const std::string& span_id, nlohmann::json event,
               AckFn on_ack = {});
  // Waits up to `timeout_ms` for every event to be acknowledged; true when none is left.
  bool flush(int timeout_ms);

  // Called with every event Kafka has acknowledged and the span-topic partition it is
  // in, on the thread serving delivery reports: this host's tracker learns its own
  // sources' events without waiting to read them back. Empty to stop; set_listener
  // returns only when no call to the previous listener is running.
  using Listener = std::function<void(int32_t partition, std::string_view value)>;
  void set_listener(Listener listener);

  const std::string& topic() const { return topic_; }
  const std::string& host_id() const { return host_id_; }

 private:
  SpanPublisher(std::string topic, std::string host_id)
      : topic_(std::move(topic)), host_id_(std::move(host_id)) {}
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*);

  std::string topic_, host_id_;
  kafka::KafkaPtr producer_;
  kafka::TopicPtr rkt_;  // created on first use: its metadata request could auto-create
                         // the topic before the tracker creates it with its partitions
  std::once_flag rkt_once_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
  std::mutex listener_mu_;
  Listener listener_;
};

}  // namespace ferry::spans
