// Per connector/task counters, gauges and latency histograms. Plugins add to them
// through the host API; runners record records/bytes in and out, errors, dead-lettered
// records and latencies, accumulating on their own thread and merging here on each
// commit tick so the hot path takes no lock. librdkafka's statistics of each task's
// clients land here too. Exposed as Prometheus text by prometheus_text.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ferry::metrics {

// Bucket counts over fixed bounds in seconds, from a millisecond to ten minutes: the
// same bounds serve produce and commit latency and span latency.
struct Histogram {
  static constexpr std::array<double, 16> kBounds{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600};
  std::array<uint64_t, kBounds.size() + 1> buckets{};  // per bucket, last is +Inf
  uint64_t count = 0;
  double sum = 0;

  void observe(double seconds);
  void merge(const Histogram& other);
  bool empty() const { return count == 0; }
};

// What librdkafka's statistics callback reports about one client, reduced to what an
// operator looks at: queue depth, errors and each broker's round-trip time.
struct KafkaClientStats {
  std::string role;  // "producer" or "consumer"
  double queued_messages = 0, queued_bytes = 0;
  double tx_errors = 0, rx_errors = 0, tx_retries = 0;
  std::map<std::string, double> broker_rtt_seconds;  // broker "host:port/id" -> average
  double consumer_lag = -1;                          // summed over partitions; -1 unknown
  // Brokers the client knows (configured or learned) and how many it is connected to;
  // `down` lists the others as "name: state" for an operator.
  int brokers = 0, brokers_up = 0;
  std::string down;
};

// Parses one statistics JSON document; false when it is not one.
bool parse_kafka_stats(const char* json, size_t len, KafkaClientStats& out);

class MetricsRegistry {
 public:
  struct Sample {
    std::string name;
    std::string connector;
    uint32_t task;
    double value;
    bool counter;
  };
  struct HistogramSample {
    std::string name;
    std::string connector;
    uint32_t task;
    Histogram histogram;
  };
  struct KafkaSample {
    std::string connector;
    uint32_t task;
    KafkaClientStats stats;
  };

  void add(const std::string& name, const std::string& connector, uint32_t task, double delta);
  void set(const std::string& name, const std::string& connector, uint32_t task, double value);
  void observe(const std::string& name, const std::string& connector, uint32_t task,
               const Histogram& delta);
  void set_kafka_stats(const std::string& connector, uint32_t task, KafkaClientStats stats);
  // A connector that is gone takes its series with it.
  void remove_connector(const std::string& connector);

  std::vector<Sample> snapshot() const;
  std::vector<HistogramSample> histograms() const;
  std::vector<KafkaSample> kafka_stats() const;

 private:
  using Key = std::tuple<std::string, std::string, uint32_t>;
  mutable std::mutex mu_;
  std::map<Key, std::pair<double, bool>> values_;
  std::map<Key, Histogram> histograms_;
  std::map<Key, KafkaClientStats> kafka_;  // name = role
};

}  // namespace ferry::metrics
