#include "config/substitution.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/atomic_file.hpp"
#include "common/secrets.hpp"
#include "ferry/unique_fd.hpp"

namespace ferry::config {
namespace {

// Secrets are small; a cap keeps `${file:/dev/zero}` or a huge log from filling memory.
constexpr size_t kMaxSecretFileBytes = 1 << 20;

std::optional<std::string> read_secret_file(const std::string& path, std::string& error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!fd || fstat(fd.get(), &st) != 0) {
    error = "cannot read ${file:" + path + "}: " + std::strerror(errno);
    return std::nullopt;
  }
  // Devices and FIFOs may never end; a regular file is read up to the cap (its st_size
  // is not trusted: /proc files say 0).
  if (!S_ISREG(st.st_mode)) {
    error = "${file:" + path + "} is not a regular file";
    return std::nullopt;
  }
  std::string s;
  bool too_large = false;
  if (!read_to_end(fd.get(), s, kMaxSecretFileBytes, too_large)) {
    error = too_large ? "${file:" + path + "} is larger than 1 MiB"
                      : "cannot read ${file:" + path + "}: " + std::strerror(errno);
    return std::nullopt;
  }
  // Files written by `echo` end in a newline that is not part of the secret.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

SubstitutionResult substitute(std::string_view text) {
  SubstitutionResult r;
  Substituted out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value += text[i++];
      continue;
    }
    size_t end = text.find('}', i + 2);
    if (end == std::string_view::npos) {
      r.error = "unterminated ${ in string";
      return r;
    }
    std::string ref(text.substr(i + 2, end - i - 2));
    i = end + 1;
    if (ref.rfind("file:", 0) == 0) {
      auto content = read_secret_file(ref.substr(5), r.error);
      if (!content) return r;
      out.value += *content;
      out.from_file = true;
      secrets::remember(*content);
      continue;
    }
    std::string name = ref, fallback;
    bool has_fallback = false;
    if (auto pos = ref.find(":-"); pos != std::string::npos) {
      name = ref.substr(0, pos);
      fallback = ref.substr(pos + 2);
      has_fallback = true;
    }
    if (name.empty()) {
      r.error = "empty variable name in ${}";
      return r;
    }
    const char* env = std::getenv(name.c_str());
    if (env != nullptr) {
      out.value += env;
    } else if (has_fallback) {
      out.value += fallback;
    } else {
      r.error = "environment variable " + name + " is not set (write ${" + name +
                ":-default} for a default)";
      return r;
    }
  }
  r.ok = std::move(out);
  return r;
}

}  // namespace ferry::config
