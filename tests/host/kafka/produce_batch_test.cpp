#include "kafka/produce_batch.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "kafka/embedded_broker.hpp"
#include "kafka/kafka_handles.hpp"
#include "support/temp_dir.hpp"

namespace ferry::kafka {
namespace {

struct Seen {
  std::optional<std::string> key, value;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* delivered) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    static_cast<std::vector<intptr_t>*>(delivered)->push_back(
        reinterpret_cast<intptr_t>(m->_private));
}

KafkaPtr client(rd_kafka_type_t type, const std::string& bootstrap,
                std::vector<std::pair<std::string, std::string>> props, void* opaque = nullptr) {
  std::array<char, 256> err{};
  ConfPtr conf(rd_kafka_conf_new());
  props.emplace_back("bootstrap.servers", bootstrap);
  props.emplace_back("log_level", "0");
  for (const auto& [k, v] : props)
    EXPECT_EQ(rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err.data(), err.size()),
              RD_KAFKA_CONF_OK)
        << err.data();
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), opaque);
  }
  return KafkaPtr(rd_kafka_new(type, conf.release(), err.data(), err.size()));
}

std::vector<Seen> read_all(const std::string& bootstrap, const char* topic, size_t count) {
  KafkaPtr c = client(RD_KAFKA_CONSUMER, bootstrap, {{"group.id", "produce-batch-test"}});
  PartitionListPtr parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(c.get(), parts.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<Seen> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    MessagePtr m(rd_kafka_consumer_poll(c.get(), 100));
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    Seen s;
    if (m->key != nullptr) s.key.emplace(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) s.value.emplace(static_cast<const char*>(m->payload), m->len);
    out.push_back(std::move(s));
  }
  return out;
}

class ProduceBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    broker_ = EmbeddedBroker::start(dir_.path(), error);
    ASSERT_TRUE(broker_) << error;
    ASSERT_EQ(rd_kafka_mock_topic_create(broker_->cluster(), "t", 1, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  test::TempDir dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::vector<intptr_t> delivered_;
};

// A null key is no key and a null value a tombstone; empty ones must stay empty, not
// become null, including at the end of the batch's buffer. Order is the order added,
// across the buffer growing many times.
TEST_F(ProduceBatchTest, KeepsOrderAndTellsNullFromEmpty) {
  KafkaPtr p = client(RD_KAFKA_PRODUCER, broker_->bootstrap(), {}, &delivered_);
  TopicPtr t(rd_kafka_topic_new(p.get(), "t", nullptr));
  ProduceBatch batch(100'000, 1 << 30);
  const size_t n = 3000;
  for (size_t i = 0; i < n; ++i) {
    std::string v = "value-" + std::to_string(i);
    batch.add(t.get(), i % 3 == 0 ? nullptr : "k", i % 3 == 1 ? 1 : 0, v.data(), v.size(),
              reinterpret_cast<void*>(static_cast<intptr_t>(i)));
  }
  batch.add(t.get(), "", 0, nullptr, 0, reinterpret_cast<void*>(n));      // tombstone
  batch.add(t.get(), nullptr, 0, "", 0, reinterpret_cast<void*>(n + 1));  // empty value last
  ASSERT_EQ(batch.size(), n + 2);
  EXPECT_EQ(batch.produce([](const ProduceBatch::Refused&) { ADD_FAILURE() << "refused"; }), n + 2);
  EXPECT_TRUE(batch.empty());
  ASSERT_EQ(rd_kafka_flush(p.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(delivered_.size(), n + 2);
  for (size_t i = 0; i < delivered_.size(); ++i) ASSERT_EQ(delivered_[i], intptr_t(i));

  std::vector<Seen> seen = read_all(broker_->bootstrap(), "t", n + 2);
  ASSERT_EQ(seen.size(), n + 2);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(seen[i].value, "value-" + std::to_string(i));
    if (i % 3 == 0)
      ASSERT_FALSE(seen[i].key) << i;
    else
      ASSERT_EQ(seen[i].key, i % 3 == 1 ? "k" : "") << i;
  }
  EXPECT_EQ(seen[n].key, "");
  EXPECT_FALSE(seen[n].value);
  EXPECT_FALSE(seen[n + 1].key);
  EXPECT_EQ(seen[n + 1].value, "");
}

TEST_F(ProduceBatchTest, ReportsEachRefusedRecordAndQueuesTheRest) {
  KafkaPtr p =
      client(RD_KAFKA_PRODUCER, broker_->bootstrap(), {{"message.max.bytes", "2000"}}, &delivered_);
  TopicPtr t(rd_kafka_topic_new(p.get(), "t", nullptr));
  ProduceBatch batch;
  std::string big(5000, 'B');
  batch.add(t.get(), nullptr, 0, "first", 5, reinterpret_cast<void*>(1));
  batch.add(t.get(), "key", 3, big.data(), big.size(), reinterpret_cast<void*>(2));
  batch.add(t.get(), nullptr, 0, "third", 5, reinterpret_cast<void*>(3));
  std::vector<ProduceBatch::Refused> refused;
  std::string refused_value;
  EXPECT_EQ(batch.produce([&](const ProduceBatch::Refused& r) {
    refused.push_back(r);
    refused_value.assign(r.value, r.value_len);
  }),
            2u);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].opaque, reinterpret_cast<void*>(2));
  EXPECT_EQ(refused[0].err, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  EXPECT_EQ(refused[0].topic, t.get());
  EXPECT_EQ(refused[0].key_len, 3u);
  EXPECT_EQ(refused_value, big);
  ASSERT_EQ(rd_kafka_flush(p.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(delivered_, (std::vector<intptr_t>{1, 3}));
}

TEST_F(ProduceBatchTest, TakesOnlyRecordsTheProducerWouldNotRefuseAsTooLarge) {
  ProduceBatch batch;
  EXPECT_FALSE(batch.fits(0, 1));  // until it knows the producer's limit
  KafkaPtr p =
      client(RD_KAFKA_PRODUCER, broker_->bootstrap(), {{"message.max.bytes", "2000"}}, &delivered_);
  batch.fit_to(p.get());
  EXPECT_TRUE(batch.fits(100, 1000));
  EXPECT_FALSE(batch.fits(0, 2000));
  EXPECT_FALSE(batch.fits(1000, 1000));
}

TEST(ProduceBatch, IsFullAtItsRecordOrByteLimitAndTakesOneTopic) {
  ProduceBatch batch(2, 10);
  auto* a = reinterpret_cast<rd_kafka_topic_t*>(0x1);
  auto* b = reinterpret_cast<rd_kafka_topic_t*>(0x2);
  EXPECT_TRUE(batch.accepts(a));
  batch.add(a, nullptr, 0, "123", 3, nullptr);
  EXPECT_FALSE(batch.full());
  EXPECT_TRUE(batch.accepts(a));
  EXPECT_FALSE(batch.accepts(b));
  batch.add(a, nullptr, 0, "4", 1, nullptr);
  EXPECT_TRUE(batch.full());
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.accepts(b));
  batch.add(b, "0123456789", 10, nullptr, 0, nullptr);
  EXPECT_TRUE(batch.full());
  batch.clear();
}

}  // namespace
}  // namespace ferry::kafka
