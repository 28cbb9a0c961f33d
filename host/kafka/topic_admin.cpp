#include "kafka/topic_admin.hpp"

#include <array>
#include <chrono>
#include <thread>

#include "kafka/kafka_handles.hpp"

namespace ferry::kafka {

std::string ensure_topic(rd_kafka_t* client, const std::string& topic, int partitions,
                         const std::map<std::string, std::string>& configs) {
  std::array<char, 512> err{};
  QueuePtr q(rd_kafka_queue_new(client));
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, err.data(), err.size());
  if (nt == nullptr) return err.data();
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  rd_kafka_CreateTopics(client, &nt, 1, nullptr, q.get());
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q.get(), 15000);
  if (ev == nullptr) return "no answer to CreateTopics within 15 s";
  std::string error;
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** topics =
      res ? rd_kafka_CreateTopics_result_topics(res, &n) : nullptr;
  if (res == nullptr) error = rd_kafka_event_error_string(ev);
  for (size_t i = 0; i < n; ++i) {
    auto e = rd_kafka_topic_result_error(topics[i]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      error = rd_kafka_topic_result_error_string(topics[i]);
  }
  rd_kafka_event_destroy(ev);
  return error;
}

int existing_partitions(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  TopicPtr rkt(rd_kafka_topic_new(client, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(client, 0, rkt.get(), &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return -1;
  int count = 0;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    count = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return count;
}

int partition_count(rd_kafka_t* client, const std::string& topic) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (int count = existing_partitions(client, topic, 5000); count > 0) return count;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return 0;
}

}  // namespace ferry::kafka
