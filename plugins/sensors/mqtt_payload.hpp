// Turns one MQTT message (topic + payload) into a Reading, or into the reason it is not
// one. Payloads are JSON objects with configurable value/time/unit fields (dotted paths
// reach nested objects) or plain numbers. Topic segments map to device, sensor,
// measurement, host or free tags by position, as Telegraf's topic_parsing does:
//   layout "_/site/device/measurement" on "plant/berlin/press-7/temperature"
//   -> tags.site = berlin, device = press-7, measurement = temperature
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reading.hpp"

namespace ferry::sensors {

enum class PayloadFormat { kAuto, kJson, kNumber };

struct PayloadOptions {
  PayloadFormat format = PayloadFormat::kAuto;
  std::string value_field = "value";
  std::string time_field;  // empty: the time of receipt
  std::string unit_field = "unit";
  std::string unit;  // when the payload names none
  size_t max_bytes = 65536;
  std::vector<std::vector<std::string>> layouts;  // split topic_tags entries
};

struct ParsedMessage {
  std::optional<Reading> reading;
  std::string error;  // why the payload is not a reading
  std::string host;   // from a "host" topic segment, else empty
};

std::vector<std::string> split_topic(std::string_view topic);

// `received_ms` is the reading's time unless the payload carries one.
ParsedMessage parse_message(std::string_view topic, std::string_view payload,
                            const PayloadOptions& opts, int64_t received_ms);

// "2026-11-22T12:00:00Z", with optional fraction and ±HH:MM offset; ms since the epoch.
std::optional<int64_t> parse_iso_time(std::string_view s);

}  // namespace ferry::sensors
