// Identifies a file across renames and restarts: device + inode, confirmed by a
// fingerprint of its first bytes (an inode number can be reused by a new file).
#pragma once

#include <sys/stat.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::file {

struct FileKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileKey&) const = default;
  bool operator<(const FileKey& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  // The source partition under which the host stores this file's offset.
  std::string partition() const { return std::to_string(dev) + ":" + std::to_string(ino); }
  static FileKey of(const struct stat& st) {
    return FileKey{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
  // The inverse of partition().
  static std::optional<FileKey> parse(std::string_view partition) {
    FileKey k;
    const char* end = partition.data() + partition.size();
    auto [colon, e1] = std::from_chars(partition.data(), end, k.dev);
    if (e1 != std::errc{} || colon == end || *colon != ':') return std::nullopt;
    auto [last, e2] = std::from_chars(colon + 1, end, k.ino);
    if (e2 != std::errc{} || last != end) return std::nullopt;
    return k;
  }
};

// FNV-1a over the first `len` bytes.
inline uint64_t fingerprint(std::string_view head) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : head) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Fingerprint {
  uint64_t hash = 0;
  uint32_t len = 0;
  bool operator==(const Fingerprint&) const = default;
};

}  // namespace ferry::file
