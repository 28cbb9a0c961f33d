#include "spans/span_tracker.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <string>

#include "kafka/embedded_broker.hpp"
#include "spans/span_publisher.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::spans {
namespace {

using namespace std::chrono_literals;

// ferry starts while the broker is unreachable (e.g. both come up at boot): it must not
// give up on tracking, but attach once the broker answers.
TEST(SpanTrackerStart, ABrokerDownAtStartIsWaitedForThenSpansAreTracked) {
  test::TempDir dir;
  std::string error;
  auto broker = kafka::EmbeddedBroker::start(dir.path(), error);
  ASSERT_TRUE(broker) << error;
  ASSERT_EQ(rd_kafka_mock_topic_create(broker->cluster(), "spans", 2, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(broker->cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);

  test::LogCapture logs("spans");

  std::vector<config::KafkaProperties> layers{{{"bootstrap.servers", broker->bootstrap()}}};
  auto own = SpanPublisher::create(layers, "spans", "host-a", error);
  ASSERT_TRUE(own) << error;
  // Another host's events reach the tracker only through its reader of the span topic.
  auto other = SpanPublisher::create(layers, "spans", "host-b", error);
  ASSERT_TRUE(other) << error;
  SpanTracker::Settings s;
  s.topic = "spans";
  s.partitions = 2;
  s.kafka = layers;
  s.instance = "host-a:" + dir.path().string();
  s.create_topic = false;
  auto tracker = SpanTracker::start(s, *own, error);
  ASSERT_TRUE(tracker) << error;
  EXPECT_TRUE(logs.contains("retrying in the background"));

  ASSERT_EQ(rd_kafka_mock_broker_set_up(broker->cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  other->publish("span.opened", "S1", {{"connector", "c"}, {"attrs", {{"path", "/x"}}}});
  ASSERT_TRUE(other->flush(30'000));
  ASSERT_TRUE(test::wait_until([&] { return tracker->get("S1").has_value(); }, 30s));
  EXPECT_EQ(tracker->get("S1")->value("host", ""), "host-b");
}

}  // namespace
}  // namespace ferry::spans
