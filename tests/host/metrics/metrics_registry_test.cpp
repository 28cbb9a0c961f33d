#include "metrics/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace ferry::metrics {

TEST(Histogram, BucketsByUpperBoundInclusive) {
  Histogram h;
  h.observe(0.001);  // exactly a bound: counted in that bucket (le is <=)
  h.observe(0.0011);
  h.observe(1e6);  // +Inf
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.buckets[1], 1u);
  EXPECT_EQ(h.buckets[2], 1u);
  EXPECT_EQ(h.buckets.back(), 1u);
  Histogram other;
  other.observe(0.001);
  h.merge(other);
  EXPECT_EQ(h.buckets[1], 2u);
  EXPECT_DOUBLE_EQ(h.sum, 0.001 + 0.0011 + 1e6 + 0.001);
}

TEST(KafkaStats, ReadsQueuesErrorsRealBrokersAndConsumerLag) {
  // Trimmed from a librdkafka 2.0.2 consumer's statistics.
  const char* json = R"({
    "type": "consumer", "msg_cnt": 12, "msg_size": 3400,
    "brokers": {
      "127.0.0.1:9092/bootstrap": {"nodeid": -1, "source": "configured", "txerrs": 9},
      "GroupCoordinator": {"nodeid": 1, "source": "logical", "txerrs": 7,
                           "rtt": {"avg": 999}},
      "127.0.0.1:9092/1": {"nodeid": 1, "source": "learned", "txerrs": 2, "rxerrs": 1,
                           "txretries": 3, "rtt": {"avg": 1500}}
    },
    "topics": {"t": {"partitions": {
      "0": {"consumer_lag": 40}, "1": {"consumer_lag": 2}, "-1": {"consumer_lag": 99}}}}
  })";
  KafkaClientStats s;
  ASSERT_TRUE(parse_kafka_stats(json, std::strlen(json), s));
  EXPECT_EQ(s.role, "consumer");
  EXPECT_EQ(s.queued_messages, 12);
  EXPECT_EQ(s.queued_bytes, 3400);
  EXPECT_EQ(s.tx_errors, 2);
  EXPECT_EQ(s.rx_errors, 1);
  EXPECT_EQ(s.tx_retries, 3);
  ASSERT_EQ(s.broker_rtt_seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(s.broker_rtt_seconds["127.0.0.1:9092/1"], 0.0015);
  EXPECT_EQ(s.consumer_lag, 42);
  EXPECT_FALSE(parse_kafka_stats("not json", 8, s));
}

TEST(KafkaStats, CountsTheBrokersUpAndNamesTheOthers) {
  const char* json = R"({
    "type": "consumer",
    "brokers": {
      "127.0.0.1:9092/bootstrap": {"nodeid": -1, "source": "configured", "state": "INIT"},
      "GroupCoordinator": {"nodeid": 1, "source": "logical", "state": "UP"},
      "127.0.0.1:9092/1": {"nodeid": 1, "source": "learned", "state": "TRY_CONNECT"}
    }
  })";
  KafkaClientStats s;
  ASSERT_TRUE(parse_kafka_stats(json, std::strlen(json), s));
  EXPECT_EQ(s.brokers, 2);  // the logical coordinator repeats broker 1
  EXPECT_EQ(s.brokers_up, 0);
  EXPECT_EQ(s.down, "127.0.0.1:9092/1: TRY_CONNECT, 127.0.0.1:9092/bootstrap: INIT");  // by name
}

TEST(MetricsRegistry, RemovingAConnectorDropsItsSeries) {
  MetricsRegistry m;
  m.add("records_in", "a", 0, 5);
  m.add("records_in", "b", 0, 1);
  Histogram h;
  h.observe(0.1);
  m.observe("produce_latency_seconds", "a", 0, h);
  m.remove_connector("a");
  auto s = m.snapshot();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].connector, "b");
  EXPECT_TRUE(m.histograms().empty());
}

}  // namespace ferry::metrics
