// Materialises a fake sysfs tree from tests/plugins/sensors/sysfs/NAME.txt (format in
// that folder's README) under a directory, holding the FIFOs that answer EAGAIN open
// for writing as long as the object lives.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/kafka_env.hpp"

namespace ferry::test {

class FakeSysfs {
 public:
  FakeSysfs(const std::string& fixture, const std::filesystem::path& root) : root_(root) {
    namespace fs = std::filesystem;
    fs::create_directories(root);
    std::ifstream in(fs::path(source_dir()) / "tests/plugins/sensors/sysfs" / (fixture + ".txt"));
    if (!in) throw std::runtime_error("no sysfs fixture " + fixture);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (auto arrow = line.find(" -> "); arrow != std::string::npos) {
        fs::path link = root / line.substr(0, arrow);
        fs::create_directories(link.parent_path());
        fs::create_symlink(line.substr(arrow + 4), link);
        continue;
      }
      auto colon = line.find(':');
      fs::path p = root / line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      fs::create_directories(p.parent_path());
      if (value == "<dir>") {
        fs::create_directories(p);
      } else if (value == "<eagain>") {
        if (::mkfifo(p.c_str(), 0644) != 0) throw std::runtime_error("mkfifo " + p.string());
        // A writer that never writes: non-blocking reads get EAGAIN, not EOF.
        writers_.push_back(::open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
      } else {
        std::ofstream(p) << value << '\n';
      }
    }
  }
  ~FakeSysfs() {
    for (int fd : writers_) ::close(fd);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  std::vector<int> writers_;
};

}  // namespace ferry::test
