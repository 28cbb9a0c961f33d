// librdkafka's default partitioner (consistent_random: CRC32 of the key modulo the
// partition count; random without a key), remembering the last key it hashed. A
// source's consecutive records usually share a key (file-source keys every line by
// its file's path), and hashing the same ~40 bytes for each record was ~8 % of the
// producing thread's time (perf, 2026-12-02). Same partitions as librdkafka's own.
#pragma once

#include <cstddef>
#include <cstdint>

#include <librdkafka/rdkafka.h>

namespace ferry::kafka {

int32_t remembering_consistent_random(const rd_kafka_topic_t* rkt, const void* key, size_t keylen,
                                      int32_t partition_cnt, void* rkt_opaque, void* msg_opaque);

// Makes it the partitioner of every topic created from `conf`.
void use_remembering_partitioner(rd_kafka_conf_t* conf);

}  // namespace ferry::kafka
