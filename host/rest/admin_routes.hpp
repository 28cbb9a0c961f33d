// Operator routes besides Connect's: GET /health (liveness and readiness), POST
// /reload, and Connect's GET/PUT /admin/loggers over ferry's per-component loggers.
#pragma once

#include "rest/rest_server.hpp"

namespace ferry::runtime {
class Worker;
}

namespace ferry::rest {

void add_admin_routes(RestServer& server, runtime::Worker& worker);

}  // namespace ferry::rest
