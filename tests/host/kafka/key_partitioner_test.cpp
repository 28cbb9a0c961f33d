#include "kafka/key_partitioner.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kafka/kafka_handles.hpp"

namespace ferry::kafka {
namespace {

// A producer handle never connects until it sends; the random partitioner asks its
// topic handle which partitions are available.
struct Topic {
  KafkaPtr rk;
  TopicPtr rkt;
  Topic() {
    char err[256];
    rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err));
    rkt.reset(rd_kafka_topic_new(rk.get(), "t", nullptr));
  }
};

int32_t remembered(const Topic& t, const std::string& key, int32_t cnt) {
  return remembering_consistent_random(t.rkt.get(), key.data(), key.size(), cnt, nullptr, nullptr);
}
int32_t librdkafkas(const Topic& t, const std::string& key, int32_t cnt) {
  return rd_kafka_msg_partitioner_consistent_random(t.rkt.get(), key.data(), key.size(), cnt,
                                                    nullptr, nullptr);
}

}  // namespace

TEST(KeyPartitioner, GivesLibrdkafkasPartitionForRepeatedAlternatingAndNewKeys) {
  Topic t;
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("/var/log/app/file-" + std::to_string(i) + ".log");
  // Runs of one key (file-source), alternation, and partition counts that change under
  // a remembered key (a topic that grew).
  for (int32_t cnt : {1, 3, 7, 12, 7})
    for (const auto& k : keys)
      for (int repeat = 0; repeat < 3; ++repeat)
        ASSERT_EQ(remembered(t, k, cnt), librdkafkas(t, k, cnt)) << k << " of " << cnt;
  for (size_t i = 0; i < 200; ++i) {
    const auto& k = keys[(i * 7) % keys.size()];
    ASSERT_EQ(remembered(t, k, 12), librdkafkas(t, k, 12)) << k;
  }
  // Same length, different bytes right after a remembered key.
  ASSERT_EQ(remembered(t, "aaaa", 97), librdkafkas(t, "aaaa", 97));
  ASSERT_EQ(remembered(t, "aaab", 97), librdkafkas(t, "aaab", 97));
}

TEST(KeyPartitioner, RecordsWithoutAKeyStaySpreadAcrossPartitions) {
  Topic t;
  ASSERT_EQ(remembered(t, "k", 8), librdkafkas(t, "k", 8));
  std::vector<int> seen(8, 0);
  for (int i = 0; i < 2000; ++i) {
    int32_t p = remembering_consistent_random(t.rkt.get(), nullptr, 0, 8, nullptr, nullptr);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 8);
    ++seen[static_cast<size_t>(p)];
    // An empty key is no key to librdkafka either: never pinned to one partition.
    int32_t q = remembering_consistent_random(t.rkt.get(), "", 0, 8, nullptr, nullptr);
    ASSERT_GE(q, 0);
    ASSERT_LT(q, 8);
    ++seen[static_cast<size_t>(q)];
  }
  for (int n : seen) EXPECT_GT(n, 0);
  // ...and they do not disturb what a keyed record maps to.
  EXPECT_EQ(remembered(t, "k", 8), librdkafkas(t, "k", 8));
}

}  // namespace ferry::kafka
