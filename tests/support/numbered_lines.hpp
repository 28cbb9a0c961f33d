// Test input whose every line says where it belongs: "line-0000001\n" (13 bytes) and on.
#pragma once

#include <cstdio>
#include <string>

namespace ferry::test {

inline std::string numbered_lines(int from, int to, const std::string& prefix = "line-") {
  std::string out;
  char buf[64];
  for (int i = from; i <= to; ++i) {
    int n = std::snprintf(buf, sizeof buf, "%s%07d\n", prefix.c_str(), i);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace ferry::test
