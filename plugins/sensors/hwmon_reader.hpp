// Reads Linux hwmon (/sys/class/hwmon/hwmon*) and thermal zones
// (/sys/class/thermal/thermal_zone*) under a configurable root, in SI units.
//
// Every attribute is opened O_NONBLOCK and read once: a sensor that answers EAGAIN,
// EIO or ENODATA (drivers do this while a bus is busy), that is not a regular file, or
// that holds garbage becomes a SensorError and the others are still read. Missing
// optional attributes (min, max, crit, label) are simply absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reading.hpp"

namespace ferry::sensors {

struct SensorError {
  std::string path;
  std::string message;
};

struct HwmonScan {
  std::vector<Reading> readings;
  std::vector<SensorError> errors;
  size_t chips = 0;  // hwmon devices and thermal zones found
};

// `root` is the sysfs mount point ("/sys" on a real machine).
HwmonScan read_hwmon(const std::string& root, int64_t now_ms);

}  // namespace ferry::sensors
