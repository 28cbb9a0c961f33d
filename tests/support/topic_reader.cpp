#include "support/topic_reader.hpp"

#include <librdkafka/rdkafka.h>

#include <stdexcept>

#include "support/kafka_env.hpp"

namespace ferry::test {

struct TopicReader::Impl {
  rd_kafka_t* rk = nullptr;
  ~Impl() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

TopicReader::TopicReader(const std::string& topic, int32_t partition)
    : impl_(std::make_unique<Impl>()) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", test_bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", ("topic-reader-" + topic).c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  // The topic may not exist yet when the reader starts.
  rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", err, sizeof err);
  impl_->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (impl_->rk == nullptr) throw std::runtime_error(std::string("consumer: ") + err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), partition)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t e = rd_kafka_assign(impl_->rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("assign: ") + rd_kafka_err2str(e));
}

TopicReader::~TopicReader() = default;

size_t TopicReader::poll(const std::function<void(int64_t, std::string_view)>& on_value,
                         int wait_ms) {
  size_t n = 0;
  int wait = wait_ms;
  while (rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, wait)) {
    wait = 0;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      on_value(m->offset, std::string_view(static_cast<const char*>(m->payload), m->len));
      ++n;
    }
    // Errors (the topic not there yet, end of partition) are not messages; the caller
    // polls again.
    rd_kafka_message_destroy(m);
  }
  return n;
}

}  // namespace ferry::test
