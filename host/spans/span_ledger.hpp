// The source side of spans, one per source task: maps the plugin's span keys to span
// ids, numbers each span's records, follows their delivery reports and emits
// span.opened / closed / delivered / failed / expired.
//
// Span state is saved in the connector's offset file, in the same atomic write as the
// source offsets it corresponds to. After a crash a span therefore resumes exactly
// where its committed records end: the records the source sends again get the same
// id and the same `seq` as before, so a consumer can tell them for duplicates.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "ferry/status.hpp"
#include "spans/span_publisher.hpp"
#include "state/durable_map.hpp"

namespace ferry::spans {

// Keys of span state inside a connector's offset map start with this (no source
// partition can: plugins never see these entries).
inline constexpr std::string_view kStateKeyPrefix =
    "\x1f"
    "span:";

// A new span id: 32 hex digits, time-ordered (48-bit milliseconds) then 80 random bits,
// so ids are unique across hosts and restarts and sort roughly by creation.
std::string new_span_id();

class SpanLedger {
 public:
  enum class Final { none, delivered, failed, expired };
  struct Span {
    std::string id, key;
    nlohmann::json attrs = nlohmann::json::object();
    int64_t opened_at_ms = 0;
    uint64_t last_seq = 0;         // seq of the last record emitted = records so far
    uint64_t committable_seq = 0;  // records up to here have committable source offsets
    uint64_t committed_seq = 0;    // ... and are in the offset file
    uint64_t in_flight = 0, acked = 0, failed = 0;
    int64_t last_ack_ms = 0;  // when the latest delivery report of the span arrived
    bool closed = false;
    bool used = true;  // false for a span loaded from state that this run never re-opened
    Final final = Final::none;
    std::string reason;
    bool final_sent = false, final_acked = false;
    std::map<std::string, std::map<int32_t, std::pair<int64_t, int64_t>>> ranges;
    // The range the previous ack extended (acks of a span mostly hit one partition);
    // map nodes never move, so the pointer stays valid.
    const char* last_topic = nullptr;
    int32_t last_partition = -1;
    std::pair<int64_t, int64_t>* last_range = nullptr;
    bool dirty = true;
  };

  // `topic`: the connector's topic, named in span.delivered even when the span has no
  // record (an empty file), so trackers know which consumer groups it concerns.
  SpanLedger(SpanPublisher& publisher, std::string connector, std::string topic, int64_t ttl_ms,
             state::DurableMap& offsets, std::shared_ptr<spdlog::logger> log, uint32_t task = 0,
             uint32_t task_count = 1);

  Status open(std::string_view key, nlohmann::json attrs);
  Status close(std::string_view key);
  // The open span named `key`, opened on first use.
  Span* span_for(std::string_view key);
  uint64_t next_seq(Span* s) {
    ++s->in_flight;
    return ++s->last_seq;
  }
  void acked(Span* s, const char* topic, int32_t partition, int64_t offset);
  void failed(Span* s, const std::string& reason);
  // The record `seq` of `s` and everything before it in its source partition are
  // committable (the offset tracker moved past them).
  void committable(Span* s, uint64_t seq) {
    if (seq > s->committable_seq) s->committable_seq = seq;
    s->dirty = true;
  }

  // Expiry, event retries and clean-up; call often from the task thread.
  void tick();
  // State changes to write together with the committable source offsets.
  std::map<std::string, std::optional<std::string>> take_changes();

  size_t open_count() const { return by_key_.size(); }
  size_t tracked_count() const { return spans_.size(); }

 private:
  Span* create(std::string_view key, nlohmann::json attrs);
  void maybe_finish(Span& s);
  void send_final(Span& s);
  nlohmann::json state_json(const Span& s) const;

  struct Inbox {
    std::mutex mu;
    std::vector<std::pair<std::string, bool>> acks;  // span id, delivered ok
  };

  SpanPublisher& publisher_;
  std::string connector_, topic_;
  int64_t ttl_ms_;
  uint32_t task_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  std::unordered_map<std::string, std::unique_ptr<Span>> spans_;  // by id
  std::unordered_map<std::string, Span*> by_key_;                 // open spans
  std::vector<std::string> erased_;                               // ids to drop from state
  Span* last_ = nullptr;
  int64_t next_tick_ms_ = 0;
};

}  // namespace ferry::spans
