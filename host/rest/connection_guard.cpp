#include "rest/connection_guard.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_received (glibc's lacks it)
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/logging.hpp"

namespace ferry::rest {
namespace {

using Clock = std::chrono::steady_clock;

// The connection the current worker thread serves, and its guard.
thread_local ConnectionGuard* t_guard = nullptr;
thread_local uint64_t t_conn = 0;

int local_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return -1;
}

bool connected(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  return getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
}

uint64_t bytes_received(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  return info.tcpi_bytes_received;
}

}  // namespace

ConnectionGuard::ConnectionGuard(ConnectionLimits limits)
    : limits_(limits), reaper_([this] { reap_loop(); }) {}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reaper_.join();
  for (auto& [id, c] : conns_)
    if (!c.refused) close(c.dup_fd);
}

ConnectionGuard::Found ConnectionGuard::find_new_socket(Id& id, int& fd) const {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return Found::kNoProc;
  Found found = Found::kNone;
  while (dirent* e = readdir(dir)) {
    int n = std::atoi(e->d_name);
    if (n <= 2 || n == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(n, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    if (conns_.contains(st.st_ino)) continue;
    if (local_port(n) != port_ || !connected(n)) continue;
    id = st.st_ino;
    fd = n;
    found = Found::kSocket;
    break;
  }
  closedir(dir);
  return found;
}

std::function<void()> ConnectionGuard::admit(std::function<void()> serve) {
  std::unique_lock lock(mu_);
  Id id = 0;
  int fd = -1;
  Found found = port_ > 0 ? find_new_socket(id, fd) : Found::kNone;
  if (found == Found::kNoProc && !warned_) {
    logging::get("rest")->warn("/proc/self/fd is not readable: REST connections are not bounded");
    warned_ = true;
  }
  // Not found: the client already hung up (the worker reads end-of-file at once).
  if (found != Found::kSocket) return serve;
  Conn c;
  c.refused = open_ >= limits_.max_connections;
  if (c.refused) {
    // Known until its worker ran, so the next accept's search does not take it for new.
    shutdown(fd, SHUT_RDWR);
    logging::get("rest")->warn("refused a REST connection: {} are open ([rest] max_connections)",
                               limits_.max_connections);
  } else {
    c.dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (c.dup_fd < 0) return serve;
    c.deadline = Clock::now() + limits_.request_timeout;
    c.bytes_at_arm = bytes_received(c.dup_fd);
    ++open_;
  }
  conns_.emplace(id, c);
  lock.unlock();
  cv_.notify_all();
  return [this, id, serve = std::move(serve)] {
    t_guard = this;
    t_conn = id;
    serve();
    t_guard = nullptr;
    release(id);
  };
}

void ConnectionGuard::handler_started() {
  if (t_guard != nullptr) t_guard->arm(t_conn, true);
}

void ConnectionGuard::reply_sent() {
  if (t_guard != nullptr) t_guard->arm(t_conn, false);
}

void ConnectionGuard::arm(Id id, bool in_handler) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.refused) return;
  it->second.in_handler = in_handler;
  it->second.deadline = Clock::now() + limits_.request_timeout;
  it->second.bytes_at_arm = bytes_received(it->second.dup_fd);
}

void ConnectionGuard::release(Id id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (!it->second.refused) {
    close(it->second.dup_fd);
    --open_;
  }
  conns_.erase(it);
}

void ConnectionGuard::reap_loop() {
  // Ticks only while connections are open: an idle API costs no wake-ups.
  constexpr auto kTick = std::chrono::milliseconds(100);
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (conns_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !conns_.empty(); });
      continue;
    }
    cv_.wait_for(lock, kTick, [&] { return stop_; });
    auto now = Clock::now();
    for (auto& [id, c] : conns_) {
      if (c.in_handler || c.refused) continue;
      bool late = now >= c.deadline;
      bool greedy = bytes_received(c.dup_fd) - c.bytes_at_arm > limits_.max_request_bytes;
      if (!late && !greedy) continue;
      // Ends the worker's blocking read; the worker closes the socket and releases it.
      shutdown(c.dup_fd, SHUT_RDWR);
      c.in_handler = true;  // shut once
      logging::get("rest")->warn("closed a REST connection that {}",
                                 late ? "sent no whole request within [rest] request_timeout"
                                      : "sent more than a request may hold");
    }
  }
}

}  // namespace ferry::rest
