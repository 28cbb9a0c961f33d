// The worker file (ferry.toml): where plugins, connector files and state live, the
// Kafka connection, REST and span settings.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/kafka_properties.hpp"
#include "config/options.hpp"

namespace ferry::config {

struct WorkerConfig {
  std::string path;  // empty when running on defaults
  std::string host_id;
  std::vector<std::filesystem::path> plugin_path;
  std::filesystem::path connectors_dir;  // empty: none
  std::filesystem::path state_dir;
  int64_t shutdown_timeout_ms = 30'000;
  int64_t offset_flush_interval_ms = 1'000;
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<std::pair<std::string, std::string>> log_levels;  // component, level
  KafkaProperties kafka;
  Options host, rest, spans, collector;

  bool embedded_broker() const { return !kafka.contains("bootstrap.servers"); }
};

// Loads `path` (empty = built-in defaults). Relative paths in the file are resolved
// against the file's directory, so a config folder can be moved as a whole.
WorkerConfig load_worker_config(const std::string& path, Diagnostics& diags);

// The worker file's tables, as load_worker_config checks them ([kafka] is librdkafka's).
std::vector<OptionSection> worker_sections();

}  // namespace ferry::config
