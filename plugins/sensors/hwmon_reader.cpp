#include "hwmon_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "ferry/unique_fd.hpp"

namespace ferry::sensors {
namespace {

namespace fs = std::filesystem;

struct Attr {
  enum class State { kMissing, kOk, kError } state = State::kMissing;
  std::string text;
  std::string error;
};

// One read(2) of a sysfs attribute. O_NONBLOCK: a FIFO or a driver that would block
// answers EAGAIN instead of stalling every other sensor.
Attr read_attr(const fs::path& path) {
  Attr a;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return a;
    a.state = Attr::State::kError;
    a.error = std::strerror(errno);
    return a;
  }
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  int saved = errno;
  if (n < 0) {
    a.state = Attr::State::kError;
    a.error = std::strerror(saved);
    return a;
  }
  a.state = Attr::State::kOk;
  a.text.assign(buf, static_cast<size_t>(n));
  while (!a.text.empty() && (a.text.back() == '\n' || a.text.back() == ' ')) a.text.pop_back();
  return a;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

struct Kind {
  const char* prefix;
  const char* measurement;
  const char* unit;
  double scale;  // raw sysfs value * scale = SI value
};

// Documentation/hwmon/sysfs-interface.rst: temperatures in millidegrees Celsius,
// voltages in millivolts, currents in milliamperes, power in microwatts, humidity in
// milli-percent. Fan speed stays in RPM, the unit every tool and datasheet uses.
constexpr Kind kKinds[] = {
    {"temp", "temperature", "C", 1e-3}, {"fan", "fan", "rpm", 1},
    {"in", "voltage", "V", 1e-3},       {"power", "power", "W", 1e-6},
    {"curr", "current", "A", 1e-3},     {"humidity", "humidity", "%", 1e-3},
};

std::vector<fs::path> sorted_entries(const fs::path& dir, std::string_view prefix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(prefix, 0) == 0) out.push_back(it->path());
  // hwmon10 after hwmon9: numeric order, not text order.
  std::sort(out.begin(), out.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) {
      return parse_int(p.filename().string().substr(prefix.size())).value_or(0);
    };
    return num(a) < num(b);
  });
  return out;
}

class Scanner {
 public:
  Scanner(HwmonScan& out, int64_t now_ms) : out_(out), now_ms_(now_ms) {}

  void hwmon(const fs::path& class_dir) {
    auto chips = sorted_entries(class_dir, "hwmon");
    // Device names repeat (two NVMe drives are both "nvme"); the chip's bus address
    // (the basename of its `device` link) or hwmonN tells them apart.
    std::map<std::string, int> name_count;
    std::vector<std::pair<fs::path, std::string>> named;
    for (const auto& chip : chips) {
      Attr name = read_attr(chip / "name");
      std::string n = name.state == Attr::State::kOk && !name.text.empty()
                          ? name.text
                          : chip.filename().string();
      ++name_count[n];
      named.emplace_back(chip, n);
    }
    for (const auto& [chip, name] : named) {
      std::string device = name;
      if (name_count[name] > 1) {
        std::error_code ec;
        fs::path target = fs::read_symlink(chip / "device", ec);
        device += "-" + (ec ? chip.filename().string() : target.filename().string());
      }
      ++out_.chips;
      chip_channels(chip, device);
    }
  }

  void thermal(const fs::path& class_dir) {
    for (const auto& zone : sorted_entries(class_dir, "thermal_zone")) {
      ++out_.chips;
      std::string device = zone.filename().string();
      Attr temp = read_attr(zone / "temp");
      if (temp.state == Attr::State::kMissing) continue;
      Reading r = base("temperature", "C", device, device + "/temp");
      r.label = read_attr(zone / "type").text;
      if (!value_from(temp, zone / "temp", 1e-3, r.value)) continue;
      // Trip points: the critical one is the shutdown temperature, "hot" the warning.
      for (int i = 0; i < 32; ++i) {
        std::string p = "trip_point_" + std::to_string(i) + "_";
        Attr type = read_attr(zone / (p + "type"));
        if (type.state != Attr::State::kOk) break;
        auto t = optional_value(zone / (p + "temp"), 1e-3);
        if (!t || *t <= 0) continue;
        if (type.text == "critical") r.crit = t;
        if (type.text == "hot") r.max = t;
      }
      if (r.crit && r.value >= *r.crit) r.status = "alarm";
      out_.readings.push_back(std::move(r));
    }
  }

 private:
  Reading base(const char* measurement, const char* unit, const std::string& device,
               const std::string& sensor) const {
    Reading r;
    r.ts_ms = now_ms_;
    r.measurement = measurement;
    r.unit = unit;
    r.device = device;
    r.sensor = sensor;
    return r;
  }

  bool value_from(const Attr& a, const fs::path& path, double scale, double& out) {
    if (a.state == Attr::State::kError) {
      out_.errors.push_back({path.string(), a.error});
      return false;
    }
    auto v = parse_int(a.text);
    if (!v) {
      out_.errors.push_back({path.string(), "not a number: \"" + a.text.substr(0, 40) + "\""});
      return false;
    }
    out = static_cast<double>(*v) * scale;
    return true;
  }

  // Limits and flags are optional: unreadable ones are left out, not errors.
  static std::optional<double> optional_value(const fs::path& path, double scale) {
    Attr a = read_attr(path);
    if (a.state != Attr::State::kOk) return std::nullopt;
    auto v = parse_int(a.text);
    if (!v) return std::nullopt;
    return static_cast<double>(*v) * scale;
  }
  static bool flag(const fs::path& path) {
    auto v = optional_value(path, 1);
    return v && *v != 0;
  }

  void chip_channels(const fs::path& chip, const std::string& device) {
    static const std::regex kInput(R"((temp|fan|in|power|curr|humidity)(\d+)_(input|average))");
    // (kind, channel) -> the attribute holding the value; _input wins over _average.
    std::map<std::pair<std::string, int64_t>, std::string> channels;
    std::error_code ec;
    for (fs::directory_iterator it(chip, ec), end; !ec && it != end; it.increment(ec)) {
      std::string f = it->path().filename().string();
      std::smatch m;
      if (!std::regex_match(f, m, kInput)) continue;
      auto key = std::make_pair(m[1].str(), parse_int(m[2].str()).value_or(0));
      auto& slot = channels[key];
      if (slot.empty() || m[3] == "input") slot = f;
    }
    for (const auto& [key, attr] : channels) {
      const auto& [prefix, index] = key;
      const Kind* kind = nullptr;
      for (const auto& k : kKinds)
        if (prefix == k.prefix) kind = &k;
      std::string ch = prefix + std::to_string(index);
      Reading r = base(kind->measurement, kind->unit, device, device + "/" + ch);
      Attr label = read_attr(chip / (ch + "_label"));
      if (label.state == Attr::State::kOk) r.label = label.text;
      if (!value_from(read_attr(chip / attr), chip / attr, kind->scale, r.value)) continue;
      r.min = optional_value(chip / (ch + "_min"), kind->scale);
      r.max = optional_value(chip / (ch + "_max"), kind->scale);
      r.crit = optional_value(chip / (ch + "_crit"), kind->scale);
      if (flag(chip / (ch + "_fault"))) {
        r.status = "fault";
      } else if (flag(chip / (ch + "_alarm")) || flag(chip / (ch + "_crit_alarm")) ||
                 flag(chip / (ch + "_max_alarm")) || flag(chip / (ch + "_min_alarm")) ||
                 (r.crit && r.value >= *r.crit)) {
        r.status = "alarm";
      }
      out_.readings.push_back(std::move(r));
    }
  }

  HwmonScan& out_;
  int64_t now_ms_;
};

}  // namespace

HwmonScan read_hwmon(const std::string& root, int64_t now_ms) {
  HwmonScan out;
  Scanner s(out, now_ms);
  fs::path base(root);
  s.hwmon(base / "class/hwmon");
  s.thermal(base / "class/thermal");
  return out;
}

}  // namespace ferry::sensors
