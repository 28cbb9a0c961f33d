// GET /metrics: every metric ferry keeps, in the Prometheus text format, serialized by
// prometheus-cpp. Host metrics carry fixed names (ferry_records_in_total, ...); a
// plugin's own counters and gauges appear as ferry_plugin_<name>.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "metrics/metrics_registry.hpp"
#include "runtime/connector.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::rest {

struct MetricsSources {
  const metrics::MetricsRegistry* registry = nullptr;
  std::vector<std::pair<std::string, runtime::ConnectorStatus>> connectors;
  const spans::SpanTracker::Stats* spans = nullptr;  // null: span tracking is off
};

std::string prometheus_text(const MetricsSources& sources);

// "a.b-c" -> "a_b_c": what Prometheus accepts in a metric name.
std::string metric_name_part(const std::string& name);

}  // namespace ferry::rest
