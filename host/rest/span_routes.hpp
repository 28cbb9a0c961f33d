// GET /spans/{id} and GET /spans?state=open|delivered|completed|failed|expired.
#pragma once

#include "rest/rest_server.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::rest {

// `tracker` may be null (tracking disabled or unavailable): the routes answer 503.
void add_span_routes(RestServer& server, const spans::SpanTracker* tracker);

}  // namespace ferry::rest
