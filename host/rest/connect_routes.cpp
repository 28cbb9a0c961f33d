#include "rest/connect_routes.hpp"

#include <charconv>
#include <set>
#include <span>

#include <fmt/format.h>

#include "config/options.hpp"
#include "plugins/plugin_catalog.hpp"
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

// Connect sends strings; the schema says what each option really is.
std::optional<toml::table> to_toml(std::span<const ferry_option> schema, const json& config,
                                   const std::set<std::string>& skipped) {
  toml::table t;
  for (const auto& [key, value] : config.items()) {
    if (skipped.contains(key) || key.starts_with("errors.") || key.starts_with("kafka.") ||
        key.starts_with("transforms") || key.starts_with("span."))
      continue;
    const ferry_option* opt = nullptr;
    for (const auto& o : schema)
      if (key == o.name) opt = &o;
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (opt == nullptr || value.is_null()) {
      t.insert(key, text);
      continue;
    }
    switch (opt->type) {
      case FERRY_OPT_INT: {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc() && end == text.data() + text.size()) {
          t.insert(key, n);
        } else {
          t.insert(key, text);  // reported as "expected an integer"
        }
        break;
      }
      case FERRY_OPT_FLOAT: {
        char* end = nullptr;
        double d = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) {
          t.insert(key, d);
        } else {
          t.insert(key, text);
        }
        break;
      }
      case FERRY_OPT_BOOL:
        if (text == "true" || text == "false") {
          t.insert(key, text == "true");
        } else {
          t.insert(key, text);
        }
        break;
      case FERRY_OPT_STRING_LIST: {
        toml::array a;
        if (value.is_array()) {
          for (const auto& item : value)
            a.push_back(item.is_string() ? item.get<std::string>() : item.dump());
        } else {
          size_t start = 0;
          while (start <= text.size() && !text.empty()) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            a.push_back(text.substr(start, comma - start));
            start = comma + 1;
          }
        }
        t.insert(key, std::move(a));
        break;
      }
      default:
        t.insert(key, text);
    }
  }
  return t;
}

std::string quoted_key(const std::string& message) {
  auto q = message.find("key \"");
  if (q == std::string::npos) return {};
  auto start = q + 5;
  auto end = message.find('"', start);
  return end == std::string::npos ? std::string() : message.substr(start, end - start);
}

}  // namespace

json validate_connect_config(const ferry_plugin& plugin, const json& config) {
  static const std::set<std::string> kFramework{"name",
                                                "connector.class",
                                                "tasks.max",
                                                "topic",
                                                "topics",
                                                "topics.regex",
                                                "file",
                                                "key.converter",
                                                "value.converter",
                                                "header.converter",
                                                "predicates"};
  std::span<const ferry_option> schema(plugin.options, plugin.option_count);
  auto table = to_toml(schema, config, kFramework);
  config::Diagnostics diags;
  config::Options values = config::validate_options(&*table, schema, "<request>", "", diags);
  if (diags.empty() && plugin.validate != nullptr) {
    config::AbiConfig abi(values);
    ferry_error err{};
    if (plugin.validate(abi.data(), abi.size(), &err) != FERRY_OK)
      diags.add_file("<request>", err.message);
  }
  // Each problem goes to the option it names; the rest to connector.class, as Connect
  // does for connector-level problems.
  std::map<std::string, std::vector<std::string>> errors;
  for (const auto& d : diags.items()) {
    std::string key = quoted_key(d.message);
    for (const auto& o : schema)
      if (key.empty() && d.message.starts_with(std::string(o.name) + ": ")) key = o.name;
    if (key.empty()) key = "connector.class";
    errors[key].push_back(d.message);
  }
  json configs = json::array();
  auto value_of = [&](const std::string& name) -> json {
    if (config.contains(name)) {
      const auto& v = config[name];
      return v.is_string() || v.is_null() ? v : json(v.dump());
    }
    return nullptr;
  };
  auto entry = [&](const std::string& name, const char* type, bool required, json default_value,
                   const char* doc, bool secret) {
    json value = value_of(name);
    if (secret && value.is_string()) value = "********";
    configs.push_back({{"definition",
                        {{"name", name},
                         {"type", type},
                         {"required", required},
                         {"default_value", std::move(default_value)},
                         {"importance", required ? "HIGH" : "MEDIUM"},
                         {"documentation", doc ? doc : ""},
                         {"group", name == "connector.class" ? "Common" : "Plugin"},
                         {"width", "NONE"},
                         {"display_name", name},
                         {"dependents", json::array()},
                         {"order", static_cast<int>(configs.size()) + 1}}},
                       {"value",
                        {{"name", name},
                         {"value", std::move(value)},
                         {"recommended_values", json::array()},
                         {"errors", errors.contains(name) ? json(errors[name]) : json::array()},
                         {"visible", true}}}});
    errors.erase(name);
  };
  entry("connector.class", "STRING", true, nullptr, "The ferry plugin name", false);
  for (const auto& o : schema) {
    const char* type = "STRING";
    switch (o.type) {
      case FERRY_OPT_INT:
      case FERRY_OPT_DURATION:
      case FERRY_OPT_SIZE:
        type = o.type == FERRY_OPT_INT ? "LONG" : "STRING";
        break;
      case FERRY_OPT_FLOAT:
        type = "DOUBLE";
        break;
      case FERRY_OPT_BOOL:
        type = "BOOLEAN";
        break;
      case FERRY_OPT_STRING_LIST:
        type = "LIST";
        break;
      default:
        break;
    }
    if ((o.flags & FERRY_OPT_SECRET) != 0) type = "PASSWORD";
    entry(o.name, type, (o.flags & FERRY_OPT_REQUIRED) != 0,
          o.default_value ? json(o.default_value) : json(nullptr), o.doc,
          (o.flags & FERRY_OPT_SECRET) != 0);
  }
  for (auto& [name, messages] : errors)  // unknown keys
    entry(name, "STRING", false, nullptr, "not an option of this plugin", false);
  int error_count = 0;
  for (const auto& c : configs) error_count += static_cast<int>(c["value"]["errors"].size());
  return {{"name", plugin.name},
          {"error_count", error_count},
          {"groups", json::array({"Common", "Plugin"})},
          {"configs", std::move(configs)}};
}

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
      if (auto err = op(c)) return Reply::error(500, *err);
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
    return Reply{200, validate_connect_config(*p->descriptor, body)};
  });
}

}  // namespace ferry::rest
