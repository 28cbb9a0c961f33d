// Bad records go to the dead letter topic with ferry.error.* headers, from sources and
// from sinks, and everything else still flows.
#include <gtest/gtest.h>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
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
        return read_file(ferry.state_dir() / "connectors/gen/offsets.json").find("\"100\"") !=
               std::string::npos;
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

}  // namespace ferry::test
