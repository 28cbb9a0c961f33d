// The per-record bookkeeping of a source: register a record, acknowledge it, commit.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "runtime/source_offset_tracker.hpp"

static void BM_TrackAndAck(benchmark::State& state) {
  ferry::runtime::SourceOffsetTracker t;
  std::vector<ferry::runtime::SourceOffsetTracker::Entry*> batch;
  uint64_t pos = 0;
  for (auto _ : state) {
    batch.clear();
    for (int i = 0; i < 1000; ++i)
      batch.push_back(t.add("65024:1234567", std::to_string(pos += 100), 100));
    for (auto* e : batch) t.ack(e);
    benchmark::DoNotOptimize(t.take_committable());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1000);
}
BENCHMARK(BM_TrackAndAck);
