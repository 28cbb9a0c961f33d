// Writes a record that could not be processed to the dead letter topic, with its
// original key, value and headers plus `ferry.error.*` headers saying why and where.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#include "ferry/abi.h"

namespace ferry::runtime {

struct DeadLetterContext {
  std::string_view reason;
  std::string_view stage;  // "source", "sink", "produce"
  std::string_view connector;
  uint32_t task = 0;
  // Where the record came from, when it came from Kafka (sinks) or was bound for it.
  std::string_view origin_topic;
  int32_t origin_partition = -1;
  int64_t origin_offset = -1;
};

// Queues the record on `rk` for `topic` with `opaque` for its delivery report.
rd_kafka_resp_err_t produce_dead_letter(rd_kafka_t* rk, const std::string& topic,
                                        const ferry_record_view& record,
                                        const DeadLetterContext& ctx, void* opaque);

}  // namespace ferry::runtime
