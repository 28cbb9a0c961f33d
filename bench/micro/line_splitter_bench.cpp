// Line splitting of 100-byte lines fed in 256 KiB reads, as file-source does.
#include <benchmark/benchmark.h>

#include <string>

#include "line_splitter.hpp"

static void BM_SplitLines(benchmark::State& state) {
  std::string chunk;
  while (chunk.size() < 256 * 1024) chunk += std::string(99, 'x') + "\n";
  size_t lines = 0;
  for (auto _ : state) {
    ferry::file::LineSplitter s(512 * 1024, ferry::file::LongLinePolicy::kSplit);
    s.feed(chunk);
    while (auto l = s.next()) {
      benchmark::DoNotOptimize(l->text.data());
      ++lines;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(chunk.size()));
  state.counters["lines/s"] = benchmark::Counter(double(lines), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SplitLines);
