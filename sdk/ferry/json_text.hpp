// Appending a JSON string to a text buffer: plugins that build JSON records directly
// into a reused buffer, rather than through a document tree, share this one escaper.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ferry {

// The length of the well-formed UTF-8 sequence at s[i] (a byte >= 0x80), or 0 when it
// is not one (a stray continuation byte, a truncated or overlong sequence, a surrogate,
// a code point past U+10FFFF).
inline size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xc2 && c <= 0xdf   ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = c & (0xff >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return n;
}

// Whether `s` is well-formed UTF-8 (what a JSON library will store as a string).
inline bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x80) continue;
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n - 1;
  }
  return true;
}

// Appends `s` as a quoted JSON string; control characters are escaped. JSON text must
// be Unicode, and strict readers (ferry's own odbc-sink among them) refuse a record that
// is not: bytes that are not UTF-8 (a latin1 database column, a device's raw bytes)
// become U+FFFD, as a Java-based reader such as Kafka Connect would decode them.
inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (size_t n = utf8_sequence_length(s, i); n > 0) {
        i += n - 1;
        continue;
      }
      out.append(s.data() + run, i - run);
      out += "\xef\xbf\xbd";
      run = i + 1;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace ferry
