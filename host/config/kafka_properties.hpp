// `[kafka]` tables: librdkafka properties passed through verbatim, values as text.
#pragma once

#include <map>
#include <string>

#include <toml++/toml.h>

#include "config/diagnostics.hpp"

namespace ferry::config {

using KafkaProperties = std::map<std::string, std::string>;

KafkaProperties read_kafka_properties(const toml::table* table, const std::string& path,
                                      Diagnostics& diags);
bool is_secret_property(const std::string& name);

}  // namespace ferry::config
