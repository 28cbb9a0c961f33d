// Child processes for end-to-end tests: ferry itself, kcat, scripts. Output goes to
// files so a failing test can show it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ferry::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion (no shell), capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& stdin_file = "");

class Process {
 public:
  Process(std::vector<std::string> argv, std::filesystem::path log_file,
          std::map<std::string, std::string> env = {});
  ~Process();  // SIGKILLs a still-running child
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `timeout`; returns the exit code, 128+signal if killed, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::filesystem::path log_file_;
};

}  // namespace ferry::test
