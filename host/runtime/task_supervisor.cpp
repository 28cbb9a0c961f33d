#include "runtime/task_supervisor.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "runtime/sink_runner.hpp"
#include "runtime/source_runner.hpp"

namespace ferry::runtime {

const char* task_state_name(TaskState s) {
  switch (s) {
    case TaskState::kStarting:
      return "UNASSIGNED";
    case TaskState::kRunning:
      return "RUNNING";
    case TaskState::kFailed:
      return "FAILED";
    case TaskState::kStopped:
      return "STOPPED";
  }
  return "UNKNOWN";
}

TaskSupervisor::TaskSupervisor(TaskEnvironment env) : env_(std::move(env)) {
  env_.retry_note = &retry_note_;
}

TaskSupervisor::~TaskSupervisor() {
  request_stop();
  join();
}

void TaskSupervisor::start() {
  thread_ = std::thread([this] { loop(); });
}

void TaskSupervisor::request_stop() {
  stop_ = true;
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void TaskSupervisor::join() {
  if (thread_.joinable()) thread_.join();
}

TaskState TaskSupervisor::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::string TaskSupervisor::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void TaskSupervisor::set_state(TaskState s, std::string error) {
  std::lock_guard lock(mu_);
  state_ = s;
  if (!error.empty()) last_error_ = std::move(error);
}

bool TaskSupervisor::wait_backoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
  return !stop_.load();
}

void TaskSupervisor::loop() {
  auto backoff = std::chrono::milliseconds(1000);
  int64_t failures_in_a_row = 0;
  const auto max_backoff = std::chrono::milliseconds(60'000);
  while (!stop_) {
    set_state(TaskState::kRunning);
    auto started = std::chrono::steady_clock::now();
    Status result;
    // An exception out of a runner (unreadable saved state, out of memory) fails this
    // task, which restarts with backoff; it must not end the process and every other
    // connector with it.
    try {
      if (env_.connector->descriptor->kind == FERRY_KIND_SOURCE) {
        SourceRunner runner(env_);
        result = runner.run(stop_);
      } else {
        SinkRunner runner(env_);
        result = runner.run(stop_);
      }
    } catch (const std::exception& e) {
      result = Status::Fatal(std::string("task stopped by an unexpected error: ") + e.what());
    }
    if (result.ok() && stop_) break;
    set_state(TaskState::kFailed, result.message());
    env_.metrics->add("task_failures", env_.connector->name, env_.task_id, 1);
    // A task that ran fine for a while before failing starts over with a short delay.
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(5)) {
      backoff = std::chrono::milliseconds(1000);
      failures_in_a_row = 0;
    }
    const int64_t limit = env_.connector->errors.integer("max_restarts");
    if (limit > 0 && ++failures_in_a_row > limit) {
      env_.log->error(
          "task failed: {}; not restarting it: it failed {} times in a row ([errors] "
          "max_restarts = {}). Fix the cause, then POST /connectors/{}/tasks/{}/restart",
          result.message(), failures_in_a_row, limit, env_.connector->name, env_.task_id);
      set_state(TaskState::kFailed,
                fmt::format("{} (gave up after {} restarts)", result.message(), limit));
      return;  // stays FAILED until restarted on request
    }
    auto delay = result.code() == FERRY_CONFIG
                     ? std::max(backoff, std::chrono::milliseconds(10'000))
                     : backoff;
    env_.log->error("task failed: {}; restarting in {} s", result.message(),
                    static_cast<double>(delay.count()) / 1000.0);
    if (!wait_backoff(delay)) break;
    restarts_++;
    env_.metrics->add("task_restarts", env_.connector->name, env_.task_id, 1);
    backoff = std::min(backoff * 2, max_backoff);
  }
  set_state(TaskState::kStopped);
}

}  // namespace ferry::runtime
