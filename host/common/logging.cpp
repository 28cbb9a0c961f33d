#include "common/logging.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ferry::logging {
namespace {

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_pattern = "%Y-%m-%dT%H:%M:%S.%e %l [%n] %v";

spdlog::sink_ptr shared_sink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
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
  g_pattern = format == "json"
                  ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","component":"%n","msg":"%v"})"
                  : "%Y-%m-%dT%H:%M:%S.%e %l [%n] %v";
  shared_sink()->set_pattern(g_pattern);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = std::make_shared<spdlog::logger>(component, shared_sink());
  logger->set_level(level_for(component));
  logger->flush_on(spdlog::level::trace);
  shared_sink()->set_pattern(g_pattern);
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
