// Decides which source offsets may be committed. A record's offset becomes committable
// only when it and every record emitted before it for the same source partition have
// been acknowledged by Kafka (or handled by the dead letter path), whatever order the
// delivery reports arrive in. Single-threaded: owned by one task's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ferry::runtime {

class SourceOffsetTracker {
 public:
  struct Partition;
  struct Entry {
    Partition* partition;
    std::string offset;
    size_t bytes;
    bool done;
    void* span = nullptr;  // SpanLedger::Span of a span-tagged record
    uint64_t seq = 0;
    bool dead_lettered = false;
    int64_t produced_us = 0;  // steady clock, for the produce latency histogram
  };
  // Called for each span-tagged entry whose offset becomes committable.
  using CommittableFn = void (*)(void* ctx, void* span, uint64_t seq);
  void on_committable(CommittableFn fn, void* ctx) {
    committable_fn_ = fn;
    committable_ctx_ = ctx;
  }

  // Registers an emitted record (or, with `done`, an offset-only marker). The pointer
  // stays valid until the entry is acknowledged and everything before it too.
  Entry* add(std::string_view partition, std::string_view offset, size_t bytes, bool done = false);
  void ack(Entry* entry);

  size_t in_flight_records() const { return in_flight_records_; }
  uint64_t in_flight_bytes() const { return in_flight_bytes_; }

  // Offsets that became committable since the last call, by partition.
  std::map<std::string, std::string> take_committable();
  // Whether take_committable() would return anything.
  bool has_committable() const { return dirty_partitions_ > 0; }
  // Hands back what take_committable() returned when saving it failed, unless the
  // partition has a newer committable offset by now.
  void restore(const std::map<std::string, std::string>& committable);
  // Hands each partition whose acknowledged prefix grew since the last call, with the
  // offset of the newest record in it, to `fn(name, offset)`. Partition "" included:
  // a source without positions may still wait for Kafka (MQTT acknowledgements).
  template <class Fn>
  void take_delivered(Fn&& fn) {
    for (Partition* p : delivered_) {
      p->delivered_dirty = false;
      if (p->committable) fn(std::string_view(p->name), std::string_view(*p->committable));
    }
    delivered_.clear();
  }
  bool has_delivered() const { return !delivered_.empty(); }

  // The source is done with `partition`: its committable offset is dropped, and so is
  // the partition itself unless records of it are still in flight (their offsets then
  // become committable as usual).
  void forget(std::string_view partition);

  struct Partition {
    std::string name;
    std::deque<Entry> entries;
    std::optional<std::string> committable;
    bool dirty = false;
    bool delivered_dirty = false;  // listed in delivered_
  };

 private:
  void advance(Partition& p);

  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
  Partition* last_ = nullptr;
  std::vector<Partition*> delivered_;
  CommittableFn committable_fn_ = nullptr;
  void* committable_ctx_ = nullptr;  // consecutive records usually share a partition
  size_t in_flight_records_ = 0;
  size_t dirty_partitions_ = 0;
  uint64_t in_flight_bytes_ = 0;
};

}  // namespace ferry::runtime
