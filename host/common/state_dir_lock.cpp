#include "common/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry {

std::optional<StateDirLock> StateDirLock::acquire(const std::filesystem::path& state_dir,
                                                  std::string& error) {
  auto path = state_dir / "ferry.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) {
    error = "cannot open " + path.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char pid[32] = {};
    ssize_t n = pread(fd.get(), pid, sizeof(pid) - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    error = err == EWOULDBLOCK ? "state_dir " + state_dir.string() + " is in use by another ferry" +
                                     (holder.empty() ? "" : " (pid " + holder + ")") +
                                     "; each ferry needs its own [host] state_dir"
                               : "cannot lock " + path.string() + ": " + std::strerror(err);
    return std::nullopt;
  }
  std::string me = std::to_string(getpid()) + "\n";
  if (ftruncate(fd.get(), 0) == 0) (void)!pwrite(fd.get(), me.data(), me.size(), 0);
  return StateDirLock(std::move(fd));
}

}  // namespace ferry
