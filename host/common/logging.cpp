#include "common/logging.hpp"

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
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  shared_sink()->set_pattern(g_pattern);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace ferry::logging
