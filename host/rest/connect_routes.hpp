// The Kafka Connect REST API over ferry's connectors: the same paths, JSON shapes and
// status codes, so Connect's tooling (kcctl, UIs, scripts using curl) works against
// ferry. Connector configurations are files in connectors_dir here, so the calls that
// would create, change or delete one answer 405 with a pointer to the file instead.
#pragma once

#include <nlohmann/json.hpp>

#include "ferry/abi.h"
#include "rest/rest_server.hpp"

namespace ferry::runtime {
class Worker;
}
namespace ferry::loader {
class PluginCatalog;
}

namespace ferry::rest {

void add_connect_routes(RestServer& server, runtime::Worker& worker);

}  // namespace ferry::rest
