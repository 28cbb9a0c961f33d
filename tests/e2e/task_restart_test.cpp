// Failed tasks restart with backoff; retriable errors are retried; nothing is lost.
#include <gtest/gtest.h>

#include <map>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {
using namespace std::chrono_literals;

std::map<std::string, int> counts(const std::string& topic) {
  std::map<std::string, int> c;
  for (const auto& m : kcat_consume(topic)) c[*m.value]++;
  return c;
}
}  // namespace

TEST(TaskRestart, AFailedSourceTaskIsRestartedAndResumesFromItsOffset) {
  TempDir dir;
  std::string topic = unique_topic("restart");
  FerryInstance ferry(dir);
  ferry.add_connector("flaky", "plugin = \"test-source\"\ntopic = \"" + topic +
                                   "\"\n[config]\ncount = 5000\nfail_at = 2500\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return counts(topic).size() == 5000; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_NE(ferry.log().find("task failed: test: fatal failure at record 2500; restarting in 1 s"),
            std::string::npos)
      << ferry.log();
  for (const auto& [v, n] : counts(topic)) ASSERT_GE(n, 1) << v;
}

TEST(TaskRestart, RetriableSourceErrorsAreRetriedWithBackoff) {
  TempDir dir;
  std::string topic = unique_topic("retry");
  FerryInstance ferry(dir);
  ferry.add_connector("slow", "plugin = \"test-source\"\ntopic = \"" + topic +
                                  "\"\n[config]\ncount = 10\nretriable_polls = 3\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 10; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::string log = ferry.log();
  EXPECT_NE(log.find("retriable error, retrying in 100 ms: test: not yet"), std::string::npos)
      << log;
  EXPECT_NE(log.find("retriable error, retrying in 400 ms"), std::string::npos) << log;
  EXPECT_EQ(log.find("task failed"), std::string::npos) << log;
}

TEST(TaskRestart, SinkOffsetsAreCommittedOnlyAfterASuccessfulFlush) {
  TempDir dir;
  std::string topic = topic_with_lines(dir, "flush", "a\nb\nc\n");
  FerryInstance ferry(dir);
  auto out = dir / "out.txt";
  ferry.add_connector("sink", test_sink_toml(topic, out, "retriable_flushes = 2\n"));
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("flush failed (retriable)") != std::string::npos; }, 60s))
      << ferry.log();
  ASSERT_TRUE(wait_until([&] { return read_file(out) == "a\nb\nc\n"; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  // A second run of the same connector starts after the committed offsets: nothing new.
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("assigned 1 partition") != std::string::npos; }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(read_file(out), "a\nb\nc\n");
}

TEST(EmbeddedBroker, RunsWithoutKafkaAndSaysWhatItDoesNotKeep) {
  TempDir dir;
  FerryInstance ferry(dir, "", /*real_broker=*/false);
  dir.write("in/a.txt", "one\ntwo\nthree\n");
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"demo\"\n[config]\npaths = \"" +
                                 (dir / "in/*.txt").string() + "\"\nmode = \"batch\"\n");
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"demo\"]\n[config]\npath = \"" +
                                  (dir / "out/{topic}.txt").string() + "\"\n");
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir / "out/demo.txt") == "one\ntwo\nthree\n"; }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::string bootstrap = read_file(ferry.state_dir() / "embedded.bootstrap");
  EXPECT_NE(bootstrap.find("127.0.0.1:"), std::string::npos) << bootstrap;
  EXPECT_NE(ferry.log().find("EMBEDDED in-memory Kafka broker"), std::string::npos);
  EXPECT_NE(ferry.log().find("keeps NOTHING across restarts"), std::string::npos);
}

}  // namespace ferry::test
