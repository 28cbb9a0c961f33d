#include "rest/prometheus_text.hpp"

#include <cctype>
#include <limits>
#include <map>
#include <sstream>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::rest {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

struct Known {
  const char* name;  // without ferry_ and _total
  const char* help;
};

// The host's own metrics; anything else in the registry came from a plugin.
const std::map<std::string, Known>& known() {
  static const std::map<std::string, Known> k{
      {"records_in", {"records_in", "Records taken in: read by a source task, consumed by a sink"}},
      {"records_out", {"records_out", "Records a source task produced and Kafka acknowledged"}},
      {"bytes_in", {"bytes_in", "Key and value bytes consumed by a sink task"}},
      {"bytes_out", {"bytes_out", "Key and value bytes Kafka acknowledged for a source task"}},
      {"records_filtered",
       {"records_filtered", "Records a filter transform dropped (processed, not passed on)"}},
      {"dead_letter_records",
       {"dead_letter_records", "Records sent to the dead letter topic (bad input)"}},
      {"in_flight_records",
       {"in_flight_records", "Records produced and not yet acknowledged by Kafka"}},
      {"task_restarts", {"task_restarts", "Task restarts, by the supervisor or on request"}},
      {"task_failures", {"task_failures", "Times a task failed (each is followed by a restart)"}},
      {"produce_latency_seconds",
       {"produce_latency_seconds", "Time from produce to Kafka's acknowledgement"}},
      {"commit_latency_seconds",
       {"commit_latency_seconds",
        "Time to commit: source offsets saved, or sink flush plus consumer offset commit"}},
  };
  return k;
}

using Labels = std::vector<ClientMetric::Label>;

Labels task_labels(const std::string& connector, uint32_t task) {
  return {{"connector", connector}, {"task", std::to_string(task)}};
}

// Families by name, in first-seen order of creation.
class Families {
 public:
  MetricFamily& get(const std::string& name, const std::string& help, MetricType type) {
    auto it = index_.find(name);
    if (it != index_.end()) return families_[it->second];
    index_[name] = families_.size();
    families_.push_back({name, help, type, {}});
    return families_.back();
  }
  void gauge(const std::string& name, const std::string& help, Labels labels, double v) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = v;
    get(name, help, MetricType::Gauge).metric.push_back(std::move(m));
  }
  void counter(const std::string& name, const std::string& help, Labels labels, double v) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = v;
    get(name, help, MetricType::Counter).metric.push_back(std::move(m));
  }
  void histogram(const std::string& name, const std::string& help, Labels labels,
                 const metrics::Histogram& h) {
    ClientMetric m;
    m.label = std::move(labels);
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      double bound = i < metrics::Histogram::kBounds.size()
                         ? metrics::Histogram::kBounds[i]
                         : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, bound});
    }
    get(name, help, MetricType::Histogram).metric.push_back(std::move(m));
  }
  const std::vector<MetricFamily>& all() const { return families_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricFamily> families_;
};

}  // namespace

std::string metric_name_part(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  return out;
}

namespace {

void add_states(Families& f, const MetricsSources& src) {
  static const char* kConnectorStates[] = {"RUNNING", "PAUSED", "STOPPED"};
  static const char* kTaskStates[] = {"RUNNING", "PAUSED", "FAILED", "UNASSIGNED"};
  for (const auto& [name, status] : src.connectors) {
    for (const char* s : kConnectorStates)
      f.gauge("ferry_connector_state", "1 for the connector's current state, else 0",
              {{"connector", name}, {"state", s}}, status.state == s ? 1 : 0);
    for (const auto& t : status.tasks)
      for (const char* s : kTaskStates) {
        Labels l = task_labels(name, t.id);
        l.push_back({"state", s});
        f.gauge("ferry_task_state", "1 for the task's current state, else 0", std::move(l),
                t.state == s ? 1 : 0);
      }
  }
}

// Counters, gauges and histograms of tasks and plugins: host metrics under their fixed
// names, a plugin's own as ferry_plugin_<name>.
void add_task_metrics(Families& f, const metrics::MetricsRegistry& registry) {
  for (const auto& s : registry.snapshot()) {
    auto k = known().find(s.name);
    std::string base = k != known().end() ? std::string("ferry_") + k->second.name
                                          : "ferry_plugin_" + metric_name_part(s.name);
    std::string help = k != known().end() ? k->second.help : "Reported by the plugin";
    if (s.counter) {
      f.counter(base + "_total", help, task_labels(s.connector, s.task), s.value);
    } else {
      f.gauge(base, help, task_labels(s.connector, s.task), s.value);
    }
  }
  for (const auto& h : registry.histograms()) {
    auto k = known().find(h.name);
    std::string base = k != known().end() ? std::string("ferry_") + k->second.name
                                          : "ferry_plugin_" + metric_name_part(h.name);
    f.histogram(base, k != known().end() ? k->second.help : "Reported by the plugin",
                task_labels(h.connector, h.task), h.histogram);
  }
}

// What each task's librdkafka client reported in its last statistics.
void add_kafka_clients(Families& f, const metrics::MetricsRegistry& registry) {
  for (const auto& k : registry.kafka_stats()) {
    Labels l = task_labels(k.connector, k.task);
    l.push_back({"client", k.stats.role});
    f.gauge("ferry_kafka_queued_messages",
            "Messages in librdkafka's queues (waiting to be sent or handed over)", l,
            k.stats.queued_messages);
    f.gauge("ferry_kafka_queued_bytes", "Bytes in librdkafka's queues", l, k.stats.queued_bytes);
    f.counter("ferry_kafka_tx_errors_total", "Transmit errors towards the brokers", l,
              k.stats.tx_errors);
    f.counter("ferry_kafka_rx_errors_total", "Receive errors from the brokers", l,
              k.stats.rx_errors);
    f.counter("ferry_kafka_tx_retries_total", "Requests sent again", l, k.stats.tx_retries);
    for (const auto& [broker, rtt] : k.stats.broker_rtt_seconds) {
      Labels bl = l;
      bl.push_back({"broker", broker});
      f.gauge("ferry_kafka_broker_rtt_seconds",
              "Average round-trip time to the broker over the last statistics interval",
              std::move(bl), rtt);
    }
    if (k.stats.consumer_lag >= 0)
      f.gauge("ferry_kafka_consumer_lag", "Messages a sink task has yet to consume", l,
              k.stats.consumer_lag);
  }
}

void add_spans(Families& f, const spans::SpanTracker::Stats& spans) {
  for (const auto& [key, n] : spans.by_state)
    f.gauge("ferry_spans", "Spans this host knows of, by state",
            {{"connector", key.first}, {"state", key.second}}, static_cast<double>(n));
  for (const auto& [connector, h] : spans.delivery_latency)
    f.histogram("ferry_span_delivery_seconds", "Time from a span's opening to span.delivered",
                {{"connector", connector}}, h);
  for (const auto& [connector, h] : spans.completion_latency)
    f.histogram("ferry_span_completion_seconds",
                "Time from a span's opening to span.completed, over every group",
                {{"connector", connector}}, h);
}

}  // namespace

std::string prometheus_text(const MetricsSources& src) {
  Families f;
  f.gauge("ferry_build_info", "ferry's version", {{"version", FERRY_VERSION}}, 1);
  add_states(f, src);
  if (src.registry != nullptr) {
    add_task_metrics(f, *src.registry);
    add_kafka_clients(f, *src.registry);
  }
  if (src.spans != nullptr) add_spans(f, *src.spans);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, f.all());
  return out.str();
}

}  // namespace ferry::rest
