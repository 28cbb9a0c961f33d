// Asking a partition's low and high watermarks so that a leader change cannot wedge
// the answer.
#pragma once

#include <cstdint>
#include <string>

#include <librdkafka/rdkafka.h>

namespace ferry::kafka {

// rd_kafka_query_watermark_offsets, except that after a failure other than a timeout it
// refreshes the topic's metadata and asks the partition's current leader once more, all
// within `timeout_ms`.
rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     int32_t partition, int64_t& low, int64_t& high,
                                     int timeout_ms);

}  // namespace ferry::kafka
