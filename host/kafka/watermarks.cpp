#include "kafka/watermarks.hpp"

#include <chrono>

#include "kafka/topic_admin.hpp"

namespace ferry::kafka {

rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     int32_t partition, int64_t& low, int64_t& high,
                                     int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining_ms = [&] {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                deadline - std::chrono::steady_clock::now())
                                .count());
  };
  rd_kafka_resp_err_t e =
      rd_kafka_query_watermark_offsets(client, topic.c_str(), partition, &low, &high, timeout_ms);
  // librdkafka 2.0 takes a cached partition without a leader (as a broker briefly
  // reports it when it comes back from a stall) as permanent: it answers
  // _UNKNOWN_PARTITION from the cache without asking again until metadata.max.age.ms,
  // 15 minutes. A client that only queries watermarks never refreshes that cache by
  // itself, so ask the broker for the topic's metadata and then once more, within the
  // same time limit: a broker that does not answer at all is not asked three times.
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__TIMED_OUT ||
      e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || remaining_ms() <= 0)
    return e;
  if (existing_partitions(client, topic, remaining_ms()) <= 0 || remaining_ms() <= 0) return e;
  return rd_kafka_query_watermark_offsets(client, topic.c_str(), partition, &low, &high,
                                          remaining_ms());
}

}  // namespace ferry::kafka
