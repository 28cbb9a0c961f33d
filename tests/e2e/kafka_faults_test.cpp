// The broker dies (SIGKILL, restarted on the same data) and hangs (SIGSTOP) while a file
// flows into Kafka and from Kafka into a file at a steady rate: nothing is lost, the
// status says what is going on meanwhile, memory stays bounded (backpressure, not
// buffering), and everything flows again afterwards.
//
// CI runs 2 kills and a 10 s pause; scripts/kafka-faults.sh runs the 10
// kills and 60 s pause (FERRY_CHAOS_KILLS, FERRY_CHAOS_PAUSE_S, FERRY_CHAOS_RATE).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/env_int.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
constexpr size_t kLineBytes = 200;

std::string line(uint64_t id) {
  char head[16];
  std::snprintf(head, sizeof head, "%010llu ", static_cast<unsigned long long>(id));
  std::string s(head);
  s.resize(kLineBytes - 1, static_cast<char>('a' + id % 26));
  return s + '\n';
}

// A broker of this test's own (scripts/kafka.sh), so that killing it disturbs no other
// test; kcat and the helpers talk to it while it lives.
class PrivateBroker {
 public:
  explicit PrivateBroker(const std::filesystem::path& dir)
      : dir_(dir), script_(source_dir() + "/scripts/kafka.sh") {
    auto r = run_command({script_, "start", dir_.string()});
    if (r.exit_code != 0) throw std::runtime_error("kafka.sh start: " + r.err);
    bootstrap_ = read_line_file(dir_ / "bootstrap");
    if (const char* old = std::getenv("FERRY_TEST_BOOTSTRAP")) saved_ = old;
    ::setenv("FERRY_TEST_BOOTSTRAP", bootstrap_.c_str(), 1);
  }
  ~PrivateBroker() {
    if (saved_)
      ::setenv("FERRY_TEST_BOOTSTRAP", saved_->c_str(), 1);
    else
      ::unsetenv("FERRY_TEST_BOOTSTRAP");
    (void)run_command({script_, "stop", dir_.string()});
  }
  bool act(const std::string& verb) {
    return run_command({script_, verb, dir_.string()}).exit_code == 0;
  }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::filesystem::path dir_;
  std::string script_;
  std::string bootstrap_;
  std::optional<std::string> saved_;
};

long rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string l; std::getline(in, l);)
    if (l.rfind("VmRSS:", 0) == 0) return std::stol(l.substr(6)) / 1024;
  return -1;
}

// Line ids in a file written by the sink (or any file of lines).
std::vector<uint64_t> ids_in(const std::filesystem::path& p) {
  std::vector<uint64_t> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);) out.push_back(std::stoull(l.substr(0, 10)));
  return out;
}

struct Tally {
  uint64_t lost = 0, duplicated = 0;
};
Tally tally(const std::vector<uint64_t>& ids, uint64_t total) {
  std::vector<uint32_t> n(total + 1, 0);
  for (uint64_t id : ids)
    if (id >= 1 && id <= total) ++n[id];
  Tally t;
  for (uint64_t id = 1; id <= total; ++id) {
    if (n[id] == 0) ++t.lost;
    if (n[id] > 1) t.duplicated += n[id] - 1;
  }
  return t;
}

}  // namespace

TEST(KafkaFaults, BrokerKilledAndPausedUnderLoadLosesNothingAndSaysWhatIsGoingOn) {
  const int kills = env_int("FERRY_CHAOS_KILLS", 2);
  const int pause_s = env_int("FERRY_CHAOS_PAUSE_S", 10);
  const int rate = env_int("FERRY_CHAOS_RATE", 5000);  // lines per second, 200 B each
  const int burst_lines = 250'000;                     // 50 MB, appended during the pause
  TempDir dir;
  PrivateBroker broker(dir / "kafka");
  std::string topic = unique_topic("chaos");
  create_topic(topic, 1);
  auto input = dir / "in/app.log";
  std::filesystem::create_directories(input.parent_path());
  { std::ofstream touch(input); }
  FerryInstance ferry(dir, "[kafka]\n\"bootstrap.servers\" = \"" + broker.bootstrap() + "\"\n",
                      /*real_broker=*/false);
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\nmax_in_flight_bytes = \"4MiB\"\n[config]\npaths = [\"" +
                                 input.string() + "\"]\nscan_interval = \"100ms\"\n");
  ferry.add_connector("sink", "plugin = \"file-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\npath = \"" + (dir / "out/copy.log").string() +
                                  "\"\n[kafka]\n\"statistics.interval.ms\" = \"1000\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
  RestClient rest(ferry.rest_address());

  // The application: `rate` lines a second, in 10 ms slices, until told to stop.
  std::atomic<bool> writing{true}, burst{false};
  std::atomic<uint64_t> written{0};
  std::thread writer([&] {
    std::ofstream out(input, std::ios::app);
    auto next = std::chrono::steady_clock::now();
    while (writing.load()) {
      std::string chunk;
      int n = burst.exchange(false) ? burst_lines : rate / 100;
      for (int i = 0; i < n; ++i) chunk += line(++written);
      out << chunk << std::flush;
      next += 10ms;
      std::this_thread::sleep_until(next);
    }
  });
  std::mt19937 rng(22);
  auto outage = [&](int lo_ms, int hi_ms) {  // the fault's length, not a wait for an outcome
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(lo_ms, hi_ms)(rng)));
  };

  for (int k = 0; k < kills; ++k) {
    outage(1000, 4000);
    ASSERT_TRUE(broker.act("kill"));
    outage(500, 3000);
    ASSERT_TRUE(broker.act("restart")) << "broker did not come back";
  }

  // Down for longer: a consumer gets no error of its own then, yet the sink's status
  // must say why nothing arrives.
  ASSERT_TRUE(broker.act("kill"));
  std::string sink_said;
  bool sink_told = wait_until(
      [&] {
        auto status = rest.get("/connectors/sink/status");
        if (status.status == 200 && status.body["tasks"][0].contains("trace"))
          sink_said = status.body["tasks"][0]["trace"].get<std::string>();
        return sink_said.find("waiting for Kafka: ") != std::string::npos;
      },
      30s, 250ms);
  ASSERT_TRUE(broker.act("restart")) << "broker did not come back";
  EXPECT_TRUE(sink_told) << "sink status while the broker was down: \"" << sink_said << "\"";

  // A hung broker: connections stay open and nothing answers.
  long rss_before = rss_mib(ferry.pid());
  long rss_peak = rss_before;
  ASSERT_TRUE(broker.act("pause"));
  burst = true;
  auto paused_at = std::chrono::steady_clock::now();
  std::string said;
  while (std::chrono::steady_clock::now() - paused_at < std::chrono::seconds(pause_s)) {
    rss_peak = std::max(rss_peak, rss_mib(ferry.pid()));
    auto status = rest.get("/connectors/src/status");
    if (status.status == 200 && status.body["tasks"][0].contains("trace"))
      said = status.body["tasks"][0]["trace"].get<std::string>();
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(broker.act("resume"));
  writing = false;
  writer.join();
  const uint64_t total = written.load();
  auto resumed_at = std::chrono::steady_clock::now();

  EXPECT_NE(said.find("waiting for Kafka: nothing acknowledged for"), std::string::npos)
      << "status during the pause: \"" << said << "\"";
  // Backpressure: the source stops reading while 4 MiB are in flight. During the pause
  // more than 50 MB were appended that ferry must not buffer.
  EXPECT_LT(rss_peak - rss_before, 32) << "RSS " << rss_before << " -> " << rss_peak << " MiB";

  auto sink_out = dir / "out/copy.log";
  ASSERT_TRUE(wait_until(
      [&] {
        return std::filesystem::exists(sink_out) &&
               std::filesystem::file_size(sink_out) >= total * kLineBytes;
      },
      300s))
      << "the sink has "
      << (std::filesystem::exists(sink_out) ? std::filesystem::file_size(sink_out) : 0) << " of "
      << total * kLineBytes << " bytes\n"
      << ferry.log();
  // Nothing is stuck: the statuses are clear again.
  for (const char* c : {"src", "sink"})
    EXPECT_TRUE(wait_until(
        [&] {
          auto s = rest.get(std::string("/connectors/") + c + "/status");
          return s.status == 200 && !s.body["tasks"][0].contains("trace");
        },
        30s))
        << c << ": " << rest.get(std::string("/connectors/") + c + "/status").text;
  auto caught_up_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - resumed_at)
                         .count();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  if (const char* keep = std::getenv("FERRY_CHAOS_KEEP"); keep && *keep)
    std::ofstream(keep) << ferry.log();

  std::vector<uint64_t> in_kafka;
  for (const auto& m : kcat_consume(topic, end_offset(topic)))
    in_kafka.push_back(std::stoull(m.value->substr(0, 10)));
  Tally kafka = tally(in_kafka, total), file = tally(ids_in(sink_out), total);
  std::cout << "kafka faults: kills=" << kills << " pause_s=" << pause_s << " lines=" << total
            << " bytes=" << total * kLineBytes << " kafka_lost=" << kafka.lost
            << " kafka_duplicated=" << kafka.duplicated << " sink_lost=" << file.lost
            << " sink_duplicated=" << file.duplicated << " rss_before_pause_mib=" << rss_before
            << " rss_peak_in_pause_mib=" << rss_peak << " caught_up_after_resume_s=" << caught_up_s
            << "\n";
  EXPECT_EQ(kafka.lost, 0u);
  EXPECT_EQ(file.lost, 0u);
}

}  // namespace ferry::test
