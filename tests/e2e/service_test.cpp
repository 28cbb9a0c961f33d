// Running ferry the way an operator does: under systemd's notify protocol, reloading
// connector files on SIGHUP, and installed with a plugin built out of tree.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;

// A datagram socket standing in for systemd's NOTIFY_SOCKET. Like systemd it reads
// all the time: a full socket queue would block ferry's sends.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("bind notify socket");
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!quit_) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        messages_.append(buf, size_t(n)).append("\n");
      }
    });
  }
  ~FakeNotifySocket() {
    quit_ = true;
    reader_.join();
    ::close(fd_);
  }
  // Everything received so far, messages separated by newlines.
  std::string received() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  std::filesystem::path path_;
  int fd_;
  std::atomic<bool> quit_{false};
  std::mutex mu_;
  std::string messages_;
  std::thread reader_;
};

std::string source(const std::string& topic, const std::filesystem::path& glob) {
  return "plugin = \"file-source\"\ntopic = \"" + topic + "\"\n[config]\npaths = [\"" +
         glob.string() + "\"]\nscan_interval = \"100ms\"\n";
}

}  // namespace

TEST(Service, TellsSystemdWhenReadyAndWhenStopping) {
  TempDir dir;
  FakeNotifySocket notify(dir / "notify.sock");
  auto worker =
      dir.write("ferry.toml", "[host]\nstate_dir = \"s\"\n[kafka]\n\"bootstrap.servers\" = \"" +
                                  test_bootstrap() + "\"\n");
  // As systemd sets them for WatchdogSec=400ms.
  Process ferry({ferry_binary(), "run", "-c", worker.string()}, dir / "log",
                {{"NOTIFY_SOCKET", (dir / "notify.sock").string()}, {"WATCHDOG_USEC", "400000"}});
  ASSERT_TRUE(
      wait_until([&] { return notify.received().find("READY=1") != std::string::npos; }, 30s))
      << ferry.log();
  EXPECT_NE(notify.received().find("STATUS=0 connector(s): 0 task(s) running"), std::string::npos)
      << notify.received();
  auto pings = [&] {
    size_t n = 0;
    std::string r = notify.received();
    for (size_t at = 0; (at = r.find("WATCHDOG=1", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return pings() >= 5; }, 30s)) << notify.received();
  // A reload is announced and followed by READY again.
  ferry.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        std::string r = notify.received();
        auto reloading = r.find("RELOADING=1");
        return reloading != std::string::npos && r.find("READY=1", reloading) != std::string::npos;
      },
      30s))
      << notify.received();
  ferry.signal(SIGTERM);
  EXPECT_EQ(ferry.wait(30s), 0) << ferry.log();
  EXPECT_NE(notify.received().find("STOPPING=1"), std::string::npos) << notify.received();
}

TEST(Service, SigtermFinishesWhileADeadMemberHoldsUpTheSpanGroup) {
  TempDir dir_a, dir_b;
  std::string spans = "[spans]\ntopic = \"" + unique_topic("held-up-spans") + "\"\n";
  FerryInstance a(dir_a, spans), b(dir_b, spans);
  a.start();
  ASSERT_TRUE(
      wait_until([&] { return a.log().find("tracking completion for") != std::string::npos; }, 60s))
      << a.log();
  // A dies without leaving the span tracker's group: until its session times out
  // (45 s), the group cannot rebalance and b's join hangs.
  a.kill9();
  b.start();
  ASSERT_TRUE(wait_until([&] { return !b.rest_address().empty(); }, 30s)) << b.log();
  EXPECT_EQ(b.stop(std::chrono::seconds(30)), 0) << b.log();
}

// configs/ferry.service in `dir`, naming the ferry under test instead of the packaged
// /usr/bin/ferry (systemd-analyze checks that it is executable).
static std::filesystem::path unit_under_test(const TempDir& dir) {
  std::string unit = read_file(source_dir() + "/configs/ferry.service");
  for (size_t at; (at = unit.find("/usr/bin/ferry")) != std::string::npos;)
    unit.replace(at, std::string("/usr/bin/ferry").size(), ferry_binary());
  return dir.write("ferry.service", unit);
}

TEST(Service, UnitFilePassesSystemdAnalyzeVerify) {
  TempDir dir;
  auto path = unit_under_test(dir);
  auto r = run_command({"systemd-analyze", "verify", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Unknown or misspelt directives are only warnings: none is allowed.
  EXPECT_EQ(r.err, "") << r.err;
  EXPECT_EQ(r.out, "") << r.out;
}

TEST(Service, UnitFileExposureIsAtMostTwoInSystemdAnalyzeSecurity) {
  TempDir dir;
  auto path = unit_under_test(dir);
  // --threshold counts in tenths: 20 is an exposure of 2.0.
  auto r = run_command(
      {"systemd-analyze", "security", "--offline=true", "--threshold=20", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SystemCallFilter="), std::string::npos) << r.out;
}

TEST(Service, SighupStartsChangesAndStopsOnlyTheAffectedConnectors) {
  TempDir dir;
  std::string a = unique_topic("reload-a"), b = unique_topic("reload-b");
  dir.write("in/a.log", "a1\n");
  dir.write("in/b.log", "b1\n");
  FerryInstance ferry(dir);
  ferry.add_connector("a", source(a, dir / "in/a.log"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(a) >= 1; }, 60s)) << ferry.log();

  // Added file: its connector starts; the running one is left alone.
  ferry.add_connector("b", source(b, dir / "in/b.log"));
  ferry.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return end_offset(b) >= 1; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.log().find("stopping connector a"), std::string::npos) << ferry.log();

  // Invalid file: rejected with its error, the old version keeps running.
  ferry.add_connector("b",
                      "plugin = \"file-source\"\ntopic = \"" + b + "\"\n[config]\npathz = 1\n");
  ferry.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("unknown key \"pathz\"") != std::string::npos; }, 30s))
      << ferry.log();
  {
    std::ofstream out(dir / "in/b.log", std::ios::app);
    out << "b2\n";
  }
  ASSERT_TRUE(wait_until([&] { return end_offset(b) >= 2; }, 60s)) << ferry.log();

  // Removed file: its connector stops with offsets committed; a restart resends nothing.
  std::filesystem::remove(dir / "connectors.d/b.toml");
  ferry.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("stopping connector b") != std::string::npos; }, 30s))
      << ferry.log();
  EXPECT_EQ(ferry.log().find("stopping connector a"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(kcat_consume(a).size(), 1u);
  EXPECT_EQ(kcat_consume(b).size(), 2u);
}

TEST(Install, InstalledFerryFindsBundledPluginsAndLoadsAnOutOfTreePlugin) {
  TempDir dir;
  auto prefix = dir / "prefix";
  auto inst =
      run_command({"cmake", "--install", FERRY_TEST_BUILD_DIR, "--prefix", prefix.string()});
  ASSERT_EQ(inst.exit_code, 0) << inst.out << inst.err;
  ASSERT_TRUE(std::filesystem::exists(prefix / "bin/ferry"));
  ASSERT_TRUE(std::filesystem::exists(prefix / "lib/ferry/plugins/libferry_file.so"));
  ASSERT_TRUE(std::filesystem::exists(prefix / "include/ferry/sdk.hpp"));
  ASSERT_TRUE(std::filesystem::exists(prefix / "etc/ferry/ferry.toml"));

  // The example plugin, built against the installed SDK headers only.
  auto build = dir / "example-build";
  auto conf = run_command({"cmake", "-S", source_dir() + "/sdk/examples/sequence-source", "-B",
                           build.string(), "-DFERRY_SDK_DIR=" + (prefix / "include").string()});
  ASSERT_EQ(conf.exit_code, 0) << conf.out << conf.err;
  auto make = run_command({"cmake", "--build", build.string()});
  ASSERT_EQ(make.exit_code, 0) << make.out << make.err;

  std::string topic = unique_topic("sequence");
  auto worker = dir.write(
      "ferry.toml", "[host]\nstate_dir = \"state\"\nplugin_path = [\"" + build.string() +
                        "\"]\n[kafka]\n\"bootstrap.servers\" = \"" + test_bootstrap() + "\"\n");
  auto listing =
      run_command({(prefix / "bin/ferry").string(), "plugins", "--json", "-c", worker.string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  auto j = nlohmann::json::parse(listing.out);
  std::map<std::string, std::string> modules;
  for (const auto& p : j) modules[p["name"]] = p["module"];
  EXPECT_EQ(modules["file-source"], (prefix / "lib/ferry/plugins/libferry_file.so").string());
  EXPECT_EQ(modules["sequence-source"], (build / "libferry_sequence.so").string());

  auto connector = dir.write("seq.toml", "plugin = \"sequence-source\"\ntopic = \"" + topic +
                                             "\"\n[config]\ncount = 25\n");
  Process ferry({(prefix / "bin/ferry").string(), "run", "-c", worker.string(), connector.string()},
                dir / "ferry.log");
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 25; }, 60s)) << ferry.log();
  ferry.signal(SIGTERM);
  EXPECT_EQ(ferry.wait(30s), 0) << ferry.log();
  auto msgs = kcat_consume(topic);
  ASSERT_EQ(msgs.size(), 25u);
  EXPECT_EQ(msgs.front().value, "message 1");
  EXPECT_EQ(msgs.back().value, "message 25");
}

}  // namespace ferry::test
