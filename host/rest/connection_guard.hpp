// Bounds what HTTP clients can hold: at most `max_connections` at once (more are shut at
// once), and no connection may spend longer than `request_timeout`, or send more than
// `max_request_bytes`, between the end of one reply (or its accept) and the start of
// the next handler. cpp-httplib 0.11 has per-recv timeouts only, so a client sending a
// header byte every 2 s holds a worker thread for ever; this guard shuts such a socket
// down, which ends the worker's blocking read.
//
// cpp-httplib hands the accepted socket to its task queue inside a closure, so the guard
// finds it in /proc/self/fd (a connected socket on the listen port it has not seen) and
// keeps a dup() of it: shutting down the dup ends the connection, and the dup's number
// can never be reused by another part of ferry while the guard holds it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace ferry::rest {

struct ConnectionLimits {
  size_t max_connections = 32;
  std::chrono::milliseconds request_timeout{10'000};
  uint64_t max_request_bytes = (1u << 20) + 64 * 1024;  // body + headers
};

class ConnectionGuard {
 public:
  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  void set_port(int port) { port_ = port; }

  // Called on the accept thread for each accepted connection; returns the task to run
  // on a worker in place of `serve`.
  std::function<void()> admit(std::function<void()> serve);

  // Called on the worker thread that serves the connection: a handler starts (the
  // request was read whole) and a reply was sent (the next request's clock starts).
  static void handler_started();
  static void reply_sent();

 private:
  struct Conn {
    int dup_fd = -1;
    std::chrono::steady_clock::time_point deadline;
    uint64_t bytes_at_arm = 0;
    bool in_handler = false;
    bool refused = false;  // over max_connections: shut at once, not counted
  };
  using Id = uint64_t;  // socket inode
  enum class Found { kSocket, kNone, kNoProc };

  Found find_new_socket(Id& id, int& fd) const;
  void arm(Id id, bool in_handler);
  void release(Id id);
  void reap_loop();

  ConnectionLimits limits_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Id, Conn> conns_;
  size_t open_ = 0;  // conns_ not refused
  bool stop_ = false;
  bool warned_ = false;
  std::thread reaper_;
};

}  // namespace ferry::rest
