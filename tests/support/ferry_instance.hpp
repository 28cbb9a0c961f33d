// A ferry process under test: a worker file pointing at the test broker, a state dir
// and a connectors dir inside a temp dir, and helpers to start, signal and stop it.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

class FerryInstance {
 public:
  // `extra_worker` is appended to the generated worker file (e.g. more [kafka] keys).
  explicit FerryInstance(const TempDir& dir, const std::string& extra_worker = "",
                         bool real_broker = true)
      : dir_(dir) {
    std::filesystem::create_directories(dir_ / "connectors.d");
    std::string worker =
        "[host]\nstate_dir = \"state\"\nconnectors_dir = \"connectors.d\"\n"
        "offset_flush_interval = \"100ms\"\nshutdown_timeout = \"20s\"\n"
        "plugin_path = [\"" +
        test_plugin_dir() +
        "\"]\n"
        // Any free port: several instances run at once; ferry writes the one it got to
        // state/rest.address.
        "[rest]\nlisten = \"127.0.0.1:0\"\n";
    if (real_broker) worker += "[kafka]\n\"bootstrap.servers\" = \"" + test_bootstrap() + "\"\n";
    worker += extra_worker;
    worker_ = dir_.write("ferry.toml", worker);
  }

  std::filesystem::path add_connector(const std::string& name, const std::string& toml) {
    return dir_.write("connectors.d/" + name + ".toml", toml);
  }

  // `prefix` runs ferry through another command (e.g. setpriv to drop privileges);
  // `binary` replaces the ferry under test (e.g. an installed copy).
  void start(std::vector<std::string> prefix = {}, const std::string& binary = "") {
    ++runs_;
    prefix.insert(prefix.end(),
                  {binary.empty() ? ferry_binary() : binary, "run", "-c", worker_.string()});
    proc_ = std::make_unique<Process>(std::move(prefix),
                                      dir_ / ("ferry-" + std::to_string(runs_) + ".log"), env_);
  }
  // SIGTERM and wait; returns the exit code (-1 when it did not exit in time).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    if (!proc_) return -1;
    proc_->signal(SIGTERM);
    int rc = proc_->wait(timeout);
    return rc;
  }
  void kill9() {
    proc_->signal(SIGKILL);
    proc_->wait(std::chrono::seconds(10));
  }
  void signal(int sig) {
    if (proc_) proc_->signal(sig);
  }
  bool running() { return proc_ && proc_->running(); }
  // Waits for the process to exit by itself; its exit code, or -1 after `timeout`.
  int wait(std::chrono::milliseconds timeout) { return proc_ ? proc_->wait(timeout) : -1; }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  // Extra environment for the next start().
  void set_env(const std::string& name, const std::string& value) { env_[name] = value; }
  std::string log() const { return proc_ ? proc_->log() : ""; }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  // "127.0.0.1:PORT" of the REST API once it listens, else empty.
  std::string rest_address() const {
    std::ifstream in(dir_ / "state/rest.address");
    std::string a;
    std::getline(in, a);
    return a;
  }
  const std::filesystem::path& worker_file() const { return worker_; }

 private:
  const TempDir& dir_;
  std::filesystem::path worker_;
  std::unique_ptr<Process> proc_;
  std::map<std::string, std::string> env_;
  int runs_ = 0;
};

}  // namespace ferry::test
