// Records as plugins see them. Both types only borrow memory: a SourceRecord points at
// the plugin's buffers until `emit` returns (the host copies), a RecordView points at
// the host's buffers until `put` returns.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ferry/abi.h"

namespace ferry {

inline ferry_bytes to_bytes(std::string_view s) {
  return ferry_bytes{s.data(), s.size()};
}
inline ferry_bytes null_bytes() {
  return ferry_bytes{nullptr, 0};
}
inline std::optional<std::string_view> from_bytes(ferry_bytes b) {
  if (b.data == nullptr) return std::nullopt;
  return std::string_view(b.data, b.len);
}

// What a source emits. Build it on the stack per record; it owns nothing.
struct SourceRecord {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<ferry_header_view> headers;
  const char* topic = nullptr;  // NUL-terminated; nullptr = connector topic
  int64_t timestamp_ms = 0;
  std::string_view source_partition;
  std::string_view source_offset;
  bool offset_only = false;  // see FERRY_RECORD_OFFSET_ONLY
  std::string_view span;     // key of an open span (Host::span_open); empty = none

  void add_header(const char* name, std::string_view text) {
    headers.push_back(ferry_header_view{name, to_bytes(text)});
  }

  ferry_record_view view() const {
    ferry_record_view v{};
    v.struct_size = sizeof(ferry_record_view);
    v.flags = offset_only ? FERRY_RECORD_OFFSET_ONLY : 0u;
    v.key = key ? to_bytes(*key) : null_bytes();
    v.value = value ? to_bytes(*value) : null_bytes();
    v.headers = headers.data();
    v.header_count = headers.size();
    v.topic = topic;
    v.partition = -1;
    v.timestamp_ms = timestamp_ms;
    v.source_partition = to_bytes(source_partition);
    v.source_offset = to_bytes(source_offset);
    v.span = to_bytes(span);
    return v;
  }
};

// A record handed to a sink.
class RecordView {
 public:
  explicit RecordView(const ferry_record_view& v) : v_(&v) {}
  std::optional<std::string_view> key() const { return from_bytes(v_->key); }
  std::optional<std::string_view> value() const { return from_bytes(v_->value); }
  std::string_view topic() const { return v_->topic ? v_->topic : ""; }
  int32_t partition() const { return v_->partition; }
  int64_t offset() const { return v_->offset; }
  int64_t timestamp_ms() const { return v_->timestamp_ms; }
  std::span<const ferry_header_view> headers() const { return {v_->headers, v_->header_count}; }
  // The last header with this name, as Kafka clients conventionally resolve duplicates.
  std::optional<std::string_view> header(std::string_view name) const {
    std::optional<std::string_view> found;
    for (const auto& h : headers())
      if (name == h.name) found = from_bytes(h.value);
    return found;
  }
  // The span id and 1-based position in it; empty / 0 when the record has no span.
  std::string_view span() const {
    if (v_->struct_size < sizeof(ferry_record_view) || v_->span.data == nullptr) return {};
    return {v_->span.data, v_->span.len};
  }
  uint64_t span_seq() const {
    return v_->struct_size < sizeof(ferry_record_view) ? 0 : v_->span_seq;
  }
  const ferry_record_view& raw() const { return *v_; }

 private:
  const ferry_record_view* v_;
};

// A record to emit that starts as a copy of `r` (key, value, headers, topic, time):
// what a transform changes and passes on. It points into `r`: emit it before apply
// returns, or give it owned strings for anything it replaces.
inline SourceRecord pass_on(const RecordView& r) {
  SourceRecord out;
  out.key = r.key();
  out.value = r.value();
  out.headers.assign(r.headers().begin(), r.headers().end());
  out.topic = r.raw().topic;
  out.timestamp_ms = r.timestamp_ms();
  return out;
}

}  // namespace ferry
