#include "kafka/key_partitioner.hpp"

#include <cstring>
#include <string>

namespace ferry::kafka {

int32_t remembering_consistent_random(const rd_kafka_topic_t* rkt, const void* key, size_t keylen,
                                      int32_t partition_cnt, void* rkt_opaque, void* msg_opaque) {
  // librdkafka's built-in partitioners are plain functions of their arguments (no
  // locks, no handle state), so calling one from a partitioner is safe.
  if (key == nullptr || keylen == 0)
    return rd_kafka_msg_partitioner_random(rkt, key, keylen, partition_cnt, rkt_opaque, msg_opaque);
  // Partitioning runs on the producing thread, or on librdkafka's for records that
  // waited for metadata: one memory per thread.
  thread_local std::string last_key;
  thread_local int32_t last_cnt = -1;
  thread_local int32_t last_partition = 0;
  if (partition_cnt == last_cnt && keylen == last_key.size() &&
      std::memcmp(key, last_key.data(), keylen) == 0)
    return last_partition;
  last_partition = rd_kafka_msg_partitioner_consistent_random(rkt, key, keylen, partition_cnt,
                                                              rkt_opaque, msg_opaque);
  last_key.assign(static_cast<const char*>(key), keylen);
  last_cnt = partition_cnt;
  return last_partition;
}

void use_remembering_partitioner(rd_kafka_conf_t* conf) {
  // Topic-level settings given on the global conf (acks, message.timeout.ms) live in
  // its default topic conf: add to that one rather than replace it.
  rd_kafka_topic_conf_t* tc = rd_kafka_conf_get_default_topic_conf(conf);
  if (tc == nullptr) {
    tc = rd_kafka_topic_conf_new();
    rd_kafka_conf_set_default_topic_conf(conf, tc);  // conf takes it over
  }
  rd_kafka_topic_conf_set_partitioner_cb(tc, &remembering_consistent_random);
}

}  // namespace ferry::kafka
