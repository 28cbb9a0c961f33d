// Full disks: state_dir and a file-sink's output directory on small tmpfs mounts (needs
// root, as the test command runs in CI). ferry stops advancing, says so in its status,
// corrupts no state file, never commits past what is on disk, and goes on by itself
// once there is space again.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/numbered_lines.hpp"
#include "support/rest_client.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A tmpfs of `bytes` at `dir`, unmounted at scope exit.
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, size_t bytes) : dir_(dir) {
    fs::create_directories(dir);
    std::string opts = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0)
      error_ = std::string("mount tmpfs: ") + std::strerror(errno);
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }
  // More space, as when an operator grows the volume.
  bool grow(size_t bytes) {
    std::string opts = "size=" + std::to_string(bytes);
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }
  // Fills what is left with one file; returns its path.
  fs::path fill() {
    auto p = dir_ / "filler";
    std::ofstream out(p, std::ios::binary);
    std::string block(64 * 1024, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
    out.close();
    // The last partial block may not fit either: fill byte by byte.
    std::ofstream tail(p, std::ios::binary | std::ios::app);
    while (tail.put('x') && tail.flush()) {
    }
    return p;
  }

 private:
  fs::path dir_;
  std::string error_;
};

std::string task_trace(RestClient& rest, const std::string& connector) {
  auto s = rest.get("/connectors/" + connector + "/status");
  if (s.status != 200 || !s.body["tasks"][0].contains("trace")) return "";
  return s.body["tasks"][0]["trace"].get<std::string>();
}

}  // namespace

TEST(DiskFaults, AFullStateDirStopsTheSourceWhichSaysSoAndGoesOnWhenThereIsSpace) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  SmallDisk disk(dir / "state", 512 * 1024);
  ASSERT_EQ(disk.error(), "");
  std::string topic = unique_topic("statefull");
  auto input = dir.write("in/app.log", numbered_lines(1, 1000));
  FerryInstance ferry(dir);
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\nmax_in_flight = 500\n[config]\npaths = [\"" +
                                 (dir / "in/*.log").string() + "\"]\nscan_interval = \"100ms\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 1000; }, 60s)) << ferry.log();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s));
  RestClient rest(ferry.rest_address());

  auto filler = disk.fill();
  // A new file (its identity must be saved too), and lines appended to the old one at a
  // steady rate until the saves fail: a save appends a short journal line, which the
  // journal's last page may still hold for a while after the disk is full.
  dir.write("in/second.log", numbered_lines(20001, 25000));
  int more = 0;
  std::string said;
  bool full = false;
  for (auto give_up = std::chrono::steady_clock::now() + 60s;
       !full && std::chrono::steady_clock::now() < give_up;) {
    {
      std::ofstream out(input, std::ios::app);
      out << numbered_lines(more + 1, more + 100, "more-");
    }
    more += 100;
    full = wait_until(
        [&] {
          said = task_trace(rest, "src");
          return said.find("No space left on device") != std::string::npos;
        },
        50ms, 10ms);
  }
  ASSERT_TRUE(full) << "status: \"" << said << "\"\n" << ferry.log();
  const int total = 1000 + 5000 + more;
  EXPECT_NE(said.find("not reading on until they can be saved"), std::string::npos) << said;
  EXPECT_NE(ferry.log().find("cannot save source offsets"), std::string::npos);
  // Stopped: what went out after the last saved offsets is what was in flight and
  // acknowledged within one offset_flush_interval (100 ms here), then nothing more.
  int64_t while_full = end_offset(topic);
  std::this_thread::sleep_for(1s);  // a second of being stuck, not a wait for an outcome
  EXPECT_EQ(end_offset(topic), while_full) << "kept reading with nowhere to save offsets";
  // The state files are whole: the snapshot (if one was written) parses and the journal
  // reads up to at most a line being written at this moment, which a start cuts off.
  for (const char* f : {"offsets.json", "state.json"}) {
    auto loaded = state::DurableMap::load(ferry.state_dir() / "connectors/src" / f);
    EXPECT_TRUE(loaded) << f << ": " << loaded.status().message();
  }

  fs::remove(filler);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= total; }, 60s)) << ferry.log();
  ASSERT_TRUE(wait_until([&] { return task_trace(rest, "src").empty(); }, 30s))
      << task_trace(rest, "src");
  // What identifies each file reached the state file once there was space: a restart
  // resumes both files instead of reading them again.
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  {
    std::ofstream out(input, std::ios::app);
    out << numbered_lines(25001, 25010);
  }
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= total + 10; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::map<std::string, int> counts;
  for (const auto& m : kcat_consume(topic, end_offset(topic))) counts[*m.value]++;
  EXPECT_EQ(counts.size(), static_cast<size_t>(total + 10));
  for (const auto& [line, n] : counts) ASSERT_EQ(n, 1) << line;
}

TEST(DiskFaults, AFullSinkDiskStopsCommitsAtWhatIsOnDiskAndGoesOnWhenThereIsSpace) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  SmallDisk disk(dir / "out", 256 * 1024);
  ASSERT_EQ(disk.error(), "");
  std::string topic = unique_topic("sinkfull");
  const int total = 60000;  // 780 KB: three times the disk
  auto input = dir.write("input.txt", numbered_lines(1, total));
  kcat_produce_lines(topic, input.string());
  FerryInstance ferry(dir);
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\npath = \"" + (dir / "out/data.log").string() +
                                  "\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s));
  RestClient rest(ferry.rest_address());
  std::string said;
  ASSERT_TRUE(wait_until(
      [&] {
        said = task_trace(rest, "sink");
        return said.find("No space left on device") != std::string::npos;
      },
      60s))
      << "status: \"" << said << "\"\n"
      << ferry.log();
  // Never committed past what is on disk: every record before the committed offset is
  // a whole line in the file.
  auto on_disk = [&] { return fs::file_size(dir / "out/data.log") / 13; };
  for (int i = 0; i < 3; ++i) {
    int64_t committed = committed_offset("ferry-sink", topic);
    EXPECT_LE(committed, static_cast<int64_t>(on_disk()));
    std::this_thread::sleep_for(300ms);  // samples while it retries
  }
  ASSERT_TRUE(disk.grow(4 * 1024 * 1024));
  ASSERT_TRUE(wait_until([&] { return on_disk() >= static_cast<uintmax_t>(total); }, 60s))
      << ferry.log();
  ASSERT_TRUE(wait_until([&] { return task_trace(rest, "sink").empty(); }, 30s))
      << task_trace(rest, "sink");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  // Every line once, in order, none cut where the disk ran out.
  EXPECT_EQ(read_file(dir / "out/data.log"), numbered_lines(1, total));
}

TEST(DiskFaults, AKillWhileTheSinkDiskIsFullLeavesNoCutLineBehind) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  SmallDisk disk(dir / "out", 256 * 1024);
  ASSERT_EQ(disk.error(), "");
  std::string topic = unique_topic("sinkcut");
  const int total = 40000;  // 520 KB: twice the disk
  kcat_produce_lines(topic, dir.write("input.txt", numbered_lines(1, total)).string());
  FerryInstance ferry(dir);
  // A short session: the killed member's partitions come back in seconds, not 45.
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\npath = \"" + (dir / "out/data.log").string() +
                                  "\"\n[kafka]\n\"session.timeout.ms\" = \"6000\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s));
  RestClient rest(ferry.rest_address());
  ASSERT_TRUE(wait_until(
      [&] { return task_trace(rest, "sink").find("No space left") != std::string::npos; }, 60s))
      << ferry.log();
  // The disk ran out in the middle of a write: the file may end inside a line.
  ferry.kill9();
  ASSERT_TRUE(disk.grow(4 * 1024 * 1024));
  ferry.start();
  auto out = dir / "out/data.log";
  ASSERT_TRUE(wait_until(
      [&] {
        std::string text = read_file(out);
        return text.size() >= numbered_lines(total, total).size() &&
               text.ends_with(numbered_lines(total, total));
      },
      60s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  // At-least-once: lines after the last commit come again, but every line is whole and
  // every record is there.
  std::set<std::string> seen;
  std::istringstream in(read_file(out));
  int cut = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.size() != 12 || !l.starts_with("line-")) {
      if (++cut <= 3) ADD_FAILURE() << "a cut line in the output: \"" << l << "\"";
      continue;
    }
    seen.insert(l);
  }
  EXPECT_EQ(cut, 0);
  EXPECT_EQ(seen.size(), static_cast<size_t>(total));
  EXPECT_NE(ferry.log().find("partial line"), std::string::npos) << ferry.log();
}

}  // namespace ferry::test
