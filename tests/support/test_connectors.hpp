// Connector files and input topics that several end-to-end tests share.
#pragma once

#include <filesystem>
#include <string>

#include "support/kafka_env.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

// A fresh topic holding `lines` (one record per line), produced with kcat.
inline std::string topic_with_lines(const TempDir& dir, const std::string& prefix,
                                    const std::string& lines) {
  std::string topic = unique_topic(prefix);
  auto input = dir.write(topic + ".input", lines);
  kcat_produce_lines(topic, input.string());
  return topic;
}

// The test-sink plugin appending to `out`; `config` adds [config] keys, `sections`
// whole tables after it.
inline std::string test_sink_toml(const std::string& topic, const std::filesystem::path& out,
                                  const std::string& config = "",
                                  const std::string& sections = "") {
  return "plugin = \"test-sink\"\ntopics = [\"" + topic + "\"]\n[config]\noutput = \"" +
         out.string() + "\"\n" + config + sections;
}

}  // namespace ferry::test
