#include "common/logging.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <ctime>

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/secrets.hpp"

namespace ferry::logging {
namespace {

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;

// One line per event, UTC with a Z so lines from several hosts sort and compare,
// secrets scrubbed. Components named "<connector>/<task>" become two JSON fields.
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto time = std::chrono::system_clock::to_time_t(msg.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&time, &tm);
    std::string ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", tm, ms);
    auto level_sv = spdlog::level::to_string_view(msg.level);
    std::string level(level_sv.data(), level_sv.size());
    std::string component(msg.logger_name.data(), msg.logger_name.size());
    std::string text = secrets::scrub(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string line;
    if (json_) {
      nlohmann::json j = {{"ts", ts}, {"level", level}, {"component", component}};
      if (auto slash = component.rfind('/'); slash != std::string::npos) {
        j["connector"] = component.substr(0, slash);
        const std::string task = component.substr(slash + 1);
        if (!task.empty() && task.find_first_not_of("0123456789") == std::string::npos)
          j["task"] = std::stoi(task);
      }
      j["msg"] = text;
      // Invalid UTF-8 in a message (a plugin quoting raw input) must not lose the line.
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = fmt::format("{} {} [{}] {}", ts, level, component, text);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  bool json_;
};

spdlog::sink_ptr shared_sink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s->set_formatter(std::make_unique<LineFormatter>(false));
    return s;
  }();
  return sink;
}

// Levels set at run time, by component prefix; applied to loggers created later.
std::map<std::string, spdlog::level::level_enum> g_overrides;

bool covers(const std::string& prefix, const std::string& name) {
  return prefix == "root" || name == prefix ||
         (name.size() > prefix.size() && name.starts_with(prefix) && name[prefix.size()] == '/');
}

spdlog::level::level_enum level_for(const std::string& name) {
  // The longest matching prefix wins, so "app-logs/0" can differ from "app-logs".
  spdlog::level::level_enum level = g_level;
  size_t best = 0;
  for (const auto& [prefix, l] : g_overrides) {
    size_t weight = prefix == "root" ? 1 : prefix.size() + 1;
    if (covers(prefix, name) && weight > best) {
      level = l;
      best = weight;
    }
  }
  return level;
}

}  // namespace

void configure(const std::string& level, const std::string& format) {
  std::lock_guard lock(g_mu);
  g_level = spdlog::level::from_str(level == "warn" ? "warning" : level);
  shared_sink()->set_formatter(std::make_unique<LineFormatter>(format == "json"));
  spdlog::apply_all(
      [](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level_for(l->name())); });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = std::make_shared<spdlog::logger>(component, shared_sink());
  logger->set_level(level_for(component));
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return logger;
}

std::map<std::string, std::string> levels() {
  std::lock_guard lock(g_mu);
  std::map<std::string, std::string> out;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    auto name = spdlog::level::to_string_view(l->level());
    out[l->name()] = std::string(name.data(), name.size());
  });
  out.erase("");  // spdlog's default logger, unused by ferry
  return out;
}

std::optional<std::vector<std::string>> set_level(const std::string& component,
                                                  const std::string& level) {
  std::string name = level;
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (name == "warn") name = "warning";
  if (name == "fatal") name = "critical";
  auto l = spdlog::level::from_str(name);
  // from_str answers "off" for anything it does not know.
  if (l == spdlog::level::off && name != "off") return std::nullopt;
  std::lock_guard lock(g_mu);
  if (component == "root") g_overrides.clear();
  std::erase_if(g_overrides, [&](const auto& kv) { return covers(component, kv.first); });
  g_overrides[component] = l;
  std::vector<std::string> changed;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& lg) {
    if (lg->name().empty() || !covers(component, lg->name())) return;
    lg->set_level(level_for(lg->name()));
    changed.push_back(lg->name());
  });
  std::sort(changed.begin(), changed.end());
  return changed;
}

}  // namespace ferry::logging
