// GET /metrics on a ferry moving real records: the text parses with Prometheus'
// reference parser and its numbers match what moved.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Samples {
  bool valid = false;
  std::string error;
  std::vector<json> all;

  // The value of the sample with this name whose labels include `labels`; -1 if none.
  double value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    for (const auto& s : all) {
      if (s["name"] != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) match = match && s["labels"].value(k, "") == v;
      if (match) return s["value"].get<double>();
    }
    return -1;
  }
};

// Scrapes /metrics and parses it with tests/support/parse_prometheus.py.
Samples scrape(RestClient& rest, const TempDir& dir) {
  Samples out;
  auto reply = rest.get("/metrics");
  if (reply.status != 200) return out;
  auto file = dir.write("metrics.txt", reply.text);
  auto parsed = run_command(
      {"/usr/bin/python3", source_dir() + "/tests/support/parse_prometheus.py"}, {}, file.string());
  out.valid = parsed.exit_code == 0;
  out.error = parsed.err + "\n" + reply.text;
  std::istringstream lines(parsed.out);
  for (std::string line; std::getline(lines, line);) out.all.push_back(json::parse(line));
  return out;
}

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "line-" + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST(Metrics, PrometheusTextParsesAndCountsWhatMoved) {
  TempDir dir;
  std::string topic = unique_topic("metrics");
  std::string span_topic = unique_topic("metrics-spans");
  dir.write("in/a.txt", numbered_lines(1000));
  dir.write("in/b.txt", numbered_lines(500));
  FerryInstance ferry(dir, "[spans]\ntopic = \"" + span_topic + "\"\n");
  const std::string fast_stats = "[kafka]\n\"statistics.interval.ms\" = \"500\"\n";
  ferry.add_connector("lines-in", "plugin = \"file-source\"\ntopic = \"" + topic +
                                      "\"\n[config]\npaths = [\"" + (dir / "in/*.txt").string() +
                                      "\"]\nmode = \"batch\"\nscan_interval = \"100ms\"\n"
                                      "[span]\nenabled = true\n" +
                                      fast_stats);
  ferry.add_connector("lines-out", test_sink_toml(topic, dir / "out.txt", "", fast_stats));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
  RestClient rest(ferry.rest_address());

  Samples m;
  const std::map<std::string, std::string> in{{"connector", "lines-in"}, {"task", "0"}};
  const std::map<std::string, std::string> out{{"connector", "lines-out"}, {"task", "0"}};
  // Counters are published on each commit tick, span states once completed.
  ASSERT_TRUE(wait_until(
      [&] {
        m = scrape(rest, dir);
        return m.valid && m.value("ferry_records_out_total", in) == 1500 &&
               m.value("ferry_records_in_total", out) == 1500 &&
               m.value("ferry_spans", {{"connector", "lines-in"}, {"state", "completed"}}) == 2 &&
               m.value("ferry_kafka_broker_rtt_seconds", out) >= 0 &&
               m.value("ferry_kafka_broker_rtt_seconds", in) >= 0;
      },
      90s))
      << m.error << ferry.log();

  EXPECT_EQ(m.value("ferry_records_in_total", in), 1500);
  EXPECT_EQ(m.value("ferry_bytes_in_total", out), m.value("ferry_bytes_out_total", in));
  EXPECT_GT(m.value("ferry_bytes_out_total", in), 0);
  EXPECT_EQ(m.value("ferry_in_flight_records", in), 0);
  EXPECT_EQ(m.value("ferry_produce_latency_seconds_count", in), 1500);
  auto inf = in;
  inf["le"] = "+Inf";
  EXPECT_EQ(m.value("ferry_produce_latency_seconds_bucket", inf), 1500);
  EXPECT_GE(m.value("ferry_commit_latency_seconds_count", out), 1);
  auto running = in;
  running["state"] = "RUNNING";
  EXPECT_EQ(m.value("ferry_task_state", running), 1);
  auto failed = in;
  failed["state"] = "FAILED";
  EXPECT_EQ(m.value("ferry_task_state", failed), 0);
  EXPECT_EQ(m.value("ferry_connector_state", {{"connector", "lines-out"}, {"state", "RUNNING"}}),
            1);
  EXPECT_EQ(m.value("ferry_span_delivery_seconds_count", {{"connector", "lines-in"}}), 2);
  EXPECT_EQ(m.value("ferry_span_completion_seconds_count", {{"connector", "lines-in"}}), 2);
  EXPECT_GE(m.value("ferry_kafka_queued_messages", in), 0);

  // Paused shows in the state gauges; a removed connector takes its series along.
  ASSERT_EQ(rest.put("/connectors/lines-out/pause").status, 202);
  m = scrape(rest, dir);
  EXPECT_EQ(m.value("ferry_connector_state", {{"connector", "lines-out"}, {"state", "PAUSED"}}), 1);
  std::filesystem::remove(dir / "connectors.d/lines-out.toml");
  ASSERT_EQ(rest.post("/reload").status, 200);
  m = scrape(rest, dir);
  ASSERT_TRUE(m.valid) << m.error;
  EXPECT_EQ(m.value("ferry_records_in_total", out), -1) << m.error;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
