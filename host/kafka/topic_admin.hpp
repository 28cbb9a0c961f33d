// Creating the topics ferry owns (span events, collector work and state) with the
// partitions and configs they need, before anything can auto-create them wrongly.
#pragma once

#include <map>
#include <string>

#include <librdkafka/rdkafka.h>

#include "ferry/status.hpp"

namespace ferry::kafka {

// Creates `topic` unless it exists: Ok when it was created or already existed,
// retriable otherwise (the broker did not answer, or refused).
[[nodiscard]] Status ensure_topic(rd_kafka_t* client, const std::string& topic, int partitions,
                                  const std::map<std::string, std::string>& configs = {});

// Partition count of `topic` as the broker sees it now: 0 when it does not exist, -1
// when the broker did not answer within `timeout_ms`.
int existing_partitions(rd_kafka_t* client, const std::string& topic, int timeout_ms);

// Partition count of `topic`, waiting up to ~10 s for it to appear; 0 when unknown.
int partition_count(rd_kafka_t* client, const std::string& topic);

}  // namespace ferry::kafka
