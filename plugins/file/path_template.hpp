// Expands file-sink path templates: {topic}, {partition}, {span}, {date} (UTC,
// YYYY-MM-DD of the record timestamp), {filename} (last path segment of the record key,
// which file-source sets to the source file's path). Values from record data are sanitised so a
// topic or span id can never climb out of the target directory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace ferry::file {

// Longest piece of a file name that record data may fill: a span id or key of any
// length must still give a name the filesystem takes (NAME_MAX is 255 bytes on Linux,
// and ferry adds prefixes and suffixes for temporary and rotated files).
constexpr size_t kMaxSegmentBytes = 120;

// One path segment from record data: no '/', no NUL, never "." or "..", and at most
// kMaxSegmentBytes, a longer value ending in a hash of the whole so that two long
// values that share a prefix stay apart.
inline std::string sanitize_segment(std::string_view v) {
  std::string out;
  for (char c : v) out += (c == '/' || c == '\0') ? '_' : c;
  if (out.empty() || out == "." || out == "..") out = "_";
  if (out.size() > kMaxSegmentBytes) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a of the value as given
    for (char c : v) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    out.resize(kMaxSegmentBytes - 17);
    out += "~";
    out += hex;
  }
  return out;
}

// YYYY-MM-DD (UTC) of a record timestamp; timestamps are record data, so any int64 must
// give a short, valid name: years outside 0000-9999 give "invalid-date".
inline std::string utc_date(int64_t timestamp_ms) {
  constexpr int64_t kMinMs = -62167219200000;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMaxMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
  if (timestamp_ms < kMinMs || timestamp_ms > kMaxMs) return "invalid-date";
  int64_t seconds = timestamp_ms / 1000 - (timestamp_ms % 1000 < 0 ? 1 : 0);  // floor
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "invalid-date";
  char buf[32] = {};
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

struct TemplateValues {
  std::string_view topic;
  int32_t partition = 0;
  std::string_view span;
  int64_t timestamp_ms = 0;
  std::string_view key;
};

inline std::string_view key_filename(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

inline std::string expand_path(std::string_view tmpl, const TemplateValues& v) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t end = tmpl.find('}', i);
      if (end != std::string_view::npos) {
        std::string_view name = tmpl.substr(i + 1, end - i - 1);
        bool known = true;
        if (name == "topic")
          out += sanitize_segment(v.topic);
        else if (name == "partition")
          out += std::to_string(v.partition);
        else if (name == "span")
          out += sanitize_segment(v.span.empty() ? "nospan" : v.span);
        else if (name == "date")
          out += utc_date(v.timestamp_ms);
        else if (name == "filename")
          out += sanitize_segment(key_filename(v.key).empty() ? "nokey" : key_filename(v.key));
        else
          known = false;
        if (known) {
          i = end + 1;
          continue;
        }
      }
    }
    out += tmpl[i++];
  }
  return out;
}

inline bool template_has_unknown_field(std::string_view tmpl, std::string& field) {
  size_t i = 0;
  while ((i = tmpl.find('{', i)) != std::string_view::npos) {
    size_t end = tmpl.find('}', i);
    if (end == std::string_view::npos) return false;
    std::string_view name = tmpl.substr(i + 1, end - i - 1);
    if (name != "topic" && name != "partition" && name != "span" && name != "date" &&
        name != "filename") {
      field = std::string(name);
      return true;
    }
    i = end + 1;
  }
  return false;
}

}  // namespace ferry::file
