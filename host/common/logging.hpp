// Log lines go to stderr (journald under systemd), one event per line, each tagged
// with its component: "worker", or "<connector>/<task>" for task lines.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace ferry::logging {

// Sets the level ("trace".."error") and format ("text" | "json") for every logger.
void configure(const std::string& level, const std::string& format);
std::shared_ptr<spdlog::logger> get(const std::string& component);

}  // namespace ferry::logging
