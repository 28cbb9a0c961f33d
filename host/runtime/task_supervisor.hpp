// Runs one task on a thread of its own and restarts it with exponential backoff when
// it fails (Kafka Connect leaves a failed task dead; ferry does not).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/task_environment.hpp"

namespace ferry::runtime {

enum class TaskState { kStarting, kRunning, kFailed, kStopped };
const char* task_state_name(TaskState s);

class TaskSupervisor {
 public:
  explicit TaskSupervisor(TaskEnvironment env);
  ~TaskSupervisor();
  TaskSupervisor(const TaskSupervisor&) = delete;
  TaskSupervisor& operator=(const TaskSupervisor&) = delete;

  void start();
  void request_stop();
  void join();

  TaskState state() const;
  std::string last_error() const;
  int restarts() const { return restarts_.load(); }
  // The error the running task is retrying, or empty.
  std::string retrying() const { return retry_note_.get(); }

 private:
  void loop();
  bool wait_backoff(std::chrono::milliseconds d);  // false when stopping
  void set_state(TaskState s, std::string error = {});

  TaskEnvironment env_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> restarts_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  TaskState state_ = TaskState::kStarting;
  std::string last_error_;
  RetryNote retry_note_;
};

}  // namespace ferry::runtime
