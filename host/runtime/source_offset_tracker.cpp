#include "runtime/source_offset_tracker.hpp"

#include <algorithm>

namespace ferry::runtime {

SourceOffsetTracker::Entry* SourceOffsetTracker::add(std::string_view partition,
                                                     std::string_view offset, size_t bytes,
                                                     bool done) {
  Partition* p = last_;
  if (p == nullptr || p->name != partition) {
    auto& slot = partitions_[std::string(partition)];
    if (!slot) {
      slot = std::make_unique<Partition>();
      slot->name = std::string(partition);
    }
    p = last_ = slot.get();
  }
  p->entries.push_back(Entry{p, std::string(offset), bytes, done, nullptr, 0, false});
  Entry* e = &p->entries.back();
  if (done) {
    advance(*p);
    return nullptr;  // may already be gone
  }
  ++in_flight_records_;
  in_flight_bytes_ += bytes;
  return e;
}

void SourceOffsetTracker::ack(Entry* entry) {
  if (entry == nullptr || entry->done) return;
  entry->done = true;
  --in_flight_records_;
  in_flight_bytes_ -= entry->bytes;
  advance(*entry->partition);
}

void SourceOffsetTracker::advance(Partition& p) {
  while (!p.entries.empty() && p.entries.front().done) {
    if (p.entries.front().span != nullptr && committable_fn_ != nullptr)
      committable_fn_(committable_ctx_, p.entries.front().span, p.entries.front().seq);
    p.committable = std::move(p.entries.front().offset);
    if (!p.dirty && !p.name.empty()) ++dirty_partitions_;
    p.dirty = true;
    p.entries.pop_front();
    if (!p.delivered_dirty) {
      p.delivered_dirty = true;
      delivered_.push_back(&p);
    }
  }
}

std::map<std::string, std::string> SourceOffsetTracker::take_committable() {
  std::map<std::string, std::string> out;
  for (auto& [name, p] : partitions_) {
    // Records without a source position (a sensor reading) have nothing to commit.
    if (name.empty()) continue;
    if (p->dirty && p->committable) {
      out[name] = *p->committable;
      p->dirty = false;
    }
  }
  dirty_partitions_ = 0;
  return out;
}

void SourceOffsetTracker::restore(const std::map<std::string, std::string>& committable) {
  for (const auto& [name, offset] : committable) {
    auto it = partitions_.find(name);
    if (it == partitions_.end() || it->second->dirty) continue;  // forgotten, or newer
    it->second->committable = offset;
    it->second->dirty = true;
    ++dirty_partitions_;
  }
}

void SourceOffsetTracker::forget(std::string_view partition) {
  auto it = partitions_.find(std::string(partition));
  if (it == partitions_.end()) return;
  Partition& p = *it->second;
  if (p.dirty && !p.name.empty()) --dirty_partitions_;
  if (!p.entries.empty()) {
    p.committable.reset();
    p.dirty = false;
    return;
  }
  if (last_ == &p) last_ = nullptr;
  if (p.delivered_dirty) std::erase(delivered_, &p);
  partitions_.erase(it);
}

}  // namespace ferry::runtime
