// How the command line talks to a running ferry: the REST address from the worker
// file (or the address a host on port 0 wrote to its state dir), its bearer token,
// and Connect-style error bodies turned into a message and an exit code.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/worker_config.hpp"

namespace ferry::cli {

// "http://host:port", or empty when the worker file names no reachable address.
std::string rest_url(const config::WorkerConfig& w);

// Calls METHOD path; `out` gets the reply body (JSON, or null for 204). Returns 0 for
// a 2xx reply, 1 for 400/404 (usage, no such connector), 2 when the host cannot be
// reached or fails. Errors are written to stderr.
int rest_call(const config::WorkerConfig& w, const std::string& url_flag, const std::string& method,
              const std::string& path, nlohmann::json& out);

std::string first_line(const std::filesystem::path& p);

}  // namespace ferry::cli
