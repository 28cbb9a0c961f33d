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
// For the clients of source and sink tasks, which register a statistics callback
// feeding /metrics (queue depth, broker round-trip times, errors). Other clients leave
// statistics off: without a callback they would pile up in queues nobody polls.
config::KafkaProperties task_statistics();
config::KafkaProperties consumer_defaults(const std::string& group_id);
// librdkafka 2.2 made the pause after a full prefetch queue a setting; before it, a
// fixed second that SinkRunner works around.
bool fetch_queue_backoff_configurable();
// What a sink task's consumer sets over consumer_defaults (the user's [kafka] wins).
config::KafkaProperties sink_consumer_tuning();
// Settings that make clients of the embedded mock broker responsive.
config::KafkaProperties embedded_tuning();
config::KafkaProperties embedded_consumer_tuning();

}  // namespace ferry::kafka
