// The real Kafka broker that ctest's `services` fixture starts (scripts/kafka.sh), and
// kcat as the independent client that checks what ferry wrote.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::test {

// Where ctest's `services` fixture keeps `service` ("kafka", "mqtt"): its scripts'
// DIR argument; "" when the tests run outside ctest.
std::string test_service_dir(const std::string& service);
// Address of the test broker; throws with instructions when none is running.
std::string test_bootstrap();
// A topic name no other test (or earlier run) uses.
std::string unique_topic(const std::string& prefix);

struct KafkaMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::map<std::string, std::string> headers;
};

// Every message currently in `topic` (all partitions), read with kcat. kcat -e stops
// only on a fetch that comes back empty, which never happens while a source keeps
// producing: for such topics pass `limit` (e.g. end_offset() of a one-partition topic)
// and kcat stops after that many messages.
std::vector<KafkaMessage> kcat_consume(const std::string& topic, int64_t limit = -1);
// The next offset to be written in topic/partition (kcat -Q with timestamp -1).
int64_t end_offset(const std::string& topic, int32_t partition = 0);
// The offset consumer group `group` committed for topic/partition (-1: none).
int64_t committed_offset(const std::string& group, const std::string& topic, int32_t partition = 0);
// Produces each line of `file` as one message with kcat (-P < file).
void kcat_produce_lines(const std::string& topic, const std::string& file);

// Creates `topic` with `partitions` partitions (kcat cannot create topics).
void create_topic(const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs = {});
// The value of topic config `name` (e.g. "cleanup.policy") as the broker reports it.
std::string topic_config(const std::string& topic, const std::string& name);
// Reads `topic` to its end as a member of consumer group `group` with kcat -G, which
// commits its offsets when it leaves. Returns the number of messages read.
size_t kcat_consume_as_group(const std::string& group, const std::string& topic);

// A record as a hostile or foreign producer may write it: any header bytes (NUL too)
// and any timestamp, which kcat cannot set. Produced with librdkafka, acks=all.
struct RecordToProduce {
  RecordToProduce() = default;
  RecordToProduce(std::optional<std::string> k, std::optional<std::string> v)
      : key(std::move(k)), value(std::move(v)) {}
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = 0;  // 0: now
  int32_t partition = 0;
};
void produce_records(const std::string& topic, const std::vector<RecordToProduce>& records);

// Paths of the binaries under test.
std::string ferry_binary();
std::string test_plugin_dir();
std::string source_dir();

}  // namespace ferry::test
