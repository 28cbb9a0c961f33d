#include "spans/group_collector.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kafka/embedded_broker.hpp"
#include "kafka/kafka_handles.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::spans {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

kafka::KafkaPtr client(rd_kafka_type_t type, const std::string& bootstrap) {
  std::array<char, 256> err{};
  kafka::ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set(conf.get(), "bootstrap.servers", bootstrap.c_str(), err.data(), err.size());
  rd_kafka_conf_set(conf.get(), "log_level", "0", err.data(), err.size());
  if (type == RD_KAFKA_CONSUMER)  // assign() needs one, though nothing is committed
    rd_kafka_conf_set(conf.get(), "group.id", "test-reader", err.data(), err.size());
  return kafka::KafkaPtr(rd_kafka_new(type, conf.release(), err.data(), err.size()));
}

void produce(const std::string& bootstrap, const std::string& topic, const std::string& key,
             const json& value) {
  kafka::KafkaPtr p = client(RD_KAFKA_PRODUCER, bootstrap);
  std::string v = value.dump();
  rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(v.data(), v.size()),
                    RD_KAFKA_V_END);
  ASSERT_EQ(rd_kafka_flush(p.get(), 10'000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

// The first message on partition 0 of `topic` whose JSON value satisfies `match`, within
// 30 s; null when none came.
json first_message(const std::string& bootstrap, const std::string& topic,
                   const std::function<bool(const json&)>& match) {
  kafka::KafkaPtr reader = client(RD_KAFKA_CONSUMER, bootstrap);
  kafka::PartitionListPtr from(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(from.get(), topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_assign(reader.get(), from.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return nullptr;
  json found;
  test::wait_until(
      [&] {
        kafka::MessagePtr m(rd_kafka_consumer_poll(reader.get(), 100));
        if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
        auto j = json::parse(static_cast<const char*>(m->payload),
                             static_cast<const char*>(m->payload) + m->len, nullptr, false);
        if (!j.is_object() || !match(j)) return false;
        found = j;
        return true;
      },
      30s, 0ms);
  return found;
}

// A broker that stalls right after a rebalance: the collector gets its work partition
// but cannot read the partition's groups from the state topic. It must not work on
// that partition without them (a Done would land in an empty group and be lost), and
// must pick the work up once the state can be read.
TEST(GroupCollectorRestore, AWorkPartitionWaitsUntilItsStateCanBeRead) {
  test::TempDir dir;
  std::string error;
  auto broker = kafka::EmbeddedBroker::start(dir.path(), error);
  ASSERT_TRUE(broker) << error;
  const std::string bootstrap = broker->bootstrap();
  for (const char* t : {"in", "in.ferry-work", "in.ferry-state"})
    ASSERT_EQ(rd_kafka_mock_topic_create(broker->cluster(), t, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::string group = "G1";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  // The group as its previous owner saved it: created, A done, B still expected.
  produce(bootstrap, "in.ferry-state", group,
          {{"id", group},
           {"created", true},
           {"expected", json::array({"A", "B"})},
           {"payload", {{"p", 1}}},
           {"ttl_ms", 600'000},
           {"created_ms", now_ms},
           {"results", {{"A", 1}}},
           {"touched_ms", now_ms}});
  rd_kafka_mock_partition_set_leader(broker->cluster(), "in.ferry-state", 0, -1);

  test::LogCapture logs("collector");

  GroupCollector::Settings s;
  s.input = "in";
  s.partitions = 1;
  s.create_topics = false;
  s.restore_wait_ms = 200;
  s.kafka = {config::KafkaProperties{{"bootstrap.servers", bootstrap}}};
  auto collector = GroupCollector::start(s, error);
  ASSERT_TRUE(collector) << error;
  ASSERT_TRUE(test::wait_until([&] { return logs.contains("its work waits"); }, 30s));
  produce(
      bootstrap, "in", group,
      {{"type", "EventGroupCollectorEntityDone"}, {"group", group}, {"id", "B"}, {"result", 2}});

  // Routed to the work partition, which must not act on it yet.
  ASSERT_FALSE(first_message(bootstrap, "in.ferry-work", [](const json& j) {
                 return j.value("id", "") == "B";
               }).is_null());

  rd_kafka_mock_partition_set_leader(broker->cluster(), "in.ferry-state", 0, 1);
  json output = first_message(bootstrap, "in", [](const json& j) {
    return j.value("type", "") == "EventGroupCollectorSuccess";
  });
  ASSERT_FALSE(output.is_null()) << "no EventGroupCollectorSuccess";
  EXPECT_EQ(output["id"], group);
  EXPECT_EQ(output["results"], json({{"A", 1}, {"B", 2}}));
  EXPECT_EQ(output["payload"], json({{"p", 1}}));
}

}  // namespace
}  // namespace ferry::spans
