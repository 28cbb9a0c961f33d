// Spans against input ferry does not control: events of the wrong shape that anyone
// may write to the span topic, and file names that are not UTF-8.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/span_config.hpp"
#include "support/span_events.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(Spans, AFileWhoseNameIsNotUtf8IsDeliveredAndAnnounced) {
  // A latin1 file name: JSON cannot carry its bytes, and producing the span events used
  // to throw, failing the task on every restart without delivering the file.
  TempDir dir;
  std::string topic = unique_topic("spans-latin1");
  std::string span_topic = unique_topic("spans-events");
  dir.write("in/caf\xe9.txt", lines(1, 10, "a"));
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_for_event(span_topic, "span.delivered", 60s, events)) << ferry.log();
  auto opened = of_type(events, "span.opened");
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]["attrs"]["path"], (dir / "in/caf\xef\xbf\xbd.txt").string());
  EXPECT_EQ(of_type(events, "span.delivered")[0]["count"], 10);
  EXPECT_EQ(kcat_consume(topic).size(), 10u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(Spans, EventsOfTheWrongShapeOnTheSpanTopicAreSkipped) {
  // Anyone can write to the span topic; a tracker that met a field of an unexpected
  // type used to throw out of its thread and end the process.
  TempDir dir;
  std::string topic = unique_topic("spans-garbage");
  std::string span_topic = unique_topic("spans-events");
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("source task started") != std::string::npos; }, 60s))
      << ferry.log();
  std::string garbage =
      R"({"type":"span.delivered","span":"bogus-1","count":"many"})"
      "\n"
      R"({"type":"span.delivered","span":"bogus-2","offsets":{"t":{"0":["a","b"]}}})"
      "\n"
      R"({"type":7,"span":"bogus-3"})"
      "\n"
      R"({"type":"span.opened","span":"bogus-4","ttl_ms":"soon"})"
      "\n"
      R"({"type":"host.sinks","host":5})"
      "\nnot json\n";
  kcat_produce_lines(span_topic, dir.write("garbage.jsonl", garbage).string());
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("span topic: ignoring event") != std::string::npos; }, 60s))
      << ferry.log();

  // The tracker goes on: a span after the garbage is delivered and can be looked up.
  dir.write("in/a.txt", lines(1, 10, "a"));
  std::string id;  // of ferry's own span.delivered (the shared helpers would choke here)
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& m : kcat_consume(span_topic)) {
          auto e = json::parse(m.value.value_or(""), nullptr, false);
          if (e.is_object() && e["type"] == "span.delivered" && e["connector"] == "src")
            id = e["span"].get<std::string>();
        }
        return !id.empty();
      },
      60s))
      << ferry.log();
  auto get = [&] {
    return run_command({ferry_binary(), "spans", "-c", ferry.worker_file().string(), "get", id});
  };
  EXPECT_TRUE(wait_until([&] { return get().exit_code == 0; }, 30s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(Spans, ForgedEventsCannotMakeUpSpansOrLoseARecordOfARealOne) {
  // Anyone who can write the span topic could announce spans no source opened, or say
  // a real span was delivered before it was: a per-span sink then published it early
  // and dropped its later records as copies.
  TempDir dir;
  std::string topic = unique_topic("forged");
  std::string span_topic = unique_topic("forged-spans");
  dir.write("in/app.log", "");
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                 "\"]\nscan_interval = \"100ms\"\nrotate_wait = \"300ms\"\n"
                                 "[span]\nenabled = true\nidle_close = \"10m\"\n");
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\nper_span = true\npath = \"" +
                                  (dir / "out/{filename}").string() + "\"\n");
  ferry.start();
  {
    std::ofstream out(dir / "in/app.log", std::ios::app);
    out << lines(1, 3, "a");
  }
  std::vector<json> events;
  ASSERT_TRUE(wait_for_event(span_topic, "span.opened", 60s, events)) << ferry.log();
  json opened = of_type(events, "span.opened")[0];
  std::string id = opened["span"];
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 3; }, 60s)) << ferry.log();

  auto forge = [&](const std::string& span, const std::string& host) {
    json e = {{"type", "span.delivered"},
              {"span", span},
              {"connector", "src"},
              {"host", host},
              {"count", 1},
              {"at", "2026-01-01T00:00:00Z"},
              {"offsets", {{topic, {{"0", {0, 0}}}}}}};
    produce_records(span_topic, {{span, e.dump()}});
  };
  forge("made-up-1", opened["host"]);
  forge(id, "mallory");
  ASSERT_TRUE(wait_until(
      [&] {
        return ferry.log().find("ignored span.delivered for span " + id) != std::string::npos;
      },
      60s))
      << ferry.log();
  EXPECT_NE(ferry.log().find("ignored span.delivered for span made-up-1"), std::string::npos);
  auto get = run_command(
      {ferry_binary(), "spans", "-c", ferry.worker_file().string(), "get", "made-up-1"});
  EXPECT_NE(get.exit_code, 0) << get.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "out/app.log"));

  // Copying the host and connector from span.opened gets past the tracker (only ACLs on
  // the span topic stop that): the sink publishes early, but keeps every later record.
  forge(id, opened["host"]);
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "out/app.log"); }, 60s))
      << ferry.log();
  std::string first = read_file(dir / "out/app.log");
  {
    std::ofstream out(dir / "in/app.log", std::ios::app);
    out << lines(4, 6, "a");
  }
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 6; }, 60s)) << ferry.log();
  std::filesystem::remove(dir / "in/app.log");  // closes the real span
  auto published = [&] {
    std::string all = read_file(dir / "out/app.log");
    for (int n = 1; std::filesystem::exists(dir / ("out/app.log." + std::to_string(n))); ++n)
      all += read_file(dir / ("out/app.log." + std::to_string(n)));
    return all;
  };
  EXPECT_TRUE(wait_until([&] { return published() == lines(1, 6, "a"); }, 60s))
      << published() << ferry.log();
  EXPECT_EQ(read_file(dir / "out/app.log"), first);  // never overwritten
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
