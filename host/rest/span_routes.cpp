#include "rest/span_routes.hpp"

#include <set>

namespace ferry::rest {

void add_span_routes(RestServer& server, const spans::SpanTracker* tracker) {
  auto unavailable = [] {
    return rest::Reply::error(503, "span tracking is not running on this host ([spans] track)");
  };
  server.get(R"(/spans/([^/]+))", [tracker, unavailable](const rest::Request& req) {
    if (tracker == nullptr) return unavailable();
    auto span = tracker->get(req.captures.at(0));
    if (!span) return rest::Reply::error(404, "no span " + req.captures.at(0));
    return rest::Reply{200, *span};
  });
  server.get(R"(/spans/?)", [tracker, unavailable](const rest::Request& req) {
    static const std::set<std::string> kStates{"",          "open",   "delivered",
                                               "completed", "failed", "expired"};
    if (tracker == nullptr) return unavailable();
    auto it = req.params.find("state");
    std::string state = it == req.params.end() ? "" : it->second;
    if (!kStates.contains(state))
      return rest::Reply::error(400,
                                "state must be one of open, delivered, completed, failed, expired");
    return rest::Reply{200, nlohmann::json(tracker->list(state))};
  });
}

}  // namespace ferry::rest
