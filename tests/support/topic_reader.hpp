// Reads one partition of a topic as it grows, for tests that must wait on what has
// arrived so far many times over (re-reading the topic with kcat each time would be
// quadratic). The final verdict of such tests still comes from kcat.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ferry::test {

class TopicReader {
 public:
  TopicReader(const std::string& topic, int32_t partition = 0);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Hands every message that arrived since the last call to `on_value` (offset, value);
  // returns how many there were. Waits at most `wait_ms` for the first one.
  size_t poll(const std::function<void(int64_t, std::string_view)>& on_value, int wait_ms = 100);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::test
