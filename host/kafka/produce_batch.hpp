// Collects records bound for one topic and queues them on the producer with a single
// rd_kafka_produce_batch call. Per record, rd_kafka_producev reads the clock three
// times and takes the topic lock; a batch does that once. With 100-byte lines those
// clock reads alone were ~8 % of a source task's CPU on the thread that limits its
// throughput. librdkafka 2.0.2's batch call takes no headers and stamps every message
// with the time of the call, so only records without headers or their own timestamp
// can go this way.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <vector>

namespace ferry::kafka {

class ProduceBatch {
 public:
  // A refused record: key and value (null data for a null key or value) stay valid
  // during the call only; `opaque` is the one given to add().
  struct Refused {
    rd_kafka_topic_t* topic;
    const char* key;
    size_t key_len;
    const char* value;
    size_t value_len;
    void* opaque;
    rd_kafka_resp_err_t err;
  };

  explicit ProduceBatch(size_t max_records = 1024, size_t max_bytes = 1 << 20)
      : max_records_(max_records), max_bytes_(max_bytes) {}

  // Reads the producer's message.max.bytes: a record librdkafka would refuse as too
  // large must not be batched, because the batch call still queues the records after
  // a refused one, which a producev caller would not have produced.
  void fit_to(rd_kafka_t* producer);
  // Whether a record of `key_len` + `value_len` bytes may be batched.
  bool fits(size_t key_len, size_t value_len) const { return key_len + value_len <= record_limit_; }
  // Whether a record for `topic` can join without a produce() first.
  bool accepts(rd_kafka_topic_t* topic) const { return messages_.empty() || topic == topic_; }
  // Copies key and value. A null `data` stays null (no key; a tombstone value).
  void add(rd_kafka_topic_t* topic, const char* key, size_t key_len, const char* value,
           size_t value_len, void* opaque);
  bool empty() const { return messages_.empty(); }
  size_t size() const { return messages_.size(); }
  bool full() const { return messages_.size() >= max_records_ || bytes_.size() >= max_bytes_; }

  // Queues every record, in the order added, on the topic's producer (partitioned by
  // its partitioner), calls `on_refused` for each record librdkafka did not accept, and
  // empties the batch. Returns how many were queued.
  template <class OnRefused>
  size_t produce(OnRefused&& on_refused) {
    if (messages_.empty()) return 0;
    resolve_pointers();
    int queued = rd_kafka_produce_batch(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                        messages_.data(), static_cast<int>(messages_.size()));
    if (static_cast<size_t>(queued) != messages_.size()) {
      for (const rd_kafka_message_t& m : messages_)
        if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR)
          on_refused(Refused{topic_, static_cast<const char*>(m.key), m.key_len,
                             static_cast<const char*>(m.payload), m.len, m._private, m.err});
    }
    clear();
    return static_cast<size_t>(queued);
  }

  // Drops the records without queuing them.
  void clear();

 private:
  // The bytes are appended to one buffer that may move as it grows, so messages hold
  // offsets into it until produce() turns them into pointers.
  void resolve_pointers();

  static constexpr size_t kNull = static_cast<size_t>(-1);
  size_t max_records_, max_bytes_;
  size_t record_limit_ = 0;  // nothing fits until fit_to()
  rd_kafka_topic_t* topic_ = nullptr;
  std::vector<rd_kafka_message_t> messages_;
  std::vector<char> bytes_;
};

}  // namespace ferry::kafka
