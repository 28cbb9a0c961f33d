// Keeps the last lines one component logs, for tests that wait for a log line; the
// sink is removed again at scope exit. Attach before starting what logs: a logger's
// sink list is not safe to change while another thread logs.
#pragma once

#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>
#include <memory>
#include <string>

#include "common/logging.hpp"

namespace ferry::test {

class LogCapture {
 public:
  explicit LogCapture(const std::string& component)
      : logger_(logging::get(component)),
        lines_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)) {
    logger_->sinks().push_back(lines_);
  }
  ~LogCapture() { std::erase(logger_->sinks(), lines_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  bool contains(const std::string& text) const {
    auto lines = lines_->last_formatted();
    return std::ranges::any_of(
        lines, [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> lines_;
};

}  // namespace ferry::test
