#include "kafka/produce_batch.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace ferry::kafka {
namespace {

size_t append(std::vector<char>& bytes, const char* data, size_t len) {
  size_t at = bytes.size();
  bytes.insert(bytes.end(), data, data + len);
  return at;
}

}  // namespace

void ProduceBatch::fit_to(rd_kafka_t* producer) {
  // librdkafka refuses a record whose key, value and headers plus at most 36 bytes of
  // framing exceed message.max.bytes; 128 leaves room should that framing grow.
  constexpr size_t kFraming = 128;
  std::array<char, 32> text{};
  size_t size = text.size();
  record_limit_ = 0;
  if (rd_kafka_conf_get(rd_kafka_conf(producer), "message.max.bytes", text.data(), &size) !=
      RD_KAFKA_CONF_OK)
    return;
  size_t max = std::strtoull(text.data(), nullptr, 10);
  record_limit_ = max > kFraming ? max - kFraming : 0;
}

void ProduceBatch::add(rd_kafka_topic_t* topic, const char* key, size_t key_len, const char* value,
                       size_t value_len, void* opaque) {
  topic_ = topic;
  rd_kafka_message_t& m = messages_.emplace_back();
  std::memset(&m, 0, sizeof m);
  // Offsets into bytes_ for now, kNull for a null key or value (see resolve_pointers).
  m.key = reinterpret_cast<void*>(key == nullptr ? kNull : append(bytes_, key, key_len));
  m.key_len = key == nullptr ? 0 : key_len;
  m.payload = reinterpret_cast<void*>(value == nullptr ? kNull : append(bytes_, value, value_len));
  m.len = value == nullptr ? 0 : value_len;
  m._private = opaque;
}

void ProduceBatch::resolve_pointers() {
  // An empty key or value must stay non-null (empty, not absent), even at the end of
  // the buffer or with the buffer empty.
  static const char kEmpty = 0;
  auto resolve = [&](void*& p, size_t len) {
    auto at = reinterpret_cast<uintptr_t>(p);
    if (at == kNull)
      p = nullptr;
    else if (len == 0)
      p = const_cast<char*>(&kEmpty);
    else
      p = bytes_.data() + at;
  };
  for (rd_kafka_message_t& m : messages_) {
    resolve(m.key, m.key_len);
    resolve(m.payload, m.len);
  }
}

void ProduceBatch::clear() {
  messages_.clear();
  bytes_.clear();
  topic_ = nullptr;
}

}  // namespace ferry::kafka
