// file-source and file-sink against the real broker, checked with kcat.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

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

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << s;
}

std::map<std::string, int> value_counts(const std::vector<KafkaMessage>& msgs) {
  std::map<std::string, int> counts;
  for (const auto& m : msgs) counts[m.value.value_or("<null>")]++;
  return counts;
}

std::string source_connector(const std::string& topic, const std::string& paths,
                             const std::string& extra = "") {
  return "plugin = \"file-source\"\ntopic = \"" + topic + "\"\n[config]\npaths = [\"" + paths +
         "\"]\nscan_interval = \"100ms\"\n" + extra;
}

// The topic holds `n` distinct values, each exactly once.
void expect_each_value_once(const std::string& topic, size_t n) {
  auto counts = value_counts(kcat_consume(topic));
  EXPECT_EQ(counts.size(), n);
  for (const auto& [v, count] : counts) ASSERT_EQ(count, 1) << v;
}

// The keys a connector has stored in offsets.json or state.json, except span state.
std::set<std::string> stored_keys(const std::filesystem::path& file) {
  std::set<std::string> keys;
  for (const auto& [k, v] : stored_state(file))
    if (!k.starts_with("span:")) keys.insert(k);
  return keys;
}

std::string partition_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "(missing " + p.string() + ")";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

TEST(FilePipeline, OneMillionLinesArriveExactlyOnce) {
  TempDir dir;
  std::string topic = unique_topic("million");
  dir.write("in/big.log", numbered_lines(1, 1'000'000));
  FerryInstance ferry(dir);
  ferry.add_connector(
      "million",
      source_connector(topic, (dir / "in/*.log").string(),
                       "mode = \"batch\"\non_done = \"move:" + (dir / "done").string() + "\"\n"));
  ferry.start();
  // The file is moved only after every line is acknowledged and the offset committed.
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "done/big.log"); }, 180s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  auto msgs = kcat_consume(topic);
  ASSERT_EQ(msgs.size(), 1'000'000u);
  auto counts = value_counts(msgs);
  ASSERT_EQ(counts.size(), 1'000'000u);
  EXPECT_EQ(counts.begin()->first, "line-0000001");
  EXPECT_EQ(counts.rbegin()->first, "line-1000000");
  for (const auto& [v, n] : counts) ASSERT_EQ(n, 1) << v;
  EXPECT_EQ(*msgs.front().key, (dir / "in/big.log").string());  // key = path keeps order
}

TEST(FilePipeline, FilesToKafkaToFilesIsByteIdentical) {
  TempDir dir;
  std::string topic = unique_topic("roundtrip");
  std::string content = "first line\n\n  indented\ttabs\n" + std::string(100'000, 'x') +
                        "\nh\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x9A\xA2\n" +
                        numbered_lines(1, 50'000);
  dir.write("in/data.txt", content);
  FerryInstance ferry(dir);
  ferry.add_connector("src",
                      source_connector(topic, (dir / "in/*.txt").string(), "mode = \"batch\"\n"));
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\npath = \"" + (dir / "out/{topic}.txt").string() +
                                  "\"\n");
  ferry.start();
  auto out = dir / ("out/" + topic + ".txt");
  ASSERT_TRUE(wait_until(
      [&] {
        return std::filesystem::exists(out) && std::filesystem::file_size(out) >= content.size();
      },
      120s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_TRUE(read_file(out) == content) << "output differs from input";
}

TEST(FilePipeline, TailFollowsAppendsAndGlobPicksUpNewFiles) {
  TempDir dir;
  std::string topic = unique_topic("tail");
  dir.write("logs/a.log", numbered_lines(1, 10, "a-"));
  FerryInstance ferry(dir);
  ferry.add_connector(
      "tail", source_connector(topic, (dir / "logs/*.log").string(), "eof_timeout = \"300ms\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return kcat_consume(topic).size() == 10; }, 60s)) << ferry.log();
  append(dir / "logs/a.log", numbered_lines(11, 20, "a-"));
  dir.write("logs/b.log", numbered_lines(1, 5, "b-"));
  append(dir / "logs/b.log", "no newline yet");
  ASSERT_TRUE(wait_until([&] { return kcat_consume(topic).size() == 26; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto msgs = kcat_consume(topic);
  auto counts = value_counts(msgs);
  EXPECT_EQ(counts["a-0000020"], 1);
  EXPECT_EQ(counts["b-0000005"], 1);
  ASSERT_EQ(counts["no newline yet"], 1);
  for (const auto& m : msgs)
    if (m.value == "no newline yet") {
      EXPECT_EQ(m.headers.at("ferry.eol"), "none");
    }
}

TEST(FilePipeline, RestartResumesFromTheCheckpointWithoutDuplicates) {
  TempDir dir;
  std::string topic = unique_topic("resume");
  dir.write("logs/app.log", numbered_lines(1, 1000));
  FerryInstance ferry(dir);
  ferry.add_connector("resume", source_connector(topic, (dir / "logs/*.log").string()));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return kcat_consume(topic).size() == 1000; }, 60s)) << ferry.log();
  ASSERT_EQ(ferry.stop(), 0) << ferry.log();
  append(dir / "logs/app.log", numbered_lines(1001, 1500));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return kcat_consume(topic).size() >= 1500; }, 60s)) << ferry.log();
  ASSERT_EQ(ferry.stop(), 0) << ferry.log();
  expect_each_value_once(topic, 1500);
}

TEST(FilePipeline, RotationByRenameCopytruncateAndDeletionLosesAndDuplicatesNothing) {
  TempDir dir;
  std::string topic = unique_topic("rotate");
  auto log = dir / "logs/app.log";
  dir.write("logs/app.log", numbered_lines(1, 1000));
  FerryInstance ferry(dir);
  ferry.add_connector("rotate", source_connector(topic, log.string(), "rotate_wait = \"1s\"\n"));
  ferry.start();
  auto have = [&](size_t n) {
    return wait_until([&] { return kcat_consume(topic).size() >= n; }, 60s);
  };
  ASSERT_TRUE(have(1000)) << ferry.log();

  // Rename rotation: the writer keeps appending to the old file for a moment, then
  // starts a new one under the watched name.
  std::filesystem::rename(log, dir / "logs/app.log.1");
  append(dir / "logs/app.log.1", numbered_lines(1001, 1100));
  dir.write("logs/app.log", numbered_lines(1101, 1200));
  ASSERT_TRUE(have(1200)) << ferry.log();

  // copytruncate: copy, then truncate in place; the writer continues in the same file.
  std::filesystem::copy_file(log, dir / "logs/app.log.2");
  std::filesystem::resize_file(log, 0);
  append(log, numbered_lines(1201, 1300));
  ASSERT_TRUE(have(1300)) << ferry.log();

  // Deletion with unread data: ferry still holds the file open and reads it to the end.
  append(log, numbered_lines(1301, 1400));
  std::filesystem::remove(log);
  ASSERT_TRUE(have(1400)) << ferry.log();
  dir.write("logs/app.log", numbered_lines(1401, 1500));
  ASSERT_TRUE(have(1500)) << ferry.log();

  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  expect_each_value_once(topic, 1500);
}

TEST(FilePipeline, BatchModeDeletesOnlyAfterDelivery) {
  TempDir dir;
  std::string topic = unique_topic("batchdel");
  dir.write("spool/one.csv", numbered_lines(1, 300));
  dir.write("spool/two.csv", "");  // empty file: delivered trivially, deleted too
  dir.write("spool/three.csv", "a\r\nb\r\nlast-without-newline");
  FerryInstance ferry(dir);
  ferry.add_connector("batch", source_connector(topic, (dir / "spool/*.csv").string(),
                                                "mode = \"batch\"\non_done = \"delete\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return std::filesystem::is_empty(dir / "spool"); }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto msgs = kcat_consume(topic);
  EXPECT_EQ(msgs.size(), 303u);
  auto counts = value_counts(msgs);
  EXPECT_EQ(counts["a"], 1);
  EXPECT_EQ(counts["last-without-newline"], 1);
  for (const auto& m : msgs) {
    if (m.value == "a") {
      EXPECT_EQ(m.headers.at("ferry.eol"), "crlf");
    }
    if (m.value == "line-0000001") {
      EXPECT_TRUE(m.headers.empty());
    }
  }
}

// ext4 gives a deleted file's inode to the next file created: a spool directory fed one
// file at a time sees every new file under the identity of the one just delivered.
TEST(FilePipeline, BatchModeReadsANewFileThatReusesADeletedFilesInode) {
  TempDir dir;
  std::string topic = unique_topic("inodereuse");
  std::filesystem::create_directories(dir / "spool");
  FerryInstance ferry(dir);
  ferry.add_connector("spool", source_connector(topic, (dir / "spool/*.csv").string(),
                                                "mode = \"batch\"\non_done = \"delete\"\n"));
  ferry.start();
  const int kFiles = 6;
  std::set<ino_t> deleted;
  int reused = 0;
  for (int i = 0; i < kFiles; ++i) {
    auto path = dir / ("spool/f" + std::to_string(i) + ".csv");
    dir.write("spool/f" + std::to_string(i) + ".csv",
              numbered_lines(i * 100 + 1, i * 100 + 100, "row-"));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    ino_t ino = st.st_ino;
    reused += deleted.contains(ino);
    ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(path); }, 30s))
        << "f" << i << ".csv (inode " << ino << ", reused: " << deleted.contains(ino)
        << ") was not delivered\n"
        << ferry.log();
    deleted.insert(ino);
  }
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  expect_each_value_once(topic, kFiles * 100);
  if (reused == 0) GTEST_SKIP() << "this file system did not reuse a deleted file's inode";
}

TEST(FilePipeline, BatchModeForgetsTheOffsetsAndStateOfFilesItDeleted) {
  // A spool directory sees thousands of files a day; what ferry stores for each must go
  // with the file, or the connector's state grows without end.
  TempDir dir;
  std::string topic = unique_topic("spoolforget");
  const int kFiles = 30;
  for (int i = 0; i < kFiles; ++i)
    dir.write("spool/f" + std::to_string(i) + ".csv",
              numbered_lines(i * 50 + 1, i * 50 + 50, "row-"));
  FerryInstance ferry(dir);
  ferry.add_connector("spool", source_connector(topic, (dir / "spool/*.csv").string(),
                                                "mode = \"batch\"\non_done = \"delete\"\n"));
  ferry.start();
  auto offsets = ferry.state_dir() / "connectors/spool/offsets.json";
  auto state = ferry.state_dir() / "connectors/spool/state.json";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::is_empty(dir / "spool"); }, 60s))
      << ferry.log();
  EXPECT_TRUE(wait_until([&] { return stored_keys(offsets).empty(); }, 10s))
      << stored_state_text(offsets) << ferry.log();
  EXPECT_TRUE(stored_keys(state).empty()) << stored_state_text(state);

  // Still a working connector: a file dropped now is read, and after a restart nothing
  // is read twice.
  dir.write("spool/late.csv", numbered_lines(9001, 9050, "row-"));
  ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(dir / "spool/late.csv"); }, 30s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_TRUE(stored_keys(offsets).empty()) << read_file(offsets);
  expect_each_value_once(topic, kFiles * 50 + 50);
}

TEST(FilePipeline, TailModeForgetsARotatedFileOnceItIsGoneForForgetAfter) {
  TempDir dir;
  std::string topic = unique_topic("tailforget");
  auto log = dir / "logs/app.log";
  dir.write("logs/app.log", numbered_lines(1, 100));
  FerryInstance ferry(dir);
  ferry.add_connector("tail", source_connector(topic, log.string(),
                                               "rotate_wait = \"300ms\"\n"
                                               "forget_after = \"1s\"\n"));
  ferry.start();
  auto offsets = ferry.state_dir() / "connectors/tail/offsets.json";
  auto state = ferry.state_dir() / "connectors/tail/state.json";
  auto have = [&](size_t n) {
    return wait_until([&] { return kcat_consume(topic).size() >= n; }, 60s);
  };
  ASSERT_TRUE(have(100)) << ferry.log();
  std::string old_partition = partition_of(log);
  ASSERT_TRUE(wait_until([&] { return stored_keys(offsets).contains(old_partition); }, 10s))
      << read_file(offsets);

  // Rotated away (the new name is not watched), then a new file under the old name.
  std::filesystem::rename(log, dir / "logs/app.log.1");
  dir.write("logs/app.log", numbered_lines(101, 200));
  ASSERT_TRUE(have(200)) << ferry.log();
  std::string new_partition = partition_of(log);
  ASSERT_NE(new_partition, old_partition);
  EXPECT_TRUE(wait_until(
      [&] {
        return stored_keys(offsets) == std::set<std::string>{new_partition} &&
               stored_keys(state) == std::set<std::string>{new_partition};
      },
      15s))
      << "offsets: " << stored_state_text(offsets) << "\nstate: " << read_file(state)
      << ferry.log();
  EXPECT_NE(ferry.log().find("forgetting " + (dir / "logs/app.log").string()), std::string::npos)
      << ferry.log();

  // The file still watched kept its position: a restart reads only what is new.
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  append(log, numbered_lines(201, 250));
  ferry.start();
  ASSERT_TRUE(have(250)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  expect_each_value_once(topic, 250);
}

TEST(FilePipeline, BatchModeOnDoneFollowsTheLastDeliveryNotTheFlushInterval) {
  TempDir dir;
  std::string topic = unique_topic("quietcommit");
  dir.write("in/a.log", numbered_lines(1, 1000));
  FerryInstance ferry(dir);
  // An interval far past the wait below: only the commit a task makes when it goes quiet
  // with everything acknowledged can move the file in time.
  std::ifstream in(ferry.worker_file());
  std::string worker((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = worker.find("offset_flush_interval = \"100ms\"");
  ASSERT_NE(at, std::string::npos);
  worker.replace(at, std::string("offset_flush_interval = \"100ms\"").size(),
                 "offset_flush_interval = \"1h\"");
  dir.write("ferry.toml", worker);
  ferry.add_connector(
      "quiet",
      source_connector(topic, (dir / "in/*.log").string(),
                       "mode = \"batch\"\non_done = \"move:" + (dir / "done").string() + "\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "done/a.log"); }, 60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  expect_each_value_once(topic, 1000);
}

TEST(FilePipeline, SinkRotatesBySizeAndLosesNoLine) {
  TempDir dir;
  std::string topic = unique_topic("sinkrot");
  std::string content = numbered_lines(1, 20'000);
  auto input = dir.write("input.txt", content);
  kcat_produce_lines(topic, input.string());
  FerryInstance ferry(dir);
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\npath = \"" + (dir / "out/data.log").string() +
                                  "\"\nrotate_bytes = \"64KiB\"\n");
  ferry.start();
  auto total = [&] {
    uintmax_t n = 0;
    if (!std::filesystem::exists(dir / "out")) return n;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir / "out", ec)) {
      uintmax_t size = e.file_size(ec);  // the sink may rotate it away meanwhile
      if (!ec) n += size;
    }
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return total() >= content.size(); }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::string joined = read_file(dir / "out/data.log.1");
  int rotated = 1;
  while (std::filesystem::exists(dir / ("out/data.log." + std::to_string(rotated + 1))))
    joined += read_file(dir / ("out/data.log." + std::to_string(++rotated)));
  if (std::filesystem::exists(dir / "out/data.log")) joined += read_file(dir / "out/data.log");
  EXPECT_GE(rotated, 3);
  EXPECT_TRUE(joined == content) << "rotated files do not add up to the input";
}

}  // namespace ferry::test
