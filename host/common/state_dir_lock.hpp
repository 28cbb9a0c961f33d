// One ferry per state directory: two processes on the same offsets and span state would
// overwrite each other's files. The lock is an flock on <state_dir>/ferry.lock, so the
// kernel releases it when the holder dies (a SIGKILLed ferry never leaves it stale).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "ferry/unique_fd.hpp"

namespace ferry {

class StateDirLock {
 public:
  // The held lock, or nullopt with `error` saying who holds it (the holder's pid, which
  // it writes into the file) or why the file cannot be opened.
  static std::optional<StateDirLock> acquire(const std::filesystem::path& state_dir,
                                             std::string& error);

 private:
  explicit StateDirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace ferry
