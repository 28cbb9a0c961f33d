// Bounded polling: tests wait for outcomes, never for fixed amounts of time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace ferry::test {

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds every = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace ferry::test
