// What a connector has saved (offsets.json or state.json with its journal), read the
// way ferry reads it at start, without changing the files under a running ferry.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "state/durable_map.hpp"

namespace ferry::test {

// Key → value; empty when nothing is saved yet. A file ferry could not open fails the test.
inline std::map<std::string, std::string> stored_state(const std::filesystem::path& file) {
  auto loaded = state::DurableMap::load(file);
  EXPECT_TRUE(loaded) << file << ": " << loaded.status().message();
  return loaded ? loaded->entries : std::map<std::string, std::string>{};
}

// The same as "key=value" lines, for tests that look for a piece of text.
inline std::string stored_state_text(const std::filesystem::path& file) {
  std::string out;
  for (const auto& [k, v] : stored_state(file)) out += k + "=" + v + "\n";
  return out;
}

}  // namespace ferry::test
