// Span bookkeeping for sensors: one span per device per time window. A reading joins
// the span of the window its timestamp falls in; the span closes once the wall clock
// passes the window's end plus `grace`. A reading for a window that is already closed
// (a device clock behind, a late MQTT message) goes out without a span rather than
// reopening it: a closed span's count is final.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reading.hpp"

namespace ferry::sensors {

class WindowSpans {
 public:
  struct Open {
    std::string key;
    std::string device;
    int64_t start_ms = 0, end_ms = 0;
  };

  WindowSpans(int64_t window_ms, int64_t grace_ms) : window_ms_(window_ms), grace_ms_(grace_ms) {}

  static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0)); }

  // The span key for a reading at `ts_ms` from `device`; sets `opened` when the span is
  // new (the caller opens it with the host). Empty: the window has already closed.
  std::string assign(const std::string& device, int64_t ts_ms, bool& opened) {
    opened = false;
    int64_t start = floor_div(ts_ms, window_ms_) * window_ms_;
    auto closed = closed_until_.find(device);
    if (closed != closed_until_.end() && start + window_ms_ <= closed->second) return {};
    std::string key = device + "@" + iso_time(start);
    auto [it, inserted] = open_.try_emplace(key);
    if (inserted) {
      it->second = Open{key, device, start, start + window_ms_};
      opened = true;
    }
    return key;
  }

  // Spans whose window (plus grace) has passed at `now_ms`; they are forgotten here.
  std::vector<Open> due(int64_t now_ms) {
    std::vector<Open> out;
    for (auto it = open_.begin(); it != open_.end();) {
      if (it->second.end_ms + grace_ms_ <= now_ms) {
        int64_t& until = closed_until_[it->second.device];
        if (it->second.end_ms > until) until = it->second.end_ms;
        out.push_back(std::move(it->second));
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  size_t open_count() const { return open_.size(); }

 private:
  int64_t window_ms_, grace_ms_;
  std::map<std::string, Open> open_;
  std::map<std::string, int64_t> closed_until_;
};

}  // namespace ferry::sensors
