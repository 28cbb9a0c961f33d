// Model-based rotation test: a seeded random sequence of what applications and logrotate
// do to log files (appends of any length, rename rotation with shifting and deletion of
// the oldest, copytruncate, truncation in place, delete and recreate, an application
// that keeps writing to the renamed file for a while, empty and one-line files, pauses,
// bursts, and SIGKILL of ferry) against one tail-mode file-source. The model knows every
// line written; the topic must hold each exactly once, except lines the source had not
// yet checkpointed when ferry was killed.
//
// scripts/torture.sh runs the same test with thousands of steps (FERRY_TORTURE_STEPS,
// FERRY_TORTURE_SEED).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "file_identity.hpp"
#include "support/env_int.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/topic_reader.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kKeep = 3;              // rotated files kept: app.log.1 .. app.log.3
constexpr int kRotateWaitMs = 500;    // the connector's rotate_wait in these runs
constexpr size_t kReadBuffer = 4096;  // and its read_buffer: some lines are longer

// Line `id`: its number, a space and `len` letters that depend on both.
std::string line_text(uint64_t id, size_t len) {
  std::string line = std::to_string(id) + " ";
  for (size_t j = 0; j < len; ++j) line += static_cast<char>('a' + (id + j) % 26);
  return line;
}

// The number a line starts with, or 0 when the value is no line the model wrote.
uint64_t line_id(std::string_view v) {
  uint64_t id = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  return ec == std::errc() && p != v.data() + v.size() && *p == ' ' ? id : 0;
}

struct Inode {
  dev_t dev = 0;
  ino_t ino = 0;
  auto operator<=>(const Inode&) const = default;
};

std::optional<Inode> inode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return Inode{st.st_dev, st.st_ino};
}

struct Settings {
  int steps = 300;
  uint64_t seed = 1;
  bool glob_rotated = true;  // paths match app.log.N too, or only app.log
  bool kills = false;
};

// One stream of content: what was written into one file since it was created or
// truncated. A copy of a file carries the same stream.
struct Stream {
  std::string head;  // its first bytes, to recognise it in ferry's checkpoints
  uint64_t size = 0;
  std::vector<std::pair<uint64_t, uint64_t>> lines;  // (line id, end offset)
};

class RotationModel {
 public:
  RotationModel(const TempDir& dir, Settings s)
      : dir_(dir),
        s_(s),
        logs_(dir / "logs"),
        rng_(s.seed),
        topic_(unique_topic("rotation")),
        ferry_(dir) {
    fs::create_directories(logs_);
    std::string glob = (logs_ / (s.glob_rotated ? "app.log*" : "app.log")).string();
    ferry_.add_connector("tail", "plugin = \"file-source\"\ntopic = \"" + topic_ +
                                     "\"\n[config]\npaths = [\"" + glob +
                                     "\"]\nscan_interval = \"100ms\"\nrotate_wait = \"" +
                                     std::to_string(kRotateWaitMs) +
                                     "ms\"\nread_buffer = " + std::to_string(kReadBuffer) + "\n");
    create_topic(topic_, 1);
    reader_ = std::make_unique<TopicReader>(topic_);
  }

  ~RotationModel() {
    if (wfd_ >= 0) ::close(wfd_);
  }

  std::string run() {
    ferry_.start();
    reopen();
    std::string problems;
    for (step_ = 0; step_ < s_.steps && problems.empty(); ++step_) {
      problems = one_step();
      if (reopen_in_ > 0 && --reopen_in_ == 0) reopen();
    }
    if (!problems.empty())
      problems = "at step " + std::to_string(step_ - 1) + ": " + problems + "\n";
    if (!ferry_.running()) start_again();
    // After a failed step this still tells how many lines are missing or doubled.
    if (!wait_delivered(problems.empty() ? 180s : 20s))
      problems += "not every line arrived in the end\n";
    if (int rc = ferry_.stop(); rc != 0)
      problems += "ferry exited with " + std::to_string(rc) + "\n";
    return problems + verdict();
  }

  std::string summary() const {
    std::ostringstream o;
    o << "seed=" << s_.seed << " steps=" << s_.steps << " lines=" << next_id_ - 1
      << " bytes=" << bytes_ << " glob=" << (s_.glob_rotated ? "app.log*" : "app.log")
      << " kills=" << kills_.size();
    for (const auto& [op, n] : ops_) o << " " << op << "=" << n;
    o << " inode_reuse=" << inode_reuse_ << " lost=" << lost_ << " duplicated=" << duplicated_
      << " duplicated_allowed=" << allowed_duplicates_;
    return o.str();
  }
  const std::string& log() const { return log_; }
  std::string ferry_log() const { return ferry_.log(); }

 private:
  fs::path path(int n) const {
    return n == 0 ? logs_ / "app.log" : logs_ / ("app.log." + std::to_string(n));
  }
  int rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  void note(const std::string& what, const std::string& detail = "") {
    ops_[what]++;
    log_ += std::to_string(step_) + " " + what + (detail.empty() ? "" : " " + detail) + "\n";
  }

  std::string one_step() {
    int r = rand(0, 99);
    bool running = ferry_.running();
    // With only app.log watched, a renamed file is read until it is idle for
    // rotate_wait: the application's late writes come in quick succession (appends),
    // and it reopens before anything that may wait.
    if (!s_.glob_rotated && r >= 48 && reopen_in_ > 0) reopen();
    if (s_.kills && running && r < 4) return kill();
    if (r < 48) return append(rand(0, 9) == 0 ? rand(200, 1500) : rand(1, 20));
    if (r < 60) return rotate(rand(0, 1) == 0, rand(0, 1) == 0 ? rand(1, 4) : 0);
    if (r < 68) return copytruncate();
    if (r < 71) return truncate_in_place();
    if (r < 75) return delete_and_recreate();
    if (r < 80) {
      // A one-line file, rotated at once.
      if (std::string e = append(1); !e.empty()) return e;
      return rotate(true, 0);
    }
    // Pauses; a few longer than rotate_wait.
    note("pause");
    std::this_thread::sleep_for(std::chrono::milliseconds(
        rand(0, 9) == 0 ? rand(kRotateWaitMs + 200, 3 * kRotateWaitMs) : rand(0, 150)));
    return "";
  }

  // The application (re)opens app.log, creating it if it is not there.
  void reopen() {
    if (wfd_ >= 0) ::close(wfd_);
    bool existed = fs::exists(path(0));
    wfd_ = ::open(path(0).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (!existed) new_stream(path(0));
    reopen_in_ = 0;
  }

  int new_stream(const fs::path& p) { return new_stream_for(*inode_of(p)); }

  std::string append(int n) {
    if (wfd_ < 0) reopen();
    struct stat st {};
    ::fstat(wfd_, &st);
    Stream& s = streams_[stream_of_.at(Inode{st.st_dev, st.st_ino})];
    std::string text;
    for (int i = 0; i < n; ++i) {
      uint64_t id = next_id_++;
      size_t len = rand(0, 49) == 0 ? static_cast<size_t>(rand(kReadBuffer, 5 * kReadBuffer))
                                    : static_cast<size_t>(rand(0, 200));
      std::string line = line_text(id, len) + '\n';
      length_[id] = len;
      text += line;
      s.lines.emplace_back(id, s.size + text.size());
    }
    if (s.head.size() < 4096) s.head += text.substr(0, 4096 - s.head.size());
    s.size += text.size();
    bytes_ += text.size();
    // One write: a reader sees whole lines or a line's beginning, never a gap.
    if (::write(wfd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return "write failed";
    note(n == 1     ? "append1"
         : n >= 200 ? "burst"
                    : "append",
         std::to_string(next_id_ - n) + "-" + std::to_string(next_id_ - 1) + " to inode " +
             std::to_string(st.st_ino));
    return "";
  }

  // logrotate's default: shift app.log.N up, delete the oldest, rename app.log to
  // app.log.1, optionally create an empty app.log, and the application reopens now or
  // after `delay` more steps (writing to the renamed file until then).
  std::string rotate(bool create, int delay) {
    if (std::string e = shift(); !e.empty()) return e;
    if (fs::exists(path(0))) {
      // With only app.log watched, what ferry never opened is out of its reach.
      if (!s_.glob_rotated && !wait_held(path(0))) return "ferry did not open app.log";
      fs::rename(path(0), path(1));
    }
    if (create) {
      int fd = ::open(path(0).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::close(fd);
        new_stream(path(0));
      }
    }
    if (delay > 0) {
      reopen_in_ = delay;
      note(create ? "rotate_create_delayed" : "rotate_delayed");
    } else {
      reopen();
      note(create ? "rotate_create" : "rotate");
    }
    return "";
  }

  // Makes room for a new app.log.1: app.log.N becomes app.log.N+1, and the files past
  // kKeep are deleted (when the rules below allow it; else the chain grows by one).
  std::string shift() {
    int last = 0;
    for (int n = 1; n <= 64; ++n)
      if (fs::exists(path(n))) last = n;
    for (int n = last; n >= 1; --n) {
      if (!fs::exists(path(n))) continue;  // a gap: app.log was missing at a rotation
      if (n >= kKeep) {
        if (std::string e = prepare_delete(path(n)); e.empty()) {
          fs::remove(path(n));
          continue;
        } else if (e != "keep") {
          return e;
        }
      }
      fs::rename(path(n), path(n + 1));
    }
    return "";
  }

  // Deleting a file loses what nobody read. Without kills ferry must have it open (it
  // reads the rest through its descriptor); with kills, a kill could come before it
  // did, so the lines must already be in Kafka. "keep" means: do not delete now.
  std::string prepare_delete(const fs::path& p) {
    if (!ferry_.running()) return "keep";
    // The application reopens before its old file is deleted.
    struct stat w {};
    if (wfd_ >= 0 && ::fstat(wfd_, &w) == 0 && inode_of(p) == Inode{w.st_dev, w.st_ino}) reopen();
    if (s_.kills) return wait_delivered(60s) ? "" : "lines not delivered before a deletion";
    if (stream_done(p)) return "";
    return wait_held(p) ? "" : "ferry did not open " + p.filename().string();
  }

  std::string copytruncate() {
    if (!fs::exists(path(0))) return append(1);
    // With only app.log watched the copy is never read: what ferry has not read yet
    // would be lost by any tailer.
    if (!s_.glob_rotated && !wait_delivered(60s)) return "lines not delivered before copy";
    if (std::string e = shift(); !e.empty()) return e;
    auto from = *inode_of(path(0));
    int stream = stream_of_.at(from);
    fs::copy_file(path(0), path(1));
    stream_of_[*inode_of(path(1))] = stream;
    if (::truncate(path(0).c_str(), 0) != 0) return "truncate failed";
    new_stream_for(from);
    note("copytruncate");
    return "";
  }

  int new_stream_for(Inode in) {
    streams_.emplace_back();
    int id = static_cast<int>(streams_.size()) - 1;
    stream_of_[in] = id;
    return id;
  }

  // Truncation destroys unread lines: only done once all lines are in Kafka.
  std::string truncate_in_place() {
    if (!ferry_.running() || !fs::exists(path(0))) return append(1);
    if (!wait_delivered(60s)) return "lines not delivered before truncate";
    auto in = *inode_of(path(0));
    if (::truncate(path(0).c_str(), 0) != 0) return "truncate failed";
    new_stream_for(in);
    note("truncate");
    return "";
  }

  // app.log deleted and created again; waiting for ferry to let go of the old file lets
  // the filesystem hand its inode number to the new one.
  std::string delete_and_recreate() {
    if (!ferry_.running() || !fs::exists(path(0))) return append(1);
    if (std::string e = prepare_delete(path(0)); e == "keep") {
      return append(1);
    } else if (!e.empty()) {
      return e;
    }
    auto old = *inode_of(path(0));
    fs::remove(path(0));
    if (wfd_ >= 0) {
      ::close(wfd_);
      wfd_ = -1;
    }
    wait_until([&] { return !holds(old); }, std::chrono::milliseconds(4 * kRotateWaitMs));
    reopen();
    if (inode_of(path(0)) == old) ++inode_reuse_;
    note("delete_recreate");
    return "";
  }

  std::string kill() {
    ferry_.kill9();
    Kill k;
    k.checkpoint = checkpoints();
    note("kill");
    // What happens while ferry is down: appends, rotations, copytruncate.
    for (int i = rand(0, 3); i > 0; --i) {
      int r = rand(0, 2);
      std::string e = r == 0 ? append(rand(1, 50)) : r == 1 ? rotate(true, 0) : copytruncate();
      if (!e.empty()) return e;
    }
    k.end_offset = end_offset(topic_);
    kills_.push_back(std::move(k));
    start_again();
    return "";
  }

  void start_again() { ferry_.start(); }

  // Per stream, the byte position ferry had checkpointed (its offsets and state files
  // as the kill left them): lines ending at or before it were acknowledged.
  std::map<int, uint64_t> checkpoints() const {
    std::map<int, uint64_t> out;
    auto dir = ferry_.state_dir() / "connectors" / "tail";
    auto offsets = stored_state(dir / "offsets.json");
    auto state = stored_state(dir / "state.json");
    for (auto& [partition, v] : offsets) {
      if (!state.contains(partition)) continue;
      // ferry's own record of what the partition's content starts with.
      auto lineage = file::parse_lineage(partition, state.at(partition));
      if (!lineage || lineage->fp.len == 0) continue;
      uint64_t pos = std::stoull(v);
      for (size_t i = 0; i < streams_.size(); ++i) {
        if (lineage->fp.matches(streams_[i].head))
          out[static_cast<int>(i)] = std::max(out[static_cast<int>(i)], pos);
      }
    }
    return out;
  }

  bool holds(Inode in) const {
    pid_t pid = ferry_.pid();
    if (pid <= 0) return false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
      struct stat st {};
      if (::stat(e.path().c_str(), &st) == 0 && st.st_dev == in.dev && st.st_ino == in.ino)
        return true;
    }
    return false;
  }

  bool wait_held(const fs::path& p) {
    auto in = inode_of(p);
    if (!in) return true;
    return wait_until([&] { return holds(*in) || !ferry_.running(); }, 10s) && ferry_.running();
  }

  // Every line of the stream in file p is already in Kafka.
  bool stream_done(const fs::path& p) {
    auto in = inode_of(p);
    if (!in) return true;
    drain();
    for (const auto& [id, end] : streams_[stream_of_.at(*in)].lines)
      if (!seen_.contains(id)) return false;
    return true;
  }

  void drain() {
    reader_->poll(
        [&](int64_t, std::string_view v) {
          if (uint64_t id = line_id(v)) seen_.insert(id);
        },
        0);
  }

  bool wait_delivered(std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
          drain();
          return seen_.size() >= next_id_ - 1 && ferry_.running();
        },
        timeout, 20ms);
  }

  std::string verdict() {
    // Which stream and where each line ends, for the duplicate rule.
    std::map<uint64_t, std::pair<int, uint64_t>> where;
    for (size_t i = 0; i < streams_.size(); ++i)
      for (const auto& [id, end] : streams_[i].lines) where[id] = {static_cast<int>(i), end};
    std::map<uint64_t, std::vector<int64_t>> arrivals;
    std::string problems;
    int garbled = 0;
    for (const auto& m : kcat_consume(topic_, end_offset(topic_))) {
      const std::string v = m.value.value_or("");
      uint64_t id = line_id(v);
      auto len = length_.find(id);
      if (len == length_.end() || v != line_text(id, len->second)) {
        if (++garbled <= 5)
          problems += "offset " + std::to_string(m.offset) + " holds no line written: \"" +
                      v.substr(0, 60) + "\"\n";
        continue;
      }
      arrivals[id].push_back(m.offset);
    }
    for (uint64_t id = 1; id < next_id_; ++id) {
      auto it = arrivals.find(id);
      if (it == arrivals.end()) {
        if (++lost_ <= 10) problems += "line " + std::to_string(id) + " lost\n";
        continue;
      }
      for (size_t copy = 1; copy < it->second.size(); ++copy) {
        ++duplicated_;
        // Allowed only when some kill came after the first copy and before this one,
        // and at that kill the line was past its stream's checkpoint.
        bool allowed = false;
        auto [stream, end] = where[id];
        for (const auto& k : kills_) {
          auto c = k.checkpoint.find(stream);
          uint64_t pos = c == k.checkpoint.end() ? 0 : c->second;
          if (it->second[0] < k.end_offset && it->second[copy] >= k.end_offset && end > pos)
            allowed = true;
        }
        if (allowed) {
          ++allowed_duplicates_;
        } else if (duplicated_ - allowed_duplicates_ <= 10) {
          problems += "line " + std::to_string(id) + " arrived " +
                      std::to_string(it->second.size()) + " times (offsets " +
                      std::to_string(it->second[0]) + ", " + std::to_string(it->second[copy]) +
                      ")\n";
        }
      }
    }
    return problems;
  }

  struct Kill {
    std::map<int, uint64_t> checkpoint;
    int64_t end_offset = 0;
  };

  const TempDir& dir_;
  Settings s_;
  fs::path logs_;
  std::mt19937_64 rng_;
  std::string topic_;
  FerryInstance ferry_;
  std::unique_ptr<TopicReader> reader_;
  int wfd_ = -1;
  int reopen_in_ = 0;
  int step_ = 0;
  uint64_t next_id_ = 1;
  uint64_t bytes_ = 0;
  std::vector<Stream> streams_;
  std::map<Inode, int> stream_of_;
  std::set<uint64_t> seen_;
  std::map<uint64_t, size_t> length_;
  std::vector<Kill> kills_;
  std::map<std::string, int> ops_;
  int inode_reuse_ = 0;
  uint64_t lost_ = 0, duplicated_ = 0, allowed_duplicates_ = 0;
  std::string log_;
};

void run_model(Settings s) {
  s.steps = env_int("FERRY_TORTURE_STEPS", s.steps);
  if (const char* seed = std::getenv("FERRY_TORTURE_SEED"); seed && *seed)
    s.seed = std::strtoull(seed, nullptr, 10);
  TempDir dir;
  RotationModel model(dir, s);
  std::string problems = model.run();
  std::cout << "rotation model: " << model.summary() << "\n";
  // scripts/torture.sh keeps the whole story of a failed run.
  if (const char* keep = std::getenv("FERRY_TORTURE_KEEP"); keep && *keep && !problems.empty()) {
    fs::create_directories(keep);
    std::ofstream(fs::path(keep) / "steps.txt") << model.summary() << "\n"
                                                << problems << model.log();
    std::ofstream(fs::path(keep) / "ferry.log") << model.ferry_log();
  }
  EXPECT_EQ(problems, "") << model.summary() << "\nsteps:\n"
                          << model.log().substr(
                                 model.log().size() > 4000 ? model.log().size() - 4000 : 0)
                          << "\nferry log (tail):\n"
                          << model.ferry_log().substr(model.ferry_log().size() > 6000
                                                          ? model.ferry_log().size() - 6000
                                                          : 0);
}

}  // namespace

TEST(FileRotationModel, RotatedNamesWatchedNothingLostNothingDoubled) {
  run_model({.steps = 250, .seed = 2201, .glob_rotated = true, .kills = false});
}

TEST(FileRotationModel, OnlyTheLiveNameWatchedNothingLostNothingDoubled) {
  run_model({.steps = 150, .seed = 2202, .glob_rotated = false, .kills = false});
}

TEST(FileRotationModel, SigkillsDuplicateOnlyLinesNotYetCheckpointed) {
  run_model({.steps = 200, .seed = 2203, .glob_rotated = true, .kills = true});
}

}  // namespace ferry::test
