// systemd's notify protocol for ferry: READY, RELOADING, STOPPING, STATUS lines for
// `systemctl status`, and WATCHDOG pings when the unit sets WatchdogSec. Every call
// is a no-op unless systemd started ferry with NOTIFY_SOCKET.
//
// The pings come from a thread of their own, but only while the main loop keeps
// beating (or ferry is draining on its way out), so a worker stuck in a reload gets
// restarted by systemd instead of being reported alive.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace ferry::service {

class ServiceNotifier {
 public:
  ServiceNotifier();
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  void ready(const std::string& status);
  void reloading();
  void stopping(const std::string& status);
  void status(const std::string& status);
  // The main loop is alive; call at least every watchdog interval / 2.
  void beat();

  // Half the watchdog interval, or zero when systemd set no watchdog.
  std::chrono::microseconds ping_interval() const { return interval_; }

 private:
  void ping_loop();

  std::chrono::microseconds interval_{0};
  std::atomic<int64_t> last_beat_us_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace ferry::service
