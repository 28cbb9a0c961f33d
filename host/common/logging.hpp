// Log lines go to stderr (journald under systemd), one event per line, each tagged
// with its component: "worker", or "<connector>/<task>" for task lines.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

namespace ferry::logging {

// Sets the level ("trace".."error") and format ("text" | "json") for every logger.
void configure(const std::string& level, const std::string& format);
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Every logger by name with its level ("info", ...), for GET /admin/loggers.
std::map<std::string, std::string> levels();

// Sets the level of `component` and everything under it ("app-logs" covers
// "app-logs/0"; "root" covers all), now and for loggers created later (a restarted
// task). Returns the names changed; nullopt when `level` is not a level name.
std::optional<std::vector<std::string>> set_level(const std::string& component,
                                                  const std::string& level);

}  // namespace ferry::logging
