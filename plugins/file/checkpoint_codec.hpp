// The text forms of file-source checkpoints. Offsets are per line, so they stay tiny
// ("1234", or "1234;done" after a batch file's last line); what identifies the file
// (fingerprint, path) is kept once per file in plugin state.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "file_identity.hpp"

namespace ferry::file {

struct Offset {
  uint64_t pos = 0;
  bool done = false;
};

inline std::optional<Offset> parse_offset(std::string_view s) {
  Offset o;
  if (s.ends_with(";done")) {
    o.done = true;
    s.remove_suffix(5);
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), o.pos);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return o;
}

inline std::string format_offset(uint64_t pos, bool done) {
  return std::to_string(pos) + (done ? ";done" : "");
}

struct FileRecord {
  Fingerprint fp;
  std::string path;
};

inline std::string format_file_record(const FileRecord& r) {
  return std::to_string(r.fp.hash) + " " + std::to_string(r.fp.len) + " " + r.path;
}

inline std::optional<FileRecord> parse_file_record(std::string_view s) {
  FileRecord r;
  size_t a = s.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = s.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + a, r.fp.hash);
  auto [p2, e2] = std::from_chars(s.data() + a + 1, s.data() + b, r.fp.len);
  if (e1 != std::errc() || e2 != std::errc()) return std::nullopt;
  r.path = std::string(s.substr(b + 1));
  return r;
}

}  // namespace ferry::file
