// Crashes, broker outages and bad input: nothing is lost, and ferry recovers by itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/numbered_lines.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
constexpr int kLineBytes = 13;  // "line-%07d\n"

// The committed byte position of the only file the connector reads (0 if none yet).
uint64_t committed_pos(const std::filesystem::path& state, const std::string& connector) {
  uint64_t pos = 0;
  for (const auto& [k, v] : stored_state(state / "connectors" / connector / "offsets.json"))
    pos = std::max<uint64_t>(pos, std::stoull(v));
  return pos;
}

std::map<int, int> line_counts(const std::string& topic) {
  std::map<int, int> counts;
  for (const auto& m : kcat_consume(topic)) counts[std::stoi(m.value->substr(5))]++;
  return counts;
}

}  // namespace

TEST(FileFaults, SigkillThreeTimesLosesNothingAndDuplicatesOnlyUncommittedLines) {
  TempDir dir;
  std::string topic = unique_topic("kill9");
  const int total = 600'000;
  dir.write("in/data.log", numbered_lines(1, total));
  FerryInstance ferry(dir);
  ferry.add_connector("kill9", "plugin = \"file-source\"\ntopic = \"" + topic +
                                   "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                   "\"]\nscan_interval = \"100ms\"\n");
  std::vector<uint64_t> committed_at_kill;
  int64_t produced = 0;
  for (int kill = 0; kill < 3; ++kill) {
    ferry.start();
    int64_t target = produced + 100'000;
    ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= target; }, 120s)) << ferry.log();
    ferry.kill9();
    produced = end_offset(topic);
    committed_at_kill.push_back(committed_pos(ferry.state_dir(), "kill9") / kLineBytes);
  }
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return committed_pos(ferry.state_dir(), "kill9") == uint64_t(total) * kLineBytes; },
      180s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  auto counts = line_counts(topic);
  ASSERT_EQ(counts.size(), size_t(total));  // every line is there
  size_t duplicated = 0;
  for (const auto& [line, n] : counts) {
    // A line can be re-sent once per crash that happened before its offset was committed.
    int allowed = 1;
    for (uint64_t c : committed_at_kill)
      if (uint64_t(line) > c) ++allowed;
    ASSERT_LE(n, allowed) << "line " << line << " duplicated although it was committed";
    duplicated += size_t(n - 1);
  }
  RecordProperty("duplicated_lines", std::to_string(duplicated));
}

TEST(FileFaults, BrokerStoppedFor20SecondsLosesNothingAndRecovers) {
  std::string kafka_dir = test_service_dir("kafka");
  ASSERT_FALSE(kafka_dir.empty()) << "needs the ctest services fixture";
  std::string kafka_sh = source_dir() + "/scripts/kafka.sh";
  TempDir dir;
  std::string topic = unique_topic("outage");
  auto file = dir.write("in/data.log", numbered_lines(1, 50'000));
  FerryInstance ferry(dir);
  ferry.add_connector("outage", "plugin = \"file-source\"\ntopic = \"" + topic +
                                    "\"\n[config]\npaths = [\"" + file.string() + "\"]\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 50'000; }, 60s)) << ferry.log();

  ASSERT_EQ(run_command({kafka_sh, "pause", kafka_dir}).exit_code, 0);
  {
    std::ofstream out(file, std::ios::app);
    out << numbered_lines(50'001, 100'000);
  }
  std::this_thread::sleep_for(20s);  // the outage itself, not a wait for an outcome
  ASSERT_EQ(run_command({kafka_sh, "resume", kafka_dir}).exit_code, 0);

  ASSERT_TRUE(wait_until(
      [&] { return committed_pos(ferry.state_dir(), "outage") == 100'000u * kLineBytes; }, 180s))
      << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto counts = line_counts(topic);
  ASSERT_EQ(counts.size(), 100'000u);
  for (const auto& [line, n] : counts) ASSERT_EQ(n, 1) << "line " << line;
}

TEST(FileFaults, MissingDirectoryIsWaitedForWithoutCrashing) {
  TempDir dir;
  std::string topic = unique_topic("missing");
  FerryInstance ferry(dir);
  ferry.add_connector("missing", "plugin = \"file-source\"\ntopic = \"" + topic +
                                     "\"\n[config]\npaths = [\"" + (dir / "later/*.log").string() +
                                     "\"]\nscan_interval = \"100ms\"\n");
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("no file matches") != std::string::npos; }, 30s))
      << ferry.log();
  dir.write("later/x.log", numbered_lines(1, 10));
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 10; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(FileFaults, UnreadableFileIsReportedAndRetriedWhileOthersFlow) {
  TempDir dir;
  std::string topic = unique_topic("unreadable");
  auto locked = dir.write("in/locked.log", numbered_lines(1, 5));
  dir.write("in/open.log", numbered_lines(6, 10));
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  std::vector<std::string> prefix;
  std::string binary;
  if (::geteuid() == 0) {
    // root reads anything: run ferry as nobody so the permission really applies, from
    // an install inside the test dir (the build tree may not be reachable by nobody).
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    std::filesystem::permissions(dir / "in", std::filesystem::perms::all);
    auto inst = run_command(
        {"cmake", "--install", FERRY_TEST_BUILD_DIR, "--prefix", (dir / "prefix").string()});
    ASSERT_EQ(inst.exit_code, 0) << inst.out << inst.err;
    binary = (dir / "prefix/bin/ferry").string();
    prefix = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
  }
  FerryInstance ferry(dir);
  ferry.add_connector("unreadable", "plugin = \"file-source\"\ntopic = \"" + topic +
                                        "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                        "\"]\nscan_interval = \"100ms\"\n");
  std::filesystem::permissions(dir / "connectors.d", std::filesystem::perms::all);
  std::filesystem::create_directories(dir / "state");
  std::filesystem::permissions(dir / "state", std::filesystem::perms::all);
  ferry.start(prefix, binary);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 5; }, 60s)) << ferry.log();
  EXPECT_NE(ferry.log().find("cannot open " + locked.string() + ": Permission denied"),
            std::string::npos)
      << ferry.log();
  std::filesystem::permissions(
      locked, std::filesystem::perms::owner_all | std::filesystem::perms::others_read);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 10; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
