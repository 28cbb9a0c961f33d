#include "service/service_notifier.hpp"

#include <systemd/sd-daemon.h>

namespace ferry::service {
namespace {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is us).
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    interval_ = std::chrono::microseconds(usec / 2);
    beat();
    thread_ = std::thread([this] { ping_loop(); });
  }
}

ServiceNotifier::~ServiceNotifier() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServiceNotifier::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading connector files");
}

void ServiceNotifier::stopping(const std::string& status) {
  stopping_ = true;  // draining may outlast the watchdog interval: keep pinging
  sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::status(const std::string& status) {
  sd_notifyf(0, "STATUS=%s", status.c_str());
}

void ServiceNotifier::beat() {
  last_beat_us_ = now_us();
}

void ServiceNotifier::ping_loop() {
  std::unique_lock lock(mu_);
  while (!quit_) {
    bool alive = stopping_ || now_us() - last_beat_us_ < 2 * interval_.count();
    // Not under the lock: a send blocks while the notify socket's queue is full.
    lock.unlock();
    if (alive) sd_notify(0, "WATCHDOG=1");
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return quit_; });
  }
}

}  // namespace ferry::service
