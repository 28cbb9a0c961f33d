#include "cli/connectors_command.hpp"

#include <iostream>

#include <fmt/format.h>

#include "cli/rest_call.hpp"

namespace ferry::cli {
namespace {

using nlohmann::json;

// "2/3 RUNNING, 1 FAILED" for a status body.
std::string task_summary(const json& status) {
  std::map<std::string, int> by_state;
  int total = 0;
  for (const auto& t : status.value("tasks", json::array())) {
    ++by_state[t.value("state", "?")];
    ++total;
  }
  std::string out = fmt::format("{}/{} RUNNING", by_state["RUNNING"], total);
  for (const auto& [state, n] : by_state)
    if (state != "RUNNING") out += fmt::format(", {} {}", n, state);
  return out;
}

void print_status(const json& s) {
  std::cout << fmt::format("{} ({}): {}\n", s.value("name", ""), s.value("type", ""),
                           s["connector"].value("state", ""));
  for (const auto& t : s.value("tasks", json::array())) {
    std::cout << fmt::format("  task {}: {}\n", t.value("id", 0), t.value("state", ""));
    if (t.contains("trace")) std::cout << fmt::format("    {}\n", t.value("trace", ""));
  }
}

}  // namespace

int cmd_connectors(const std::string& worker_path, const ConnectorsArgs& args) {
  config::Diagnostics diags;
  config::WorkerConfig w = config::load_worker_config(worker_path, diags);
  if (!diags.empty()) {
    std::cerr << diags.str();
    return 1;
  }
  json body;
  if (args.action == "list") {
    int rc = rest_call(w, args.url, "GET", "/connectors?expand=status", body);
    if (rc != 0) return rc;
    if (args.json) {
      std::cout << body.dump(2) << "\n";
      return 0;
    }
    std::cout << fmt::format("{:<24} {:<7} {:<8} {}\n", "CONNECTOR", "TYPE", "STATE", "TASKS");
    for (const auto& [name, entry] : body.items()) {
      const json& s = entry["status"];
      std::cout << fmt::format("{:<24} {:<7} {:<8} {}\n", name, s.value("type", ""),
                               s["connector"].value("state", ""), task_summary(s));
    }
    return 0;
  }
  const std::string base = "/connectors/" + args.name;
  if (args.action == "status") {
    int rc = rest_call(w, args.url, "GET", base + "/status", body);
    if (rc != 0) return rc;
    if (args.json) {
      std::cout << body.dump(2) << "\n";
    } else {
      print_status(body);
    }
    return 0;
  }
  int rc = 0;
  if (args.action == "restart") {
    rc = rest_call(
        w, args.url, "POST",
        base + "/restart?includeTasks=true&onlyFailed=" + (args.only_failed ? "true" : "false"),
        body);
  } else {  // pause, resume, stop
    rc = rest_call(w, args.url, "PUT", base + "/" + args.action, body);
  }
  if (rc != 0) return rc;
  // The state after the change, as `status` shows it.
  if (rest_call(w, args.url, "GET", base + "/status", body) == 0) print_status(body);
  return 0;
}

}  // namespace ferry::cli
