#include "kafka/topic_admin.hpp"

#include <array>
#include <chrono>
#include <thread>

#include "kafka/kafka_handles.hpp"

namespace ferry::kafka {

Status ensure_topic(rd_kafka_t* client, const std::string& topic, int partitions,
                    const std::map<std::string, std::string>& configs) {
  std::array<char, 512> err{};
  QueuePtr q(rd_kafka_queue_new(client));
  NewTopicPtr nt(rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, err.data(), err.size()));
  if (!nt) return Status::Config(err.data());
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str());
  rd_kafka_NewTopic_t* one = nt.get();
  rd_kafka_CreateTopics(client, &one, 1, nullptr, q.get());
  EventPtr ev(rd_kafka_queue_poll(q.get(), 15000));
  if (!ev) return Status::Retriable("no answer to CreateTopics within 15 s");
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  if (res == nullptr) return Status::Retriable(rd_kafka_event_error_string(ev.get()));
  size_t n = 0;
  const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    auto e = rd_kafka_topic_result_error(topics[i]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      return Status::Retriable(rd_kafka_topic_result_error_string(topics[i]));
  }
  return Status::Ok();
}

int existing_partitions(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  TopicPtr rkt(rd_kafka_topic_new(client, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(client, 0, rkt.get(), &raw, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return -1;
  MetadataPtr md(raw);
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    return md->topics[0].partition_cnt;
  return 0;
}

int partition_count(rd_kafka_t* client, const std::string& topic) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (int count = existing_partitions(client, topic, 5000); count > 0) return count;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return 0;
}

}  // namespace ferry::kafka
