// The text form of file-source checkpoints. Offsets are per line, so they stay tiny
// ("1234", or "1234;done" after a batch file's last line); what identifies the file
// (its lineage: fingerprint, inode, path) is kept once per file in plugin state.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace ferry::file
