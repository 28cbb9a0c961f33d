// Spans end to end on the real broker: tagging, span events, completion per consumer
// group from committed offsets, the sink hooks with file-sink per_span, and crashes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/span_config.hpp"
#include "support/span_events.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << s;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string file_sink(const std::string& topic, const std::string& path,
                      const std::string& extra_config = "", int tasks = 1) {
  return "plugin = \"file-sink\"\ntopics = [\"" + topic + "\"]\ntasks = " + std::to_string(tasks) +
         "\n[config]\npath = \"" + path + "\"\n" + extra_config;
}

// Records of the topic grouped by span id: seq -> values seen (duplicates included).
std::map<std::string, std::map<uint64_t, std::vector<std::string>>> records_by_span(
    const std::vector<KafkaMessage>& msgs) {
  std::map<std::string, std::map<uint64_t, std::vector<std::string>>> out;
  for (const auto& m : msgs) {
    auto span = m.headers.find("ferry.span");
    auto seq = m.headers.find("ferry.span.seq");
    EXPECT_TRUE(span != m.headers.end() && seq != m.headers.end()) << "untagged record";
    if (span == m.headers.end() || seq == m.headers.end()) continue;
    out[span->second][std::stoull(seq->second)].push_back(m.value.value_or(""));
  }
  return out;
}

}  // namespace

TEST(Spans, BatchFilesAreDeliveredAndCompletedOncePerGroup) {
  TempDir dir;
  std::string topic = unique_topic("spans-data");
  std::string span_topic = unique_topic("spans-events");
  std::string watched = unique_topic("kcat-group");
  create_topic(topic, 3);
  dir.write("in/a.txt", lines(1, 3, "a"));
  dir.write("in/b.txt", lines(1, 20'000, "b"));
  dir.write("in/c.txt", lines(1, 5'000, "c"));
  dir.write("in/empty.txt", "");
  FerryInstance ferry(dir, spans_section(span_topic, "watch_groups = [\"" + watched + "\"]\n"));
  // No keys: the partitioner spreads each span over several partitions.
  // A transform on the way: it must keep the span tags.
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt", "key = \"none\"\n") +
                                 "[[transforms]]\ntype = \"insert_header\"\nheader = \"env\"\n"
                                 "value = \"test\"\n");
  ferry.add_connector("sink", file_sink(topic, (dir / "out/{partition}.txt").string(), "", 2));
  ferry.start();

  std::vector<json> events;
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-sink", 4, 120s, events)) << ferry.log();
  // kcat has not read anything yet, so its group can only have completed the empty
  // span (no record to wait for).
  for (const auto& c : of_type(events, "span.completed"))
    if (c["group"] == watched) {
      EXPECT_EQ(c["count"], 0) << c.dump();
    }
  ASSERT_EQ(kcat_consume_as_group(watched, topic), 25'003u);
  ASSERT_TRUE(wait_for_completions(span_topic, watched, 4, 60s, events)) << ferry.log();
  // The same picture through the REST API, as `ferry spans` shows it.
  auto spans_cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {ferry_binary(), "spans", "-c", ferry.worker_file().string()});
    return run_command(args);
  };
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = spans_cli({"list", "--state", "completed", "--json"});
        return r.exit_code == 0 && json::parse(r.out).size() == 4;
      },
      30s))
      << spans_cli({"list", "--json"}).out;
  auto listed = json::parse(spans_cli({"list", "--state", "completed", "--json"}).out);
  std::string some_span = listed[0]["span"];
  auto got = spans_cli({"get", some_span});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  json one = json::parse(got.out);
  EXPECT_EQ(one["state"], "completed");
  EXPECT_EQ(one["connector"], "src");
  EXPECT_TRUE(one["completed"].contains("ferry-sink")) << one.dump();
  EXPECT_TRUE(one["completed"].contains(watched)) << one.dump();
  EXPECT_EQ(one["pending_groups"], json::array());
  EXPECT_EQ(spans_cli({"list", "--state", "open", "--json"}).out.find("span\""), std::string::npos);
  auto missing = spans_cli({"get", "no-such-span"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no span no-such-span"), std::string::npos) << missing.err;
  EXPECT_NE(spans_cli({"list"}).out.find("completed"), std::string::npos);

  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  events = span_events(span_topic);

  auto msgs = kcat_consume(topic);
  ASSERT_EQ(msgs.size(), 25'003u);
  for (const auto& m : msgs) ASSERT_EQ(m.headers.at("env"), "test");
  // Finished spans leave nothing behind in the source's state.
  EXPECT_EQ(stored_state_text(ferry.state_dir() / "connectors/src/offsets.json").find("span:"),
            std::string::npos);
  auto by_span = records_by_span(msgs);
  ASSERT_EQ(by_span.size(), 3u);  // the empty file's span has no record

  std::map<uint64_t, std::string> count_to_span;
  for (const auto& [span, seqs] : by_span) {
    // seq is 1..count with no gaps and no duplicates in a clean run.
    ASSERT_EQ(seqs.begin()->first, 1u);
    ASSERT_EQ(seqs.rbegin()->first, seqs.size());
    for (const auto& [seq, values] : seqs) ASSERT_EQ(values.size(), 1u) << span << " " << seq;
    count_to_span[seqs.size()] = span;

    ASSERT_EQ(of_type(events, "span.opened", span).size(), 1u);
    ASSERT_EQ(of_type(events, "span.closed", span).size(), 1u);
    auto delivered = of_type(events, "span.delivered", span);
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0]["count"], seqs.size());
    // The offsets in span.delivered are exactly where the span's records are.
    std::map<int32_t, std::pair<int64_t, int64_t>> where;
    for (const auto& m : msgs) {
      if (m.headers.at("ferry.span") != span) continue;
      auto [it, fresh] = where.try_emplace(m.partition, m.offset, m.offset);
      it->second.first = std::min(it->second.first, m.offset);
      it->second.second = std::max(it->second.second, m.offset);
    }
    const json& offsets = delivered[0]["offsets"][topic];
    ASSERT_EQ(offsets.size(), where.size()) << delivered[0].dump();
    for (const auto& [p, range] : where) {
      EXPECT_EQ(offsets[std::to_string(p)][0], range.first);
      EXPECT_EQ(offsets[std::to_string(p)][1], range.second);
    }
    for (const std::string& group : {std::string("ferry-sink"), watched}) {
      size_t n = 0;
      for (const auto& c : of_type(events, "span.completed", span)) {
        if (c["group"] != group) continue;
        ++n;
        EXPECT_EQ(c["count"], seqs.size());
        EXPECT_GE(c["at"].get<std::string>(), delivered[0]["at"].get<std::string>());
      }
      EXPECT_EQ(n, 1u) << span << " " << group;
    }
  }
  EXPECT_EQ(by_span[count_to_span[3]][2][0], "a-0000002");
  EXPECT_EQ(by_span[count_to_span[20'000]][20'000][0], "b-0020000");

  // The empty file: an empty span, delivered with count 0.
  size_t empty_spans = 0;
  for (const auto& d : of_type(events, "span.delivered"))
    if (d["count"] == 0) {
      ++empty_spans;
      EXPECT_EQ(d["attrs"]["path"], (dir / "in/empty.txt").string());
    }
  EXPECT_EQ(empty_spans, 1u);
}

TEST(Spans, PerSpanFileSinkRestoresFilesByteForByte) {
  TempDir dir;
  std::string topic = unique_topic("spans-bytes");
  std::string span_topic = unique_topic("spans-events");
  std::map<std::string, std::string> files{
      {"crlf.txt", "one\r\ntwo\r\n\r\nthree\r\n"},
      {"no-final-newline.txt", "alpha\n\nbeta"},
      {"utf8.txt", "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93\n\n\xE6\x97\xA5\xE6\x9C\xAC\n"},
      {"empty-lines.txt", "\n\n\n"},
      {"huge-lines.txt", std::string(3'000'000, 'x') + "\n" + std::string(1'500'000, 'y') + "\r\n" +
                             std::string(700'000, 'z')},
      {"many.txt", lines(1, 30'000, "m")},
      {"empty.txt", ""},
  };
  for (const auto& [name, content] : files) dir.write("in/" + name, content);
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.add_connector("sink",
                      file_sink(topic, (dir / "out/{filename}").string(), "per_span = true\n"));
  ferry.start();
  std::vector<json> events;
  // On failure: what the tracker holds (offsets, pending groups) next to the log.
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-sink", files.size(), 120s, events))
      << run_command(
             {ferry_binary(), "spans", "-c", ferry.worker_file().string(), "list", "--json"})
             .out
      << ferry.log();
  // An empty file has no record to carry it: the sink learns of its span from the
  // tracker and publishes it empty, under the name its path template gives.
  EXPECT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "out/empty.txt"); }, 30s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // The directory arrives whole, byte for byte.
  for (const auto& [name, content] : files) {
    ASSERT_TRUE(std::filesystem::exists(dir / "out" / name)) << name << "\n" << ferry.log();
    EXPECT_TRUE(slurp(dir / "out" / name) == content) << name << " differs";
  }
  size_t outputs = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "out")) ++outputs;
  EXPECT_EQ(outputs, files.size());
  // Nothing half-written is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir / "out"))
    EXPECT_EQ(e.path().string().find(".ferry-tmp"), std::string::npos) << e.path();
}

TEST(Spans, SourceAndSinkKilledMidSpanResumeTheSameSpan) {
  TempDir src_dir, sink_dir;
  std::string topic = unique_topic("spans-crash");
  std::string span_topic = unique_topic("spans-events");
  auto file = src_dir / "in/app.log";
  src_dir.write("in/app.log", "");
  // Tail mode: the span stays open between the kills, and closes when the file is
  // deleted at the end.
  // A killed member blocks its group's next rebalance until its session times out: its
  // own connector name keeps that group (ferry-<name>) out of tests running alongside.
  // (The generated worker file ends inside its [kafka] table.)
  std::string worker = "\"session.timeout.ms\" = \"6000\"\n" + spans_section(span_topic);
  FerryInstance source(src_dir, worker);
  source.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                  "\"\n[config]\npaths = [\"" + (src_dir / "in/*.log").string() +
                                  "\"]\nscan_interval = \"100ms\"\nrotate_wait = \"300ms\"\n"
                                  "[span]\nenabled = true\nidle_close = \"10m\"\n");
  FerryInstance sink(sink_dir, worker);
  sink.add_connector("crash-sink",
                     file_sink(topic, (sink_dir / "out/{filename}").string(), "per_span = true\n"));
  source.start();
  sink.start();

  std::string expected = lines(1, 200'000, "one");
  append(file, expected);
  // The sink is mid-span once its temporary file has data: kill it there.
  auto tmp_has_data = [&] {
    if (!std::filesystem::exists(sink_dir / "out")) return false;
    for (const auto& e : std::filesystem::directory_iterator(sink_dir / "out"))
      if (e.path().string().ends_with(".ferry-tmp") && e.file_size() > 0) return true;
    return false;
  };
  ASSERT_TRUE(wait_until(tmp_has_data, 60s)) << sink.log();
  sink.kill9();
  // The source is mid-span (and, likely, mid-ingest): kill it too.
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 20'000; }, 60s)) << source.log();
  source.kill9();

  std::string more = lines(1, 50'000, "two");
  append(file, more);
  expected += more;
  source.start();
  sink.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 250'000; }, 120s)) << source.log();
  std::filesystem::remove(file);  // closes the span after rotate_wait

  std::vector<json> events;
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-crash-sink", 1, 120s, events))
      << source.log() << sink.log();
  EXPECT_EQ(source.stop(), 0) << source.log();
  EXPECT_EQ(sink.stop(), 0) << sink.log();
  events = span_events(span_topic);

  auto by_span = records_by_span(kcat_consume(topic));
  ASSERT_EQ(by_span.size(), 1u) << "the span continued under its id after the crash";
  const auto& seqs = by_span.begin()->second;
  ASSERT_EQ(seqs.size(), 250'000u);
  ASSERT_EQ(seqs.rbegin()->first, 250'000u);
  for (const auto& [seq, values] : seqs)
    for (const auto& v : values) ASSERT_EQ(v, values.front()) << "seq " << seq << " reused";
  auto delivered = of_type(events, "span.delivered");
  ASSERT_FALSE(delivered.empty());
  EXPECT_EQ(delivered.back()["count"], 250'000);
  EXPECT_EQ(completions(events, "ferry-crash-sink"), 1u);
  // Duplicates from the crashes are recognised by seq: the copy is exact.
  ASSERT_TRUE(std::filesystem::exists(sink_dir / "out/app.log")) << sink.log();
  EXPECT_TRUE(slurp(sink_dir / "out/app.log") == expected);
}

TEST(Spans, TwoSinkHostsInOneGroupOneKilledCompleteEachSpanOnce) {
  TempDir src_dir, dir1, dir2;
  std::string topic = unique_topic("spans-group");
  std::string span_topic = unique_topic("spans-events");
  create_topic(topic, 4);
  // Quick failure detection so the survivor takes over within the test's patience; the
  // group (ferry-pair-sink) is this test's alone, so the kill holds up no other test.
  // (The generated worker file ends inside its [kafka] table.)
  std::string worker = "\"session.timeout.ms\" = \"6000\"\n" + spans_section(span_topic);
  for (int i = 1; i <= 8; ++i)
    src_dir.write("in/f" + std::to_string(i) + ".txt", lines(1, 20'000, "f" + std::to_string(i)));
  FerryInstance h1(dir1, worker), h2(dir2, worker);
  h1.add_connector("pair-sink", file_sink(topic, (dir1 / "out/{partition}.txt").string()));
  h2.add_connector("pair-sink", file_sink(topic, (dir2 / "out/{partition}.txt").string()));
  h1.start();
  h2.start();
  ASSERT_TRUE(wait_until([&] { return h1.log().find("assigned") != std::string::npos; }, 60s));
  ASSERT_TRUE(wait_until([&] { return h2.log().find("assigned") != std::string::npos; }, 60s));

  FerryInstance source(src_dir, worker);
  source.add_connector("src", batch_source(topic, src_dir / "in/*.txt"));
  source.start();
  // Kill a host while it is writing records (whichever got partitions with data).
  ASSERT_TRUE(wait_until(
      [&] {
        return std::filesystem::exists(dir1 / "out") || std::filesystem::exists(dir2 / "out");
      },
      60s));
  bool h1_busy = std::filesystem::exists(dir1 / "out");
  FerryInstance& victim = h1_busy ? h1 : h2;
  FerryInstance& survivor = h1_busy ? h2 : h1;
  victim.kill9();

  std::vector<json> events;
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-pair-sink", 8, 180s, events))
      << survivor.log() << source.log();
  EXPECT_EQ(source.stop(), 0) << source.log();
  EXPECT_EQ(survivor.stop(), 0) << survivor.log();
  events = span_events(span_topic);
  std::map<std::string, int> per_span;
  for (const auto& c : of_type(events, "span.completed")) per_span[c["span"]]++;
  EXPECT_EQ(per_span.size(), 8u);
  for (const auto& [span, n] : per_span) EXPECT_EQ(n, 1) << span;
  // Every line reached one of the sinks (at least once: the killed host's uncommitted
  // records were redelivered to the survivor).
  std::set<std::string> seen;
  for (const TempDir* d : {&dir1, &dir2}) {
    if (!std::filesystem::exists(*d / "out")) continue;
    for (const auto& e : std::filesystem::directory_iterator(*d / "out")) {
      std::string content = slurp(e.path());
      size_t start = 0;
      for (size_t nl; (nl = content.find('\n', start)) != std::string::npos; start = nl + 1)
        seen.insert(content.substr(start, nl - start));
    }
  }
  EXPECT_EQ(seen.size(), 160'000u);
}

TEST(Spans, TheSpanTopicIsCreatedWithItsPartitionsAndAppendTimeBeforeTheFirstEvent) {
  TempDir dir;
  std::string topic = unique_topic("spans-topic");
  std::string span_topic = unique_topic("spans-events");
  // A file waiting at start: its span.opened is published within milliseconds, so a
  // span topic not created before the sources start is auto-created by the broker
  // with its own defaults (here 1 partition, CreateTime).
  dir.write("in/a.txt", lines(1, 10, "a"));
  FerryInstance ferry(dir, spans_section(span_topic, "partitions = 3\n"));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_for_event(span_topic, "span.delivered", 60s, events)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto described = run_command({"kcat", "-L", "-b", test_bootstrap(), "-t", span_topic});
  EXPECT_NE(described.out.find("with 3 partitions"), std::string::npos) << described.out;
  EXPECT_EQ(topic_config(span_topic, "message.timestamp.type"), "LogAppendTime");
}

TEST(Spans, ExpiredAndFailedSpansAreReported) {
  TempDir dir;
  std::string topic = unique_topic("spans-bad");
  std::string span_topic = unique_topic("spans-events");
  std::string nobody = unique_topic("nobody");
  dir.write("in/ok.txt", lines(1, 10, "ok"));
  dir.write("bad/bad.txt", std::string(5000, 'L') + "\n");
  std::string small_topic = unique_topic("spans-small");
  create_topic(small_topic, 1, {{"max.message.bytes", "2000"}});
  FerryInstance ferry(dir, spans_section(span_topic, "watch_groups = [\"" + nobody + "\"]\n"));
  // Delivered, but the watched group never reads it: expired after ttl, naming the group.
  ferry.add_connector("ok", batch_source(topic, dir / "in/*.txt") + "ttl = \"2s\"\n");
  // A record larger than the topic accepts fails permanently: span.failed, and the
  // record goes to the dead letter topic.
  ferry.add_connector("bad", batch_source(small_topic, dir / "bad/*.txt") +
                                 "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" + topic +
                                 ".dlq\"\n");
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_until(
      [&] {
        events = span_events(span_topic);
        return !of_type(events, "span.expired").empty() && !of_type(events, "span.failed").empty();
      },
      60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto expired = of_type(events, "span.expired");
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]["connector"], "ok");
  EXPECT_EQ(expired[0]["missing"]["groups"], json::array({nobody}));
  auto failed = of_type(events, "span.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["connector"], "bad");
  EXPECT_EQ(failed[0]["failed"], 1);
  EXPECT_NE(failed[0]["reason"].get<std::string>().find("too large"), std::string::npos)
      << failed[0].dump();
  EXPECT_TRUE(of_type(events, "span.delivered", failed[0]["span"]).empty());
}

TEST(Spans, TailSpansCloseWhenIdleAndAfterRotation) {
  TempDir dir;
  std::string topic = unique_topic("spans-tail");
  std::string span_topic = unique_topic("spans-events");
  auto file = dir / "in/app.log";
  dir.write("in/app.log", lines(1, 10, "first"));
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                 "\"]\nscan_interval = \"100ms\"\nrotate_wait = \"300ms\"\n"
                                 "[span]\nenabled = true\nidle_close = \"700ms\"\n");
  ferry.start();
  std::vector<json> events;
  auto delivered = [&](size_t n) {
    return wait_until(
        [&] {
          events = span_events(span_topic);
          return of_type(events, "span.delivered").size() >= n;
        },
        60s);
  };
  ASSERT_TRUE(delivered(1)) << ferry.log();  // closed after 700 ms without new lines
  append(file, lines(1, 5, "second"));
  ASSERT_TRUE(delivered(2)) << ferry.log();  // new lines after the close: a new span
  append(file, lines(1, 3, "third"));
  std::filesystem::rename(file, dir / "in/app.log.1");  // not matched by the glob
  ASSERT_TRUE(delivered(3)) << ferry.log();
  // `ferry spans watch` follows the span topic itself and stops cleanly on SIGTERM.
  Process watch(
      {ferry_binary(), "spans", "-c", ferry.worker_file().string(), "watch", "--from-beginning"},
      dir / "watch.log");
  auto watched_delivered = [&] {
    std::string out = watch.log();
    size_t n = 0;
    for (size_t at = 0; (at = out.find("\"type\":\"span.delivered\"", at)) != std::string::npos;
         ++at)
      ++n;
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return watched_delivered() == 3; }, 30s)) << watch.log();
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(10s), 0) << watch.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto d = of_type(events, "span.delivered");
  std::sort(d.begin(), d.end(), [](const json& a, const json& b) { return a["at"] < b["at"]; });
  std::vector<int> counts;
  std::set<std::string> ids;
  for (const auto& e : d) {
    counts.push_back(e["count"]);
    ids.insert(e["span"]);
  }
  EXPECT_EQ(counts, (std::vector<int>{10, 5, 3}));
  EXPECT_EQ(ids.size(), 3u);
}

TEST(Spans, RecordsASinkDeadLettersAreCountedAsErrorsOfTheSpan) {
  TempDir dir;
  std::string topic = unique_topic("spans-errors");
  std::string span_topic = unique_topic("spans-events");
  dir.write("in/a.txt", "ok 1\nBAD 2\nok 3\nBAD 4\nok 5\n");
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.add_connector("sink", "plugin = \"test-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\noutput = \"" + (dir / "out.txt").string() +
                                  "\"\nreject_containing = \"BAD\"\n[errors]\ntolerance = \"all\"\n"
                                  "dead_letter_topic = \"" +
                                  topic + ".dlq\"\n");
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-sink", 1, 60s, events)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto completed = of_type(events, "span.completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]["count"], 5);
  EXPECT_EQ(completed[0]["errors"], 2) << completed[0].dump();
  std::set<uint64_t> seqs;
  for (const auto& e : of_type(events, "span.error")) seqs.insert(e["seq"].get<uint64_t>());
  EXPECT_EQ(seqs, (std::set<uint64_t>{2, 4}));
}

TEST(Spans, ASpanWhoseFileVanishedWhileStoppedExpiresAndIsDropped) {
  TempDir dir;
  std::string topic = unique_topic("spans-vanished");
  std::string span_topic = unique_topic("spans-events");
  auto file = dir.write("in/app.log", lines(1, 5, "x"));
  FerryInstance ferry(dir, spans_section(span_topic));
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                 "\"]\nscan_interval = \"100ms\"\n"
                                 "[span]\nenabled = true\nidle_close = \"10m\"\nttl = \"3s\"\n");
  ferry.start();
  auto offsets = ferry.state_dir() / "connectors/src/offsets.json";
  // The span is open (tail mode, no idle close) and saved with the offsets.
  ASSERT_TRUE(wait_until(
      [&] { return stored_state_text(offsets).find("span:") != std::string::npos; }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::filesystem::remove(file);
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_for_event(span_topic, "span.expired", 60s, events)) << ferry.log();
  EXPECT_EQ(of_type(events, "span.expired")[0]["missing"]["closed"], false);
  // Announced: nothing of it is kept any more.
  EXPECT_TRUE(wait_until([&] { return slurp(offsets).find("span:") == std::string::npos; }, 30s))
      << slurp(offsets);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(Spans, FinishedSpansAreForgottenAfterRetention) {
  TempDir dir;
  std::string topic = unique_topic("spans-gc");
  std::string span_topic = unique_topic("spans-events");
  dir.write("in/a.txt", lines(1, 10, "a"));
  FerryInstance ferry(dir, spans_section(span_topic, "retention = \"2s\"\n"));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.start();
  std::vector<json> events;
  ASSERT_TRUE(wait_for_event(span_topic, "span.delivered", 60s, events)) << ferry.log();
  std::string id = of_type(events, "span.delivered")[0]["span"];
  auto get = [&] {
    return run_command({ferry_binary(), "spans", "-c", ferry.worker_file().string(), "get", id});
  };
  ASSERT_TRUE(wait_until([&] { return get().exit_code == 0; }, 30s)) << ferry.log();
  // No event for longer than the retention: the tracker lets the span go.
  ASSERT_TRUE(wait_until([&] { return get().exit_code == 1; }, 30s)) << get().out;
  EXPECT_NE(ferry.log().find("forgot 1 span(s)"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(Spans, FinishedSpansBeyondMaxFinishedAreForgottenOldestFirst) {
  TempDir dir;
  std::string topic = unique_topic("spans-cap");
  std::string span_topic = unique_topic("spans-events");
  // One file at a time, so the spans finish in the order of their names.
  FerryInstance ferry(dir, spans_section(span_topic, "max_finished = 3\n"));
  ferry.add_connector("src", batch_source(topic, dir / "in/*.txt"));
  ferry.start();
  std::vector<json> events;
  for (int i = 0; i < 8; ++i) {
    auto tmp = dir.write("in/.f" + std::to_string(i), lines(1, 5, "f" + std::to_string(i)));
    std::filesystem::rename(tmp, dir / "in" / ("f" + std::to_string(i) + ".txt"));
    ASSERT_TRUE(wait_until(
        [&] {
          events = span_events(span_topic);
          return of_type(events, "span.delivered").size() >= static_cast<size_t>(i + 1);
        },
        60s))
        << ferry.log();
  }
  // (The span topic has several partitions: events come back in no global order.)
  auto delivered = of_type(events, "span.delivered");
  auto span_of = [&](const std::string& file) {
    for (const auto& e : delivered)
      if (e["attrs"].value("path", "").ends_with("/" + file)) return e["span"].get<std::string>();
    return std::string();
  };
  auto get = [&](const std::string& id) {
    return run_command({ferry_binary(), "spans", "-c", ferry.worker_file().string(), "get", id})
        .exit_code;
  };
  // The newest stays known; the oldest are let go without waiting for the 7-day retention.
  ASSERT_TRUE(wait_until([&] { return get(span_of("f0.txt")) == 1; }, 30s)) << ferry.log();
  EXPECT_EQ(get(span_of("f7.txt")), 0);
  int known = 0;
  for (const auto& e : delivered) known += get(e["span"]) == 0 ? 1 : 0;
  EXPECT_LE(known, 3);
  EXPECT_NE(ferry.log().find("more than max_finished (3) finished spans"), std::string::npos)
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
