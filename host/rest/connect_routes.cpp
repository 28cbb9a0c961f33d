#include "rest/connect_routes.hpp"

#include <fmt/format.h>

#include "config/connect_validation.hpp"
#include "config/options.hpp"
#include "loader/plugin_catalog.hpp"
#include "runtime/worker.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::rest {
namespace {

using nlohmann::json;
using runtime::Connector;
using runtime::Worker;

const char* kind_name(ferry_plugin_kind k) {
  return k == FERRY_KIND_SOURCE ? "source" : k == FERRY_KIND_SINK ? "sink" : "transformation";
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// Connect's configs are flat string maps; ferry's [config] options keep their names.
json flat_config(const config::ConnectorConfig& c) {
  json j = json::object();
  j["name"] = c.name;
  j["connector.class"] = c.plugin;
  j["tasks.max"] = std::to_string(c.tasks);
  if (c.descriptor->kind == FERRY_KIND_SOURCE) {
    j["topic"] = c.topic;
  } else {
    j["topics"] = joined(c.topics);
  }
  j["file"] = c.path;
  const json options = c.config.to_json(/*mask_secrets=*/true);  // items() does not own it
  for (const auto& [name, value] : options.items())
    j[name] = value.is_array() ? json(joined(value.get<std::vector<std::string>>())) : value;
  if (c.errors.has("tolerance")) j["errors.tolerance"] = c.errors.str("tolerance");
  if (!c.dead_letter_topic().empty())
    j["errors.deadletterqueue.topic.name"] = c.dead_letter_topic();
  for (const auto& [k, v] : c.kafka)
    j["kafka." + k] = config::is_secret_property(k) ? "********" : v;
  return j;
}

json status_json(const Connector& c, const std::string& worker_id) {
  auto s = c.status();
  json tasks = json::array();
  for (const auto& t : s.tasks) {
    json tj = {{"id", t.id}, {"state", t.state}, {"worker_id", worker_id}};
    if (!t.trace.empty()) tj["trace"] = t.trace;
    tasks.push_back(std::move(tj));
  }
  return {{"name", c.config().name},
          {"connector", {{"state", s.state}, {"worker_id", worker_id}}},
          {"tasks", std::move(tasks)},
          {"type", kind_name(c.config().descriptor->kind)}};
}

json tasks_ids(const Connector& c) {
  json tasks = json::array();
  for (const auto& t : c.status().tasks)
    tasks.push_back({{"connector", c.config().name}, {"task", t.id}});
  return tasks;
}

json info_json(const Connector& c) {
  return {{"name", c.config().name},
          {"config", flat_config(c.config())},
          {"tasks", tasks_ids(c)},
          {"type", kind_name(c.config().descriptor->kind)}};
}

Reply not_found(const std::string& name) {
  return Reply::error(404, "Connector " + name + " not found");
}

bool flag(const Request& req, const std::string& name) {
  return req.param(name) == "true";
}

}  // namespace

// One short lambda per route, in Connect's order: long because it is the route table,
// which reads best in one place; the work is in the helpers above and in Worker.
void add_connect_routes(RestServer& server, Worker& worker) {
  Worker* w = &worker;
  server.get(R"(/)", [](const Request&) {
    return Reply{200,
                 {{"version", FERRY_VERSION},
                  {"commit", ""},
                  {"kafka_cluster_id", ""},
                  {"product", "ferry"}}};
  });

  server.get(R"(/connectors/?)", [w](const Request& req) {
    std::string expand;
    // expand may repeat (?expand=status&expand=info); httplib keeps one per key in
    // params, so both are looked for in the raw value too.
    for (const auto& [k, v] : req.params)
      if (k == "expand") expand += v + ",";
    bool status = expand.find("status") != std::string::npos;
    bool info = expand.find("info") != std::string::npos;
    auto names = w->connector_names();
    if (!status && !info) return Reply{200, json(names)};
    json out = json::object();
    for (const auto& n : names) {
      w->with_connector(n, [&](Connector& c) {
        json entry = json::object();
        if (status) entry["status"] = status_json(c, w->worker_id());
        if (info) entry["info"] = info_json(c);
        out[n] = std::move(entry);
      });
    }
    return Reply{200, std::move(out)};
  });

  auto read_only = [](const Request&) {
    return Reply::error(405,
                        "ferry's connectors are files: add, change or remove a file in "
                        "connectors_dir and call POST /reload (or send SIGHUP)");
  };
  server.post(R"(/connectors/?)", read_only);
  server.put(R"(/connectors/([^/]+)/config)", read_only);
  server.del(R"(/connectors/([^/]+)/?)", read_only);

  auto on_connector = [w](const std::string& name, auto&& fn) -> Reply {
    Reply reply;
    if (!w->with_connector(name, [&](Connector& c) { reply = fn(c); })) return not_found(name);
    return reply;
  };

  server.get(R"(/connectors/([^/]+)/?)", [on_connector](const Request& req) {
    return on_connector(req.captures[0], [](Connector& c) { return Reply{200, info_json(c)}; });
  });
  server.get(R"(/connectors/([^/]+)/config)", [on_connector](const Request& req) {
    return on_connector(req.captures[0], [](Connector& c) {
      return Reply{200, flat_config(c.config())};
    });
  });
  server.get(R"(/connectors/([^/]+)/status)", [on_connector, w](const Request& req) {
    return on_connector(req.captures[0], [w](Connector& c) {
      return Reply{200, status_json(c, w->worker_id())};
    });
  });
  server.get(R"(/connectors/([^/]+)/tasks/?)", [on_connector](const Request& req) {
    return on_connector(req.captures[0], [](Connector& c) {
      json out = json::array();
      for (const auto& t : c.status().tasks)
        out.push_back({{"id", {{"connector", c.config().name}, {"task", t.id}}},
                       {"config", flat_config(c.config())}});
      return Reply{200, std::move(out)};
    });
  });
  server.get(R"(/connectors/([^/]+)/tasks/(\d+)/status)", [on_connector, w](const Request& req) {
    uint32_t id = static_cast<uint32_t>(std::stoul(req.captures[1]));
    return on_connector(req.captures[0], [&](Connector& c) {
      for (const auto& t : c.status().tasks) {
        if (t.id != id) continue;
        json tj = {{"id", t.id}, {"state", t.state}, {"worker_id", w->worker_id()}};
        if (!t.trace.empty()) tj["trace"] = t.trace;
        return Reply{200, std::move(tj)};
      }
      return Reply::error(404, fmt::format("Task {}-{} not found", c.config().name, id));
    });
  });

  auto state_change = [on_connector](const Request& req, int ok_status, auto&& op) {
    return on_connector(req.captures[0], [&](Connector& c) {
      if (Status s = op(c); !s.ok()) return Reply::error(500, s.message());
      Reply r;
      r.status = ok_status;
      return r;
    });
  };
  server.put(R"(/connectors/([^/]+)/pause)", [state_change](const Request& req) {
    return state_change(req, 202, [](Connector& c) { return c.pause(); });
  });
  server.put(R"(/connectors/([^/]+)/resume)", [state_change](const Request& req) {
    return state_change(req, 202, [](Connector& c) { return c.resume(); });
  });
  server.put(R"(/connectors/([^/]+)/stop)", [state_change](const Request& req) {
    return state_change(req, 204, [](Connector& c) { return c.stop_tasks(); });
  });

  server.post(R"(/connectors/([^/]+)/restart)", [on_connector, w](const Request& req) {
    bool include_tasks = flag(req, "includeTasks");
    bool only_failed = flag(req, "onlyFailed");
    return on_connector(req.captures[0], [&](Connector& c) {
      // ferry has no connector instance apart from its tasks: restarting "the
      // connector" alone has nothing to do, as in Connect it answers 204.
      if (!include_tasks) {
        Reply r;
        r.status = 204;
        return r;
      }
      c.restart_tasks(only_failed);
      return Reply{202, status_json(c, w->worker_id())};
    });
  });
  server.post(R"(/connectors/([^/]+)/tasks/(\d+)/restart)", [on_connector](const Request& req) {
    uint32_t id = static_cast<uint32_t>(std::stoul(req.captures[1]));
    return on_connector(req.captures[0], [&](Connector& c) {
      if (!c.restart_task(id))
        return Reply::error(404, fmt::format("Task {}-{} not found", c.config().name, id));
      Reply r;
      r.status = 204;
      return r;
    });
  });

  server.get(R"(/connector-plugins/?)", [w](const Request&) {
    json out = json::array();
    for (const auto& p : w->catalog().plugins())
      out.push_back({{"class", p.descriptor->name},
                     {"type", kind_name(p.descriptor->kind)},
                     {"version", p.descriptor->version ? p.descriptor->version : ""}});
    return Reply{200, std::move(out)};
  });
  server.put(R"(/connector-plugins/([^/]+)/config/validate/?)", [w](const Request& req) {
    const auto* p = w->catalog().find(req.captures[0]);
    if (p == nullptr) return Reply::error(404, "Plugin " + req.captures[0] + " not found");
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return Reply::error(400, "the body must be a JSON object of configs");
    return Reply{200, config::validate_connect_config(*p->descriptor, body)};
  });
}

}  // namespace ferry::rest
