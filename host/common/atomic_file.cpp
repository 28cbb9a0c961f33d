#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "ferry/unique_fd.hpp"

namespace ferry {
namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (!fd) return Status::Retriable(errno_text("cannot create", tmp));
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Retriable(errno_text("cannot write", tmp));
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return Status::Retriable(errno_text("cannot fsync", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Retriable(errno_text("cannot rename", tmp));
  UniqueFd dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0)
    return Status::Retriable(errno_text("cannot fsync directory of", path));
  return Status::Ok();
}

bool read_to_end(int fd, std::string& out, size_t max_bytes, bool& too_large) {
  too_large = false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      too_large = true;
      return false;
    }
  }
}

std::optional<std::string> read_whole_file(const std::filesystem::path& path, std::string* error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT && error) *error = errno_text("cannot open", path);
    return std::nullopt;
  }
  std::string out;
  bool too_large = false;
  if (!read_to_end(fd.get(), out, SIZE_MAX, too_large)) {
    if (error) *error = errno_text("cannot read", path);
    return std::nullopt;
  }
  return out;
}

}  // namespace ferry
