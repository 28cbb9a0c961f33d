// A connector file: which plugin, which topics, the plugin's own [config] (validated
// against the plugin's option table), error handling, spans, transforms and per-
// connector Kafka overrides.
#pragma once

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/kafka_properties.hpp"
#include "config/options.hpp"
#include "ferry/abi.h"

namespace ferry::config {

struct TransformConfig {
  std::string type;
  Options options;
  const ferry_plugin* descriptor = nullptr;  // a transform plugin; null: built in
};

struct ConnectorConfig {
  std::string path;
  std::string name;
  std::string plugin;
  const ferry_plugin* descriptor = nullptr;
  std::string topic;                // sources
  std::vector<std::string> topics;  // sinks
  int tasks = 1;
  int64_t max_in_flight = 0;
  uint64_t max_in_flight_bytes = 0;
  Options top, config, span, errors;
  std::vector<TransformConfig> transforms;
  KafkaProperties kafka;
  std::string content_hash;  // changes when the file's content changes (reload)

  // What the plugin's task gets: its [config] plus the [span] settings as
  // "span.enabled", "span.ttl" and "span.idle_close", and "connector.topic".
  Options plugin_options() const {
    Options o = config;
    for (OptionValue v : span.values()) {
      v.name = "span." + v.name;
      o.values().push_back(std::move(v));
    }
    o.values().push_back(
        OptionValue{"connector.topic", FERRY_OPT_STRING, !topic.empty(), false, topic, {}});
    return o;
  }

  bool tolerate_all() const { return errors.str("tolerance") == "all"; }
  int64_t retry_timeout_ms() const { return errors.integer("retry_timeout"); }
  std::string dead_letter_topic() const { return errors.str("dead_letter_topic"); }
};

// A built-in transform as connector files are checked against it. The transforms
// themselves live above config (transforms/ builds them from validated Options), so
// they hand config their tables instead of config reaching up to them.
struct TransformSchema {
  std::string type;
  std::span<const ferry_option> options;  // "type" is implied and not listed
  // Checks settings that are valid one by one but not together (a regex that does not
  // compile...): the problem, or empty.
  std::function<std::string(const Options&)> check;
};

struct PluginLookup {
  std::function<const ferry_plugin*(std::string_view)> find;
  std::vector<std::string> names;
  std::vector<TransformSchema> transforms;  // built-in transforms
};

// Parses and validates one connector file; every problem goes into `diags`.
// A connector file's own tables ([config] is the plugin's, [kafka] librdkafka's).
std::vector<OptionSection> connector_sections();

ConnectorConfig load_connector_config(const std::filesystem::path& path,
                                      const PluginLookup& plugins, Diagnostics& diags);

// All *.toml files of a drop-in directory, sorted by name.
std::vector<std::filesystem::path> list_connector_files(const std::filesystem::path& dir,
                                                        Diagnostics& diags);

}  // namespace ferry::config
