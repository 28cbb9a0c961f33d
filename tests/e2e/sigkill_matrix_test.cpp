// SIGKILL under load, for the bundled connectors at once: file-source in tail and batch
// mode, file-sink plain and per span, odbc-cdc (logical and query), odbc-sink, sensors
// over MQTT (QoS 1, persistent session) and simulated, with the span tracker and the
// group collector. ferry is killed at random moments while each of them has work in
// hand, then runs cleanly to the end. Nothing may be lost; duplicates may come only from
// what was in flight (bounded by each source's max_in_flight per kill); every batch
// span is completed exactly once, and only once its file is published; every collector
// group is resolved exactly once.
//
// CI runs 5 kills; scripts/sigkill-matrix.sh runs 20.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "reading.hpp"
#include "simulated_walk.hpp"
#include "support/cdc_events.hpp"
#include "support/env_int.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/mqtt_env.hpp"
#include "support/numbered_lines.hpp"
#include "support/pg_env.hpp"
#include "support/span_config.hpp"
#include "support/span_events.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kMaxInFlight = 1000;
constexpr int kMqttPending = 500;

// How often each line id (the number after the prefix) occurs in `values`.
std::map<int, int> id_counts(const std::vector<std::string>& values, const std::string& prefix) {
  std::map<int, int> out;
  for (const auto& v : values)
    if (v.rfind(prefix, 0) == 0) out[std::stoi(v.substr(prefix.size()))]++;
  return out;
}

struct Verdict {
  int lost = 0, duplicated = 0;
};
Verdict judge(const std::map<int, int>& counts, int from, int to) {
  Verdict v;
  for (int id = from; id <= to; ++id) {
    auto it = counts.find(id);
    if (it == counts.end())
      ++v.lost;
    else
      v.duplicated += it->second - 1;
  }
  return v;
}

class SigkillMatrix : public PostgresTest {};

}  // namespace

TEST_F(SigkillMatrix, EveryConnectorKilledUnderLoadLosesNothingAndCompletesEachSpanOnce) {
  const int kills = env_int("FERRY_CHAOS_KILLS", 5);
  TempDir dir;
  std::string tag = unique_topic("matrix");
  std::string tail_topic = tag + ".tail", batch_topic = tag + ".batch", mqtt_topic = tag + ".mqtt";
  std::string span_topic = tag + ".spans", cdc_prefix = tag + ".cdc";
  std::string query_topic = tag + ".query", sim_topic = tag + ".sim";
  std::string collector_topic = tag + ".collector";
  std::string table = unique_sql_name("matrix"), s = slot("matrix");
  std::string polled = unique_sql_name("matrix_polled");
  pg_.sql("CREATE TABLE " + polled + " (id int PRIMARY KEY, v int NOT NULL)");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, v int NOT NULL)");
  pg_.sql("CREATE TABLE " + table + "_replica (id int PRIMARY KEY, v int NOT NULL)");
  fs::create_directories(dir / "logs");
  fs::create_directories(dir / "inbox");

  // (The first line lands in the generated [kafka] table: the collector's group lets go
  // of a killed member quickly too.)
  FerryInstance ferry(dir, "\"session.timeout.ms\" = \"6000\"\n" + spans_section(span_topic) +
                               "[spans.collector]\nenabled = true\ntopic = \"" + collector_topic +
                               "\"\n");
  // Six seconds: the smallest session the broker allows, so a sink's group lets go of a
  // killed member quickly.
  const std::string quick_session =
      "[kafka]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"\n";
  std::string limit = "max_in_flight = " + std::to_string(kMaxInFlight) + "\n";
  ferry.add_connector("tail", "plugin = \"file-source\"\ntopic = \"" + tail_topic + "\"\n" + limit +
                                  "[config]\npaths = [\"" + (dir / "logs/*.log").string() +
                                  "\"]\nscan_interval = \"100ms\"\n");
  ferry.add_connector("batch", batch_source(batch_topic, dir / "inbox/*.txt", "", limit));
  ferry.add_connector("lines", "plugin = \"file-sink\"\ntopics = [\"" + tail_topic +
                                   "\"]\n[config]\npath = \"" + (dir / "out/lines.txt").string() +
                                   "\"\n" + quick_session);
  ferry.add_connector(
      "files", "plugin = \"file-sink\"\ntopics = [\"" + batch_topic + "\"]\n[config]\npath = \"" +
                   (dir / "files/{filename}").string() + "\"\nper_span = true\n" + quick_session);
  std::string cdc_toml = cdc_connector(pg_, cdc_prefix, s, "", table);
  cdc_toml.insert(cdc_toml.find("[config]"), limit);
  ferry.add_connector("cdc", cdc_toml);
  ferry.add_connector("replica", "plugin = \"odbc-sink\"\ntopics = [\"" + cdc_prefix + "." + table +
                                     "\"]\n[config]\nconnection = \"" + pg_.connection() +
                                     "\"\ntable = \"{table}_replica\"\n" + quick_session);
  ferry.add_connector("mqtt", "plugin = \"sensors\"\ntopic = \"" + mqtt_topic + "\"\n" + limit +
                                  "[config]\ndriver = \"mqtt\"\nurl = \"" + test_mqtt_url() +
                                  "\"\ntopics = [\"" + tag +
                                  "/#\"]\nqos = 1\nsession = "
                                  "\"persistent\"\nmax_pending = " +
                                  std::to_string(kMqttPending) + "\nclient_id = \"" +
                                  unique_topic("matrix") + "\"\n");

  ferry.add_connector("polled", "plugin = \"odbc-cdc\"\ntopic = \"" + query_topic + "\"\n" + limit +
                                    "[config]\nmode = \"query\"\nconnection = \"" +
                                    pg_.connection() + "\"\ntables = [\"" + polled +
                                    "\"]\nincrementing_column = \"id\"\ndelay = \"500ms\"\n"
                                    "poll_interval = \"100ms\"\n");
  // Simulated readings at a steady rate through all the kills; each resumes at its step.
  const int sim_limit = 1500 * (kills + 1);
  ferry.add_connector("sim", "plugin = \"sensors\"\ntopic = \"" + sim_topic + "\"\n" + limit +
                                 "[config]\ndriver = \"simulated\"\ndevices = 3\nsensors = "
                                 "2\nseed = 2207\nrate = 1000\nhost = \"sim\"\nlimit = " +
                                 std::to_string(sim_limit) + "\n");

  std::mt19937 rng(2207);
  int tail_lines = 0, batch_files = 0, rows = 0, readings = 0, polled_rows = 0, groups = 0;
  std::map<std::string, std::string> files;
  // One step of every load: lines, a batch file, 10 transactions of 20 rows, readings.
  auto load = [&] {
    {
      std::ofstream out(dir / "logs/app.log", std::ios::app);
      out << numbered_lines(tail_lines + 1, tail_lines + 2000, "tail-");
      tail_lines += 2000;
    }
    std::string name = "f" + std::to_string(batch_files++) + ".txt";
    files[name] = lines(1, 300, name);
    auto tmp = dir.write("inbox/." + name, files[name]);
    fs::rename(tmp, dir / "inbox" / name);
    pg_.sql("DO $$ BEGIN FOR t IN 0..9 LOOP INSERT INTO " + table + " SELECT " +
            std::to_string(rows) +
            " + t * 20 + g, g FROM generate_series(1, 20) g; COMMIT; END "
            "LOOP; END $$");
    rows += 200;
    std::string payloads;
    for (int i = 0; i < 300; ++i) payloads += "{\"value\": " + std::to_string(readings + i) + "}\n";
    readings += 300;
    mosquitto_pub(tag + "/dev", "", 1, dir.write("payloads.txt", payloads).string());
    pg_.sql("INSERT INTO " + polled + " SELECT " + std::to_string(polled_rows) +
            " + g, g FROM generate_series(1, 200) g");
    polled_rows += 200;
    // Two collector groups of three entities, the second one's last entity left to the
    // next step, so groups are open across kills.
    std::string msgs;
    for (int i = 0; i < 2; ++i, ++groups) {
      std::string g = "group-" + std::to_string(groups);
      msgs += json{{"id", g},
                   {"type", "EventGroupCollectorCreate"},
                   {"expected", {g + "-a", g + "-b", g + "-c"}},
                   {"ttl", 3600},
                   {"payload", {{"n", groups}}}}
                  .dump() +
              "\n";
      for (const char* e : {"-a", "-b", "-c"}) {
        if (i == 1 && std::string(e) == "-c") continue;
        msgs += json{{"id", g + e},
                     {"type", "EventGroupCollectorEntityDone"},
                     {"group", g},
                     {"result", e}}
                    .dump() +
                "\n";
      }
    }
    if (groups > 2) {
      std::string g = "group-" + std::to_string(groups - 3);
      msgs += json{{"id", g + "-c"},
                   {"type", "EventGroupCollectorEntityDone"},
                   {"group", g},
                   {"result", "-c"}}
                  .dump() +
              "\n";
    }
    kcat_produce_lines(collector_topic,
                       dir.write("collector-" + std::to_string(groups) + ".jsonl", msgs).string());
  };
  // Collector outputs by group id.
  auto resolutions = [&] {
    std::map<std::string, std::vector<json>> out;
    for (const auto& m : kcat_consume(collector_topic, end_offset(collector_topic))) {
      auto j = json::parse(m.value.value_or(""), nullptr, false);
      if (j.is_object() && (j.value("type", "") == "EventGroupCollectorSuccess" ||
                            j.value("type", "") == "EventGroupCollectorFailure"))
        out[j.value("id", "")].push_back(j);
    }
    return out;
  };

  ferry.start();
  // The broker keeps messages for a session only once it exists: the first subscription.
  ASSERT_TRUE(wait_until(
      [&] {
        std::string log = ferry.log();
        return log.find("streaming from slot") != std::string::npos &&
               log.find("subscribed to 1 topic filter") != std::string::npos;
      },
      60s))
      << ferry.log();
  for (int k = 0; k < kills; ++k) {
    load();
    // A random moment while that work is in hand.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 1500)(rng)));
    ferry.kill9();
    if (k % 2 == 1) load();  // and some work arrives while ferry is down
    ferry.start();
  }
  load();
  {
    // The last step's open group gets its last entity.
    std::string g = "group-" + std::to_string(groups - 1);
    kcat_produce_lines(collector_topic, dir.write("collector-last.jsonl",
                                                  json{{"id", g + "-c"},
                                                       {"type", "EventGroupCollectorEntityDone"},
                                                       {"group", g},
                                                       {"result", "-c"}}
                                                          .dump() +
                                                      "\n")
                                            .string());
  }

  // Then a clean run to the end.
  std::string digest_src, digest_replica;
  auto digest = [&](const std::string& t) {
    return pg_.sql(
        "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), "
        "'') FROM " +
        t + " t");
  };
  std::vector<json> events;
  bool done = wait_until(
      [&] {
        digest_src = digest(table);
        digest_replica = digest(table + "_replica");
        events = span_events(span_topic);
        return completions(events, "ferry-files") >= static_cast<size_t>(batch_files) &&
               end_offset(tail_topic) >= tail_lines && end_offset(mqtt_topic) >= readings &&
               end_offset(query_topic) >= polled_rows && end_offset(sim_topic) >= sim_limit &&
               resolutions().size() >= static_cast<size_t>(groups) &&
               digest_src == digest_replica && fs::exists(dir / "out/lines.txt") &&
               fs::file_size(dir / "out/lines.txt") >= static_cast<uintmax_t>(tail_lines) * 13;
      },
      240s, 1s);
  EXPECT_TRUE(done) << "replica " << digest_replica << " vs " << digest_src << "\n"
                    << span_summary(events) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  std::ostringstream report;
  auto check = [&](const std::string& what, const Verdict& v, int bound) {
    report << " " << what << ": lost " << v.lost << ", duplicated " << v.duplicated << ";";
    EXPECT_EQ(v.lost, 0) << what;
    EXPECT_LE(v.duplicated, bound) << what << ": more than was in flight at the kills";
  };
  const int window = kills * 2 * kMaxInFlight;  // in flight, plus acks not yet saved

  std::vector<std::string> values;
  for (const auto& m : kcat_consume(tail_topic, end_offset(tail_topic)))
    values.push_back(m.value.value_or(""));
  check("file-source tail", judge(id_counts(values, "tail-"), 1, tail_lines), window);

  std::vector<std::string> sink_lines;
  {
    std::ifstream in(dir / "out/lines.txt");
    for (std::string l; std::getline(in, l);) sink_lines.push_back(l);
  }
  // A sink redelivers what it had not committed: bounded by what it read in a flush.
  check("file-sink", judge(id_counts(sink_lines, "tail-"), 1, tail_lines), tail_lines);

  values.clear();
  for (const auto& m : kcat_consume(batch_topic, end_offset(batch_topic)))
    values.push_back(m.value.value_or(""));
  Verdict batch;
  for (const auto& [name, content] : files) {
    Verdict v = judge(id_counts(values, name + "-"), 1, 300);
    batch.lost += v.lost;
    batch.duplicated += v.duplicated;
  }
  check("file-source batch", batch, window);

  // Every batch file published once, byte for byte, and nothing else.
  size_t published = 0;
  for (const auto& e : fs::directory_iterator(dir / "files")) {
    ++published;
    auto name = e.path().filename().string();
    ASSERT_TRUE(files.contains(name)) << "unexpected output " << name;
    EXPECT_TRUE(read_file(e.path()) == files[name]) << name << " differs";
  }
  EXPECT_EQ(published, files.size());

  // Exactly one span.completed per batch span for the per-span sink's group, each for
  // a file that was published.
  std::map<std::string, int> completed;
  for (const auto& e : of_type(events, "span.completed"))
    if (e.value("group", "") == "ferry-files") completed[e.value("span", "")]++;
  for (const auto& [span, n] : completed) EXPECT_EQ(n, 1) << "span " << span;
  EXPECT_EQ(completed.size(), files.size());

  std::set<int> captured;
  int cdc_events = 0;
  for (const auto& e : events_in(cdc_prefix + "." + table, end_offset(cdc_prefix + "." + table))) {
    ++cdc_events;
    if (e.key) captured.insert((*e.key)["id"].get<int>());
  }
  Verdict cdc{rows - static_cast<int>(captured.size()),
              cdc_events - static_cast<int>(captured.size())};
  check("odbc-cdc", cdc, window);
  EXPECT_EQ(digest_replica, digest_src) << "odbc-sink replica";

  std::map<int, int> mqtt;
  for (const auto& m : kcat_consume(mqtt_topic, end_offset(mqtt_topic)))
    mqtt[static_cast<int>(json::parse(m.value.value_or("{}")).value("value", -1.0))]++;
  // ferry acknowledges a QoS 1 message to the broker only once Kafka has its record
  // (acknowledge = "delivered"), so the persistent session brings back whatever a kill
  // caught in between: nothing lost, duplicates only from what Kafka had and the broker
  // was not yet told (at most max_pending + max_in_flight per kill).
  check("sensors mqtt", judge(mqtt, 0, readings - 1), kills * (kMqttPending + kMaxInFlight));

  std::map<int, int> polled_ids;
  for (const auto& m : kcat_consume(query_topic, end_offset(query_topic)))
    polled_ids[json::parse(m.value.value_or("{}")).value("id", -1)]++;
  check("odbc-cdc query", judge(polled_ids, 1, polled_rows), window);

  // The simulator is deterministic: each sensor's values must all be there, in number.
  std::map<std::pair<std::string, double>, int> want, got;
  sensors::SimulatedWalk walk(2207, 3, 2);
  for (int i = 0; i < sim_limit; ++i) {
    sensors::Reading r = walk.next(0);
    want[{sensors::reading_key(r, "sim"),
          json::parse(sensors::reading_json(r, "sim"))["value"].get<double>()}]++;
  }
  int sim_records = 0;
  for (const auto& m : kcat_consume(sim_topic, end_offset(sim_topic))) {
    ++sim_records;
    got[{m.key.value_or(""), json::parse(m.value.value_or("{}"))["value"].get<double>()}]++;
  }
  Verdict sim;
  for (const auto& [reading, n] : want) sim.lost += std::max(0, n - got[reading]);
  sim.duplicated = sim_records - (sim_limit - sim.lost);
  check("sensors simulated", sim, window);

  // Each collector group resolved once, a success with its three results.
  auto resolved = resolutions();
  int twice = 0;
  for (int i = 0; i < groups; ++i) {
    const auto& outs = resolved["group-" + std::to_string(i)];
    ASSERT_FALSE(outs.empty()) << "group-" << i << " never resolved";
    EXPECT_EQ(outs[0].value("type", ""), "EventGroupCollectorSuccess") << outs[0].dump();
    EXPECT_EQ(outs[0]["results"].size(), 3u) << outs[0].dump();
    twice += static_cast<int>(outs.size()) - 1;
  }
  report << " collector: " << groups << " groups, resolved twice " << twice << ";";
  EXPECT_EQ(twice, 0) << "a group resolved more than once";

  std::cout << "sigkill matrix: kills=" << kills << ";" << report.str() << " replica "
            << (digest_replica == digest_src ? "equal" : "DIFFERS") << "; batch spans completed "
            << completed.size() << "/" << files.size() << "\n";
}

}  // namespace ferry::test
