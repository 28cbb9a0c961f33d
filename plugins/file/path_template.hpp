// Expands file-sink path templates: {topic}, {partition}, {span}, {date} (UTC,
// YYYY-MM-DD of the record timestamp), {filename} (last path segment of the record key,
// which file-source sets to the source file's path). Values from record data are sanitised so a
// topic or span id can never climb out of the target directory.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace ferry::file {

inline std::string sanitize_segment(std::string_view v) {
  std::string out;
  for (char c : v) out += (c == '/' || c == '\0') ? '_' : c;
  if (out == "." || out == "..") out = "_";
  return out;
}

inline std::string utc_date(int64_t timestamp_ms) {
  std::time_t t = static_cast<std::time_t>(timestamp_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
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
