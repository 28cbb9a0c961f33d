#include "runtime/metrics_registry.hpp"

namespace ferry::runtime {

void MetricsRegistry::add(const std::string& name, const std::string& connector, uint32_t task,
                          double delta) {
  std::lock_guard lock(mu_);
  auto& v = values_[{name, connector, task}];
  v.first += delta;
  v.second = true;
}

void MetricsRegistry::set(const std::string& name, const std::string& connector, uint32_t task,
                          double value) {
  std::lock_guard lock(mu_);
  values_[{name, connector, task}] = {value, false};
}

std::vector<MetricsRegistry::Sample> MetricsRegistry::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Sample> out;
  for (const auto& [k, v] : values_)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), v.first, v.second});
  return out;
}

}  // namespace ferry::runtime
