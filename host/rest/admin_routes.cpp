#include "rest/admin_routes.hpp"

#include <algorithm>
#include <cctype>

#include "common/logging.hpp"
#include "rest/prometheus_text.hpp"
#include "runtime/worker.hpp"

namespace ferry::rest {
namespace {

using nlohmann::json;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s == "WARNING") return "WARN";
  if (s == "CRITICAL") return "FATAL";
  return s;
}

}  // namespace

// The route table of ferry's own routes (health, metrics, loggers, reload): one short
// lambda each, kept together.
void add_admin_routes(RestServer& server, runtime::Worker& worker) {
  runtime::Worker* w = &worker;
  // Live as long as the process answers; ready once every connector was started
  // (Connect 3.9's /health answers 503 "starting" until then).
  server.get(R"(/health/?)", [w](const Request&) {
    if (!w->ready())
      return Reply{503,
                   {{"status", "starting"},
                    {"message", "Worker is still starting up (or is shutting down)."}}};
    auto n = w->counts();
    // A failed task is restarted by its supervisor: the worker itself stays healthy.
    return Reply{200,
                 {{"status", "healthy"},
                  {"message", "Worker has completed startup and is ready to handle requests."},
                  {"connectors", n.connectors},
                  {"tasks", {{"running", n.running}, {"failed", n.failed}, {"paused", n.paused}}}}};
  });

  server.get(R"(/metrics/?)", [w](const Request&) {
    MetricsSources src;
    src.registry = &w->metrics();
    for (const auto& n : w->connector_names())
      w->with_connector(n,
                        [&](runtime::Connector& c) { src.connectors.emplace_back(n, c.status()); });
    std::optional<spans::SpanTracker::Stats> spans;
    if (const auto* tracker = w->span_tracker()) {
      spans = tracker->stats();
      src.spans = &*spans;
    }
    Reply r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.text = prometheus_text(src);
    return r;
  });

  // For probes that want the two questions apart (Kubernetes style): live as long as
  // the process answers, ready once the connectors were started and until draining.
  server.get(R"(/health/live)", [](const Request&) { return Reply{200, {{"status", "alive"}}}; });
  server.get(R"(/health/ready)", [w](const Request&) {
    return w->ready() ? Reply{200, {{"status", "ready"}}} : Reply{503, {{"status", "starting"}}};
  });

  server.post(R"(/reload/?)", [w](const Request&) {
    auto r = w->reload();
    json body = {{"started", r.started},
                 {"restarted", r.restarted},
                 {"stopped", r.stopped},
                 {"errors", r.errors}};
    if (r.errors.empty()) return Reply{200, std::move(body)};
    // Connect's error shape, plus what did change, so `curl -f` fails on a bad file.
    std::string message = "some connector files are invalid; their running versions keep running:";
    for (const auto& e : r.errors) message += "\n" + e;
    body["error_code"] = 400;
    body["message"] = message;
    return Reply{400, std::move(body)};
  });

  server.get(R"(/admin/loggers/?)", [](const Request&) {
    json out = json::object();
    for (const auto& [name, level] : logging::levels()) out[name] = {{"level", upper(level)}};
    return Reply{200, std::move(out)};
  });
  server.get(R"(/admin/loggers/(.+))", [](const Request& req) {
    auto all = logging::levels();
    auto it = all.find(req.captures[0]);
    if (it == all.end()) return Reply::error(404, "Logger " + req.captures[0] + " not found");
    return Reply{200, {{"level", upper(it->second)}}};
  });
  server.put(R"(/admin/loggers/(.+))", [w](const Request& req) {
    // A level is kept per name for loggers created later, so only names of ferry's
    // components and connectors are taken: any other would be stored for ever.
    const std::string& name = req.captures[0];
    auto names = w->connector_names();
    bool known = name == "root" || std::find(names.begin(), names.end(), name) != names.end();
    for (const auto& [logger, level] : logging::levels())
      known = known || logger == name || logger.starts_with(name + "/");
    if (!known) return Reply::error(404, "Logger " + name + " not found");
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("level") || !body["level"].is_string())
      return Reply::error(400, "the body must be {\"level\": \"DEBUG\"} (or TRACE, INFO, ...)");
    auto changed = logging::set_level(req.captures[0], body["level"].get<std::string>());
    if (!changed)
      return Reply::error(400, "unknown level " + body["level"].get<std::string>() +
                                   " (TRACE, DEBUG, INFO, WARN, ERROR, FATAL or OFF)");
    return Reply{200, json(*changed)};
  });
}

}  // namespace ferry::rest
