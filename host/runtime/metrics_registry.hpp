// Per connector/task counters and gauges. Plugins add to them through the host API;
// runners record records/bytes in and out, errors and dead-lettered records.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ferry::runtime {

class MetricsRegistry {
 public:
  struct Sample {
    std::string name;
    std::string connector;
    uint32_t task;
    double value;
    bool counter;
  };

  void add(const std::string& name, const std::string& connector, uint32_t task, double delta);
  void set(const std::string& name, const std::string& connector, uint32_t task, double value);
  std::vector<Sample> snapshot() const;

 private:
  using Key = std::tuple<std::string, std::string, uint32_t>;
  mutable std::mutex mu_;
  std::map<Key, std::pair<double, bool>> values_;
};

}  // namespace ferry::runtime
