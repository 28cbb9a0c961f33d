// Kafka Connect's flat string configs checked against a ferry plugin's schema, as
// PUT /connector-plugins/{p}/config/validate answers them. The values arrive over the
// network: they are checked as given (no ${...} expansion) and echoed masked.
#pragma once

#include <nlohmann/json.hpp>

#include "ferry/abi.h"

namespace ferry::config {

// Connect's ConfigInfos shape: every option with its definition, value and errors.
nlohmann::json validate_connect_config(const ferry_plugin& plugin, const nlohmann::json& config);

}  // namespace ferry::config
