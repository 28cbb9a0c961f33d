#include "metrics/metrics_registry.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace ferry::metrics {

void Histogram::observe(double seconds) {
  auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  ++buckets[static_cast<size_t>(it - kBounds.begin())];
  ++count;
  sum += seconds;
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum += other.sum;
}

bool parse_kafka_stats(const char* json, size_t len, KafkaClientStats& out) {
  auto j = nlohmann::json::parse(json, json + len, nullptr, false);
  if (!j.is_object()) return false;
  auto num = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  out.role = j.value("type", "");
  out.queued_messages = num(j, "msg_cnt");
  out.queued_bytes = num(j, "msg_size");
  if (auto b = j.find("brokers"); b != j.end() && b->is_object()) {
    for (const auto& [name, broker] : b->items()) {
      if (!broker.is_object()) continue;
      if (std::string src = broker.value("source", ""); src != "logical" && src != "internal") {
        ++out.brokers;
        std::string state = broker.value("state", "");
        if (state == "UP") {
          ++out.brokers_up;
        } else if (out.down.size() < 512) {
          out.down += (out.down.empty() ? "" : ", ") + name + ": " + state;
        }
      }
      // Bootstrap and logical entries (GroupCoordinator) repeat a real broker.
      if (!broker.is_object() || broker.value("nodeid", -1) < 0) continue;
      if (std::string src = broker.value("source", ""); src == "logical" || src == "internal")
        continue;
      out.tx_errors += num(broker, "txerrs");
      out.rx_errors += num(broker, "rxerrs");
      out.tx_retries += num(broker, "txretries");
      if (auto rtt = broker.find("rtt"); rtt != broker.end() && rtt->is_object())
        out.broker_rtt_seconds[name] = num(*rtt, "avg") / 1e6;
    }
  }
  if (auto topics = j.find("topics");
      out.role == "consumer" && topics != j.end() && topics->is_object()) {
    double lag = 0;
    bool known = false;
    for (const auto& [tname, topic] : topics->items()) {
      auto parts = topic.find("partitions");
      if (parts == topic.end() || !parts->is_object()) continue;
      for (const auto& [pname, p] : parts->items()) {
        if (pname == "-1" || !p.is_object()) continue;
        double l = p.value("consumer_lag", -1.0);
        if (l >= 0) {
          lag += l;
          known = true;
        }
      }
    }
    out.consumer_lag = known ? lag : -1;
  }
  return true;
}

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

void MetricsRegistry::observe(const std::string& name, const std::string& connector, uint32_t task,
                              const Histogram& delta) {
  if (delta.empty()) return;
  std::lock_guard lock(mu_);
  histograms_[{name, connector, task}].merge(delta);
}

void MetricsRegistry::set_kafka_stats(const std::string& connector, uint32_t task,
                                      KafkaClientStats stats) {
  std::lock_guard lock(mu_);
  std::string role = stats.role;
  kafka_[{role, connector, task}] = std::move(stats);
}

void MetricsRegistry::remove_connector(const std::string& connector) {
  std::lock_guard lock(mu_);
  auto of = [&](const auto& kv) { return std::get<1>(kv.first) == connector; };
  std::erase_if(values_, of);
  std::erase_if(histograms_, of);
  std::erase_if(kafka_, of);
}

std::vector<MetricsRegistry::Sample> MetricsRegistry::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Sample> out;
  for (const auto& [k, v] : values_)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), v.first, v.second});
  return out;
}

std::vector<MetricsRegistry::HistogramSample> MetricsRegistry::histograms() const {
  std::lock_guard lock(mu_);
  std::vector<HistogramSample> out;
  for (const auto& [k, h] : histograms_)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), h});
  return out;
}

std::vector<MetricsRegistry::KafkaSample> MetricsRegistry::kafka_stats() const {
  std::lock_guard lock(mu_);
  std::vector<KafkaSample> out;
  for (const auto& [k, s] : kafka_) out.push_back({std::get<1>(k), std::get<2>(k), s});
  return out;
}

}  // namespace ferry::metrics
