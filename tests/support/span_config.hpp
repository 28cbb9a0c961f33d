// Worker and connector snippets shared by the span end-to-end tests.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace ferry::test {

// Lines "PREFIX-0000001" ... for a span's file.
inline std::string lines(int from, int to, const std::string& prefix) {
  std::string out;
  char buf[96];
  for (int i = from; i <= to; ++i) {
    int n = std::snprintf(buf, sizeof buf, "%s-%07d\n", prefix.c_str(), i);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline std::string spans_section(const std::string& topic, const std::string& extra = "") {
  return "[spans]\ntopic = \"" + topic + "\"\n" + extra;
}

inline std::string batch_source(const std::string& topic, const std::filesystem::path& glob,
                                const std::string& extra_config = "",
                                const std::string& extra = "") {
  return "plugin = \"file-source\"\ntopic = \"" + topic + "\"\n" + extra + "[config]\npaths = [\"" +
         glob.string() + "\"]\nmode = \"batch\"\nscan_interval = \"100ms\"\n" + extra_config +
         "[span]\nenabled = true\n";
}

}  // namespace ferry::test
