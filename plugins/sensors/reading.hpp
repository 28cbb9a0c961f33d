// One sensor reading and its record form: the JSON of DESIGN §8 (ts, measurement,
// sensor, device, host, value, unit, optional label/min/max/crit/tags, status) and the
// key host + "/" + sensor, which keeps one sensor's readings in order on one partition.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/json_text.hpp"

namespace ferry::sensors {

struct Reading {
  int64_t ts_ms = 0;
  std::string measurement;  // temperature, fan, voltage, power, current, humidity, ...
  std::string sensor;       // unique on its host, e.g. "coretemp/temp2"
  std::string device;       // the chip, zone or MQTT device the sensor belongs to
  std::string label;        // human name where the source has one ("Core 0")
  double value = 0;
  std::string unit;
  std::optional<double> min, max, crit;
  std::string status = "ok";  // ok | alarm | fault
  std::map<std::string, std::string> tags;
};

using ferry::append_json_string;

// Shortest text that reads back as the same double (values are finite: callers
// reject NaN and infinity before a Reading exists).
inline void append_json_number(std::string& out, double v) {
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  out += buf;
}

// ISO-8601 UTC with milliseconds: 2026-11-22T12:00:00.123Z
inline std::string iso_time(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
  return buf;
}

inline std::string reading_json(const Reading& r, std::string_view host) {
  std::string out;
  out.reserve(256);
  out += "{\"ts\":";
  append_json_string(out, iso_time(r.ts_ms));
  out += ",\"measurement\":";
  append_json_string(out, r.measurement);
  out += ",\"sensor\":";
  append_json_string(out, r.sensor);
  out += ",\"device\":";
  append_json_string(out, r.device);
  out += ",\"host\":";
  append_json_string(out, host);
  if (!r.label.empty()) {
    out += ",\"label\":";
    append_json_string(out, r.label);
  }
  out += ",\"value\":";
  append_json_number(out, r.value);
  out += ",\"unit\":";
  append_json_string(out, r.unit);
  const std::pair<const char*, const std::optional<double>*> limits[] = {
      {"min", &r.min}, {"max", &r.max}, {"crit", &r.crit}};
  for (const auto& [name, v] : limits) {
    if (!*v || !std::isfinite(**v)) continue;
    out += ",\"";
    out += name;
    out += "\":";
    append_json_number(out, **v);
  }
  out += ",\"status\":";
  append_json_string(out, r.status);
  if (!r.tags.empty()) {
    out += ",\"tags\":{";
    bool first = true;
    for (const auto& [k, v] : r.tags) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      append_json_string(out, v);
    }
    out += '}';
  }
  out += '}';
  return out;
}

inline std::string reading_key(const Reading& r, std::string_view host) {
  std::string k(host);
  k += '/';
  k += r.sensor;
  return k;
}

}  // namespace ferry::sensors
