// Builds librdkafka configurations: ferry's delivery defaults, then the worker's
// [kafka] table, then the connector's [kafka] overrides; a few settings that the
// delivery guarantees depend on are forced last.
#pragma once

#include <string>
#include <vector>

#include "config/kafka_properties.hpp"
#include "kafka/kafka_handles.hpp"

namespace ferry::kafka {

// Returns null and sets `error` when librdkafka rejects a property.
ConfPtr make_conf(const std::vector<config::KafkaProperties>& layers, std::string& error);

// rd_kafka_new, which takes `conf` over on success; null with `error` set otherwise.
// A consumer's events are served by rd_kafka_consumer_poll.
KafkaPtr new_client(rd_kafka_type_t type, ConfPtr& conf, std::string& error);

config::KafkaProperties producer_defaults(int64_t retry_timeout_ms);
config::KafkaProperties consumer_defaults(const std::string& group_id);
// Settings that make clients of the embedded mock broker responsive.
config::KafkaProperties embedded_tuning();
config::KafkaProperties embedded_consumer_tuning();

}  // namespace ferry::kafka
