// file-source and file-sink against record data chosen by someone else: outputs named
// by record keys, span ids and timestamps, and files arriving under a name already
// used. Nothing may leave its directory, lose a line, or exhaust ferry's descriptors.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <set>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;

// Descriptors the process holds open on files under `dir`.
size_t open_files_under(pid_t pid, const std::filesystem::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().starts_with(dir.string() + "/")) ++n;
  }
  return n;
}

std::string sink_toml(const std::string& topic, const std::string& path,
                      const std::string& extra = "") {
  return "plugin = \"file-sink\"\ntopics = [\"" + topic + "\"]\n[config]\npath = \"" + path +
         "\"\n" + extra;
}

std::string task_state(const FerryInstance& ferry, const std::string& connector) {
  RestClient rest(ferry.rest_address());
  auto r = rest.get("/connectors/" + connector + "/tasks/0/status");
  return r.status == 200 ? r.body.value("state", "") : "";
}

}  // namespace

TEST(FileHostileInput, TheSinkHoldsAtMostMaxOpenFilesAndClosesIdleOnes) {
  TempDir dir;
  std::string topic = unique_topic("many-outputs");
  // 300 keys, one output file each ({filename} is the key's last segment).
  std::vector<RecordToProduce> records;
  for (int i = 0; i < 300; ++i)
    for (int line = 0; line < 2; ++line)
      records.push_back(
          {"in/f" + std::to_string(i), "f" + std::to_string(i) + "-" + std::to_string(line)});
  produce_records(topic, records);
  FerryInstance ferry(dir);
  ferry.add_connector("out", sink_toml(topic, (dir / "out/{filename}").string(),
                                       "max_open_files = 16\nidle_close = \"1s\"\n"));
  ferry.start();
  size_t most = 0;
  auto all_there = [&] {
    if (ferry.pid() > 0) most = std::max(most, open_files_under(ferry.pid(), dir / "out"));
    for (int i = 0; i < 300; ++i) {
      std::string want = "f" + std::to_string(i) + "-0\nf" + std::to_string(i) + "-1\n";
      if (read_file(dir / ("out/f" + std::to_string(i))) != want) return false;
    }
    return true;
  };
  ASSERT_TRUE(wait_until(all_there, 120s, 10ms)) << ferry.log();
  EXPECT_LE(most, 16u);
  // Idle outputs are closed: a file is never held for ever.
  EXPECT_TRUE(wait_until([&] { return open_files_under(ferry.pid(), dir / "out") == 0; }, 30s));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(FileHostileInput, SpanIdsAndTimestampsFromRecordsNeverChooseAPath) {
  TempDir dir;
  std::string topic = unique_topic("hostile-spans");
  auto with_span = [](std::string id, std::string value) {
    RecordToProduce r;
    r.key = "k";
    r.value = std::move(value);
    r.headers = {{"ferry.span", std::move(id)}, {"ferry.span.seq", "1"}};
    return r;
  };
  std::vector<RecordToProduce> records{
      with_span("a/b", "slash"),
      with_span("../../escaped", "dots"),
      with_span(std::string("nul\0cut", 7), "nul"),
      with_span(std::string(3000, 'x'), "long"),
  };
  // A far-past timestamp (year -285 million) used to make {date} read an unterminated
  // buffer: its date needs more than strftime's 16 bytes.
  RecordToProduce far;
  far.key = "k";
  far.value = "far-past";
  far.timestamp_ms = -9'000'000'000'000'000'000;
  records.push_back(far);
  records.push_back({"k", "plain"});
  produce_records(topic, records);

  FerryInstance ferry(dir);
  ferry.add_connector("spans",
                      sink_toml(topic, (dir / "out/{span}.txt").string(), "per_span = true\n"));
  ferry.add_connector("dates", sink_toml(topic, (dir / "dated/{date}.txt").string()));
  ferry.start();
  // Records outside spans follow the hostile ones: reaching them means the task went on.
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir / "out/nospan.txt") == "far-past\nplain\n"; }, 60s))
      << ferry.log();
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir / "dated/invalid-date.txt") == "far-past\n"; }, 60s))
      << ferry.log();
  EXPECT_EQ(task_state(ferry, "spans"), "RUNNING") << ferry.log();
  EXPECT_EQ(task_state(ferry, "dates"), "RUNNING") << ferry.log();
  // Every span's temporary file is a plain name inside out/, nothing outside it.
  std::set<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "out")) {
    EXPECT_EQ(e.path().parent_path(), dir / "out") << e.path();
    EXPECT_LE(e.path().filename().string().size(), 255u);
    names.insert(e.path().filename().string());
  }
  EXPECT_EQ(names.size(), 5u) << ::testing::PrintToString(names);  // 4 spans + nospan.txt
  EXPECT_FALSE(std::filesystem::exists(dir / "escaped.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir.path().parent_path() / "escaped.txt"));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(FileHostileInput, OnDoneMoveNeverOverwritesAnEarlierFileOfTheSameName) {
  TempDir dir;
  std::string topic = unique_topic("move-twice");
  std::filesystem::create_directories(dir / "done");
  FerryInstance ferry(dir);
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\npaths = [\"" + (dir / "in/*.csv").string() +
                                 "\"]\nmode = \"batch\"\nscan_interval = \"100ms\"\non_done = "
                                 "\"move:" +
                                 (dir / "done").string() + "\"\n");
  ferry.start();
  dir.write("in/day.csv", "first\n");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "done/day.csv"); }, 60s))
      << ferry.log();
  dir.write("in/day.csv", "second\n");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "done/day.csv.1"); }, 60s))
      << ferry.log();
  EXPECT_EQ(read_file(dir / "done/day.csv"), "first\n");
  EXPECT_EQ(read_file(dir / "done/day.csv.1"), "second\n");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
