// Counts the long-run scripts raise (FERRY_TORTURE_STEPS, FERRY_CHAOS_KILLS, ...): the
// environment's value, or the CI-sized default.
#pragma once

#include <cstdlib>

namespace ferry::test {

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

}  // namespace ferry::test
