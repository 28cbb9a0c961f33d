// Bad records go to the dead letter topic with ferry.error.* headers, from sources and
// from sinks, and everything else still flows.
#include <gtest/gtest.h>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {
using namespace std::chrono_literals;
}

TEST(DeadLetter, SourceRejectsGoToTheDeadLetterTopicWithReasons) {
  TempDir dir;
  std::string topic = unique_topic("dlq-src"), dlq = unique_topic("dlq-src.dlq");
  FerryInstance ferry(dir);
  ferry.add_connector("gen", "plugin = \"test-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\ncount = 100\nreject_every = 10\n"
                                 "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" +
                                 dlq + "\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(dlq) >= 10 && end_offset(topic) >= 90; }, 60s))
      << ferry.log();
  ASSERT_TRUE(wait_until(
      [&] {
        return stored_state_text(ferry.state_dir() / "connectors/gen/offsets.json")
                   .find("=100\n") != std::string::npos;
      },
      30s))
      << "the offset must move past rejected records once they are in the dead letter topic";
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto bad = kcat_consume(dlq);
  ASSERT_EQ(bad.size(), 10u);
  EXPECT_EQ(bad[0].value, "rec-10");
  EXPECT_EQ(bad[0].headers.at("ferry.error.reason"), "test: record 10 is bad");
  EXPECT_EQ(bad[0].headers.at("ferry.error.stage"), "source");
  EXPECT_EQ(bad[0].headers.at("ferry.error.connector"), "gen");
  EXPECT_EQ(kcat_consume(topic).size(), 90u);
}

TEST(DeadLetter, SinkRejectsGoToTheDeadLetterTopicWithTheirOrigin) {
  TempDir dir;
  std::string topic = topic_with_lines(dir, "dlq-sink", "good-1\nbad-2\ngood-3\nbad-4\ngood-5\n");
  std::string dlq = unique_topic("dlq-sink.dlq");
  FerryInstance ferry(dir);
  auto out = dir / "out.txt";
  ferry.add_connector(
      "sink",
      test_sink_toml(topic, out, "reject_containing = \"bad\"\n",
                     "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" + dlq + "\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(dlq) >= 2 && read_file(out).size() >= 21; }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(read_file(out), "good-1\ngood-3\ngood-5\n");
  auto bad = kcat_consume(dlq);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].value, "bad-2");
  EXPECT_EQ(bad[0].headers.at("ferry.error.stage"), "sink");
  EXPECT_EQ(bad[0].headers.at("ferry.error.topic"), topic);
  EXPECT_EQ(bad[0].headers.at("ferry.error.partition"), "0");
  EXPECT_EQ(bad[0].headers.at("ferry.error.offset"), "1");
  EXPECT_EQ(bad[1].headers.at("ferry.error.offset"), "3");
}

TEST(DeadLetter, WithoutToleranceABadRecordFailsTheTaskVisibly) {
  TempDir dir;
  std::string topic = topic_with_lines(dir, "nodlq", "good-1\nbad-2\n");
  FerryInstance ferry(dir);
  auto out = dir / "out.txt";
  ferry.add_connector("strict", test_sink_toml(topic, out, "reject_containing = \"bad\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return ferry.log().find("task failed: bad record " + topic + "[0]@1") != std::string::npos;
      },
      60s))
      << ferry.log();
  EXPECT_TRUE(ferry.running());  // a failed task never takes the process down
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// librdkafka refuses a record larger than the producer's message.max.bytes when it is
// produced. Without tolerance the task fails there, and keeps failing there after each
// restart: the lines before it reach Kafka once (their offsets are committed as the
// task fails), no line after it is sent, and its own offset is never committed.
TEST(DeadLetter, WithoutToleranceARecordKafkaRefusesStopsTheSourceAtIt) {
  TempDir dir;
  std::string topic = unique_topic("refused");
  std::string text;
  for (int i = 1; i <= 100; ++i) text += "line-" + std::to_string(i) + "\n";
  const size_t bad_line_start = text.size();
  text += std::string(5000, 'L') + "\n";
  for (int i = 101; i <= 200; ++i) text += "line-" + std::to_string(i) + "\n";
  dir.write("in/a.txt", text);
  FerryInstance ferry(dir);
  ferry.add_connector("strict", "plugin = \"file-source\"\ntopic = \"" + topic +
                                    "\"\n[config]\npaths = [\"" + (dir / "in/*.txt").string() +
                                    "\"]\nmode = \"batch\"\nkey = \"none\"\n"
                                    "[kafka]\n\"message.max.bytes\" = \"2000\"\n");
  ferry.start();
  const std::string failed = "cannot produce to " + topic;
  // The second failure comes from the restarted task, which must start at the bad line.
  ASSERT_TRUE(wait_until(
      [&] {
        std::string log = ferry.log();
        size_t first = log.find(failed);
        return first != std::string::npos && log.find(failed, first + 1) != std::string::npos;
      },
      60s))
      << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_NE(ferry.log().find("resuming " + (dir / "in/a.txt").string() + " at byte " +
                             std::to_string(bad_line_start)),
            std::string::npos)
      << ferry.log();
  auto got = kcat_consume(topic, end_offset(topic));
  ASSERT_EQ(got.size(), 100u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, "line-" + std::to_string(i + 1));
}

}  // namespace ferry::test
