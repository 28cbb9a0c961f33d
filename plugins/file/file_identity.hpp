// Which file is which, across renames, copies, truncation, deletion and restarts.
//
// A *lineage* is one stream of content: the bytes written into a file since it was
// created or last truncated. Offsets are kept per lineage (its source partition). A file
// on disk carries a lineage when its device, inode and birth time (where the filesystem
// records one) are the lineage's and its first bytes hash to the lineage's fingerprint.
// A new inode whose first bytes hash to a lineage nobody carries any more is a copy of
// it (copytruncate) and carries it on from its position. A lineage whose inode was
// deleted or rewritten is *detached*: only a copy can carry it from then on, so inode
// reuse never resumes an old file.
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
  std::string text() const { return std::to_string(dev) + ":" + std::to_string(ino); }
  static FileKey of(const struct stat& st) {
    return FileKey{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
};

// A lineage's source partition: "dev:ino" for the first content an inode held (the form
// checkpoints had before lineages), "dev:ino:N" for the N-th after truncations or
// inode reuse.
inline std::string lineage_partition(const FileKey& k, uint32_t n) {
  return n == 0 ? k.text() : k.text() + ":" + std::to_string(n);
}

// The inode a partition was named after ("dev:ino" or "dev:ino:N").
inline std::optional<FileKey> partition_inode(std::string_view partition) {
  FileKey k;
  const char* end = partition.data() + partition.size();
  auto [colon, e1] = std::from_chars(partition.data(), end, k.dev);
  if (e1 != std::errc{} || colon == end || *colon != ':') return std::nullopt;
  auto [last, e2] = std::from_chars(colon + 1, end, k.ino);
  if (e2 != std::errc{}) return std::nullopt;
  if (last == end) return k;
  uint32_t n = 0;
  if (*last != ':') return std::nullopt;
  auto [tail, e3] = std::from_chars(last + 1, end, n);
  if (e3 != std::errc{} || tail != end) return std::nullopt;
  return k;
}

// FNV-1a over the first `len` bytes.
inline uint64_t fingerprint(std::string_view head) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : head) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The hash of a file's first `len` bytes; len grows with what was read, up to
// fingerprint_bytes, so a short file is known by all of its content.
struct Fingerprint {
  uint64_t hash = 0;
  uint32_t len = 0;
  bool operator==(const Fingerprint&) const = default;
  static Fingerprint of(std::string_view head) {
    return Fingerprint{fingerprint(head), static_cast<uint32_t>(head.size())};
  }
  // Whether `head` (a file's first bytes, at least `len` of them) starts with what
  // this fingerprint was taken of.
  bool matches(std::string_view head) const {
    return head.size() >= len && fingerprint(head.substr(0, len)) == hash;
  }
};

struct Lineage {
  Fingerprint fp;
  FileKey inode;         // the file that carries it now
  int64_t btime_ns = 0;  // that file's birth time; 0 where the filesystem has none
  bool detached = false;
  std::string path;  // where it was last seen, for people reading the state

  // The file `key` (born at `btime_ns`, starting with `head`) is this lineage's file.
  bool carried_by(const FileKey& key, int64_t btime, std::string_view head) const {
    return !detached && inode == key && (btime_ns == 0 || btime == 0 || btime_ns == btime) &&
           fp.matches(head);
  }
  // The file `key` holds a copy of this lineage's content. An empty lineage has no
  // content to recognise: an empty file is never a copy.
  bool copied_to(const FileKey& key, std::string_view head) const {
    return fp.len > 0 && (detached || !(inode == key)) && fp.matches(head);
  }
};

// "v2 <hash> <len> <dev>:<ino> <btime_ns> <detached> <path>"; the earlier form
// "<hash> <len> <path>" is read too (its inode is the one the partition names).
inline std::string format_lineage(const Lineage& l) {
  return "v2 " + std::to_string(l.fp.hash) + " " + std::to_string(l.fp.len) + " " + l.inode.text() +
         " " + std::to_string(l.btime_ns) + " " + (l.detached ? "1" : "0") + " " + l.path;
}

namespace detail {
// The next space-separated field of `s`, removed from it.
inline std::string_view next_field(std::string_view& s) {
  size_t sp = s.find(' ');
  std::string_view f = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  return f;
}
template <class T>
bool parse_number(std::string_view f, T& out) {
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
  return ec == std::errc{} && p == f.data() + f.size() && !f.empty();
}
}  // namespace detail

inline std::optional<Lineage> parse_lineage(std::string_view partition, std::string_view s) {
  using detail::next_field;
  using detail::parse_number;
  Lineage l;
  std::string_view first = next_field(s);
  if (first != "v2") {
    auto inode = partition_inode(partition);
    if (!inode || !parse_number(first, l.fp.hash) || !parse_number(next_field(s), l.fp.len))
      return std::nullopt;
    l.inode = *inode;
    l.path = std::string(s);
    return l;
  }
  int detached = 0;
  if (!parse_number(next_field(s), l.fp.hash) || !parse_number(next_field(s), l.fp.len))
    return std::nullopt;
  auto inode = partition_inode(next_field(s));
  if (!inode || !parse_number(next_field(s), l.btime_ns) ||
      !parse_number(next_field(s), detached) || detached > 1)
    return std::nullopt;
  l.inode = *inode;
  l.detached = detached == 1;
  l.path = std::string(s);
  return l;
}

}  // namespace ferry::file
