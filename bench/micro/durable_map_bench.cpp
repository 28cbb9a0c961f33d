// The cost of one offsets save as the number of saved keys grows (file-source keeps one
// per file): ferry's journal append against rewriting the whole file, as every save did
// before the journal (temp file, fsync, rename, directory fsync). Both on the same disk,
// both durable. Run: build/release/bin/ferry_micro_bench --benchmark_filter=Save
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/atomic_file.hpp"
#include "state/durable_map.hpp"

namespace {

std::filesystem::path scratch(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("ferry-bench-" + std::string(name));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::map<std::string, std::optional<std::string>> keys(int64_t n) {
  std::map<std::string, std::optional<std::string>> out;
  for (int64_t i = 0; i < n; ++i) out["65024:" + std::to_string(1000000 + i)] = "123456789";
  return out;
}

void BM_SaveOneOffsetJournal(benchmark::State& state) {
  auto dir = scratch("journal");
  auto map = std::move(ferry::state::DurableMap::open(dir / "offsets.json")).value();
  if (!map->update(keys(state.range(0))).ok()) state.SkipWithError("initial save failed");
  int64_t pos = 0;
  for (auto _ : state)
    if (!map->update({{"65024:1000000", std::to_string(pos += 100)}}).ok())
      state.SkipWithError("save failed");
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SaveOneOffsetJournal)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// The reference: the whole map written out again for each save.
void BM_SaveOneOffsetRewriteWhole(benchmark::State& state) {
  auto dir = scratch("rewrite");
  std::string doc = "{\n \"entries\": {\n";
  for (const auto& [k, v] : keys(state.range(0))) doc += "  \"" + k + "\": \"" + *v + "\",\n";
  doc += "  \"p\": \"0\"\n },\n \"format\": 1\n}";
  for (auto _ : state)
    if (!ferry::write_file_atomically(dir / "offsets.json", doc).ok())
      state.SkipWithError("failed");
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SaveOneOffsetRewriteWhole)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
