// The simulated driver's generator: N devices x M sensors, each a bounded random walk
// driven by its own splitmix64 stream seeded from (seed, device, sensor). Integer
// arithmetic and a fixed mapping to doubles (no <random> distributions, whose output
// differs between standard libraries) make the sequence identical on every machine:
// step k of sensor (d, s) has the same value in every run with the same seed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "reading.hpp"

namespace ferry::sensors {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct SimulatedKind {
  const char* measurement;
  const char* unit;
  double low, high, start, step;
};

inline constexpr SimulatedKind kSimulatedKinds[] = {
    {"temperature", "C", 20, 90, 45, 0.5},  {"humidity", "%", 10, 90, 45, 1.0},
    {"voltage", "V", 11.4, 12.6, 12, 0.02}, {"fan", "rpm", 800, 3000, 1500, 25},
    {"power", "W", 5, 250, 60, 2},          {"current", "A", 0.1, 20, 5, 0.1},
};

class SimulatedWalk {
 public:
  SimulatedWalk(uint64_t seed, uint32_t devices, uint32_t sensors) {
    for (uint32_t d = 0; d < devices; ++d) {
      char dev[32];
      std::snprintf(dev, sizeof dev, "sim-%03u", d);
      for (uint32_t s = 0; s < sensors; ++s) {
        const SimulatedKind& k = kSimulatedKinds[s % std::size(kSimulatedKinds)];
        Walker w;
        w.kind = &k;
        w.state = seed ^ (uint64_t{d} << 32) ^ s ^ 0x5deece66dULL;
        w.value = k.start;
        w.device = dev;
        w.sensor = std::string(dev) + "/" + k.measurement + std::to_string(s);
        walkers_.push_back(std::move(w));
      }
    }
  }

  size_t size() const { return walkers_.size(); }
  uint64_t step() const { return step_; }

  // The next reading, round robin over devices and sensors.
  Reading next(int64_t now_ms) {
    Walker& w = walkers_[step_ % walkers_.size()];
    ++step_;
    advance(w);
    Reading r;
    r.ts_ms = now_ms;
    r.measurement = w.kind->measurement;
    r.unit = w.kind->unit;
    r.device = w.device;
    r.sensor = w.sensor;
    r.value = w.value;
    r.min = w.kind->low;
    r.max = w.kind->high;
    return r;
  }

  // Fast-forward to `step` readings (restart from a committed offset).
  void skip_to(uint64_t step) {
    while (step_ < step) advance(walkers_[step_++ % walkers_.size()]);
  }

 private:
  struct Walker {
    const SimulatedKind* kind = nullptr;
    uint64_t state = 0;
    double value = 0;
    std::string device, sensor;
  };
  static void advance(Walker& w) {
    // 53 random bits -> [-1, 1), then reflect at the bounds.
    double u = static_cast<double>(splitmix64(w.state) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    double v = w.value + u * w.kind->step;
    if (v > w.kind->high) v = 2 * w.kind->high - v;
    if (v < w.kind->low) v = 2 * w.kind->low - v;
    // Keep values short and exact in text: round to 1/1000 of a unit.
    w.value = static_cast<double>(static_cast<int64_t>(v * 1000 + (v >= 0 ? 0.5 : -0.5))) / 1000;
  }

  std::vector<Walker> walkers_;
  uint64_t step_ = 0;
};

}  // namespace ferry::sensors
