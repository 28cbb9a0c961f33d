#include "kafka/watermarks.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <string>

#include "kafka/embedded_broker.hpp"
#include "kafka/kafka_handles.hpp"
#include "support/temp_dir.hpp"

namespace ferry::kafka {
namespace {

KafkaPtr consumer(const std::string& bootstrap) {
  std::array<char, 256> err{};
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set(conf.get(), "bootstrap.servers", bootstrap.c_str(), err.data(), err.size());
  rd_kafka_conf_set(conf.get(), "log_level", "0", err.data(), err.size());
  return KafkaPtr(rd_kafka_new(RD_KAFKA_CONSUMER, conf.release(), err.data(), err.size()));
}

// What a broker coming back from a stall looks like to a client made at that moment
// (the collector makes one to read its state): the partition has no leader, then it
// has one again.
TEST(QueryWatermarks, AnswersOnceThePartitionHasALeaderAgain) {
  test::TempDir dir;
  std::string error;
  auto broker = EmbeddedBroker::start(dir.path(), error);
  ASSERT_TRUE(broker) << error;
  ASSERT_EQ(rd_kafka_mock_topic_create(broker->cluster(), "state", 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_mock_partition_set_leader(broker->cluster(), "state", 0, -1);
  KafkaPtr rk = consumer(broker->bootstrap());
  ASSERT_TRUE(rk);
  int64_t lo = -1, hi = -1;
  EXPECT_NE(query_watermarks(rk.get(), "state", 0, lo, hi, 2000), RD_KAFKA_RESP_ERR_NO_ERROR);

  rd_kafka_mock_partition_set_leader(broker->cluster(), "state", 0, 1);
  // A plain rd_kafka_query_watermark_offsets keeps failing here, for 15 minutes: its
  // client remembers the partition as having no leader and does not ask again.
  EXPECT_EQ(query_watermarks(rk.get(), "state", 0, lo, hi, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(hi, 0);
}

}  // namespace
}  // namespace ferry::kafka
