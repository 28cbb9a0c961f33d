// ferry's command line. Exit codes: 0 ok, 1 config/usage error, 2 runtime failure.
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/connectors_command.hpp"
#include "cli/plugin_docs.hpp"
#include "cli/spans_command.hpp"
#include "common/logging.hpp"
#include "common/state_dir_lock.hpp"
#include "config/config_loader.hpp"
#include "ferry/abi.h"
#include "service/ferry_service.hpp"
#include "transforms/transform.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace {

using namespace ferry;

struct Loaded {
  config::WorkerConfig worker;
  loader::PluginCatalog catalog;
  std::vector<config::ConnectorConfig> connectors;
  config::Diagnostics diags;
};

void load(const std::string& worker_flag, const std::vector<std::string>& files, Loaded& out) {
  std::string path = config::resolve_worker_path(worker_flag);
  out.worker = config::load_worker_config(path, out.diags);
  logging::configure(out.worker.log_level, out.worker.log_format);
  for (const auto& [component, level] : out.worker.log_levels) logging::set_level(component, level);
  config::load_plugins(out.worker, out.catalog);
  auto paths = config::connector_files(out.worker, files, out.diags);
  out.connectors =
      config::load_connectors(paths, out.catalog, transforms::transform_schemas(), out.diags);
}

void print_problems(const Loaded& l) {
  for (const auto& p : l.catalog.problems()) std::cerr << "warning: " << p << "\n";
  std::cerr << l.diags.str();
}

int cmd_validate(const std::string& worker_flag, const std::vector<std::string>& files) {
  Loaded l;
  load(worker_flag, files, l);
  print_problems(l);
  if (!l.diags.empty()) {
    std::cerr << fmt::format("{} error(s)\n", l.diags.items().size());
    return 1;
  }
  std::cout << fmt::format("ok: worker {} and {} connector(s) are valid\n",
                           l.worker.path.empty() ? "(defaults)" : l.worker.path,
                           l.connectors.size());
  for (const auto& c : l.connectors)
    std::cout << fmt::format("  {} ({}) from {}\n", c.name, c.plugin, c.path);
  return 0;
}

int cmd_run(const std::string& worker_flag, const std::vector<std::string>& files) {
  service::FerryService::block_signals();
  Loaded l;
  load(worker_flag, files, l);
  auto log = logging::get("worker");
  for (const auto& p : l.catalog.problems()) log->warn("{}", p);
  if (!l.diags.empty()) {
    for (const auto& d : l.diags.items()) log->error("{}", d.str());
    log->error("not starting: {} config error(s)", l.diags.items().size());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(l.worker.state_dir, ec);
  if (ec) {
    log->critical("cannot create state_dir {}: {}", l.worker.state_dir.string(), ec.message());
    return 2;
  }
  std::string lock_error;
  auto lock = StateDirLock::acquire(l.worker.state_dir, lock_error);
  if (!lock) {
    log->critical("{}", lock_error);
    return 2;
  }
  service::FerryService ferry(l.worker, l.catalog, files);
  return ferry.run(std::move(l.connectors));
}

int cmd_plugins(const std::string& worker_flag, bool json, const std::string& describe,
                bool markdown) {
  Loaded l;
  std::string path = config::resolve_worker_path(worker_flag);
  l.worker = config::load_worker_config(path, l.diags);
  config::load_plugins(l.worker, l.catalog);
  for (const auto& p : l.catalog.problems()) std::cerr << "warning: " << p << "\n";
  if (!describe.empty()) {
    const auto* p = l.catalog.find(describe);
    if (p == nullptr) {
      std::cerr << fmt::format("unknown plugin \"{}\" (installed: {})\n", describe,
                               fmt::join(l.catalog.names(), ", "));
      return 1;
    }
    if (json)
      std::cout << cli::plugin_json(*p, true).dump(2) << "\n";
    else if (markdown)
      std::cout << cli::plugin_markdown(*p);
    else
      std::cout << cli::plugin_text(*p);
    return 0;
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : l.catalog.plugins()) arr.push_back(cli::plugin_json(p, false));
    std::cout << arr.dump(2) << "\n";
    return 0;
  }
  for (const auto& p : l.catalog.plugins())
    std::cout << fmt::format("{:<16} {:<7} {:<8} {}\n", p.descriptor->name,
                             cli::kind_name(p.descriptor->kind), p.descriptor->version,
                             p.descriptor->description);
  return 0;
}

}  // namespace

// The command-line table (CLI11 subcommands and their flags); each command's work is
// in its cmd_* function above.
int main(int argc, char** argv) {
  CLI::App app{"ferry: a native connector host for Apache Kafka"};
  app.require_subcommand(1);
  std::string worker_flag;
  std::vector<std::string> files;

  auto* run = app.add_subcommand("run", "Run the host in the foreground");
  run->add_option("-c,--config", worker_flag, "Worker file (default: $FERRY_CONFIG)");
  run->add_option("connectors", files, "Connector files to run besides connectors_dir");

  auto* validate = app.add_subcommand("validate", "Check config files; exit 0 or 1");
  validate->add_option("-c,--config", worker_flag, "Worker file (default: $FERRY_CONFIG)");
  validate->add_option("connectors", files, "Connector files to check besides connectors_dir");

  bool json = false, markdown = false;
  std::string describe_name;
  auto* plugins = app.add_subcommand("plugins", "List discovered plugins");
  plugins->add_option("-c,--config", worker_flag, "Worker file (for plugin_path)");
  plugins->add_flag("--json", json, "JSON output");
  auto* describe = plugins->add_subcommand("describe", "A plugin's config schema and docs");
  describe->add_option("name", describe_name, "Plugin name")->required();
  describe->add_flag("--json", json, "JSON output");
  describe->add_flag("--markdown", markdown, "Markdown output");

  cli::SpansArgs spans_args;
  auto* spans = app.add_subcommand("spans", "Span status (REST API) or live span events");
  spans->require_subcommand(1);
  spans->add_option("-c,--config", worker_flag, "Worker file (default: $FERRY_CONFIG)");
  spans->add_option("--url", spans_args.url, "REST API address (default: from the worker file)");
  auto* spans_get = spans->add_subcommand("get", "One span: state, offsets, completions");
  spans_get->add_option("id", spans_args.id, "Span id")->required();
  auto* spans_list = spans->add_subcommand("list", "Spans known to the host");
  spans_list->add_option("--state", spans_args.state, "open|delivered|completed|failed|expired")
      ->check(CLI::IsMember({"open", "delivered", "completed", "failed", "expired"}));
  spans_list->add_flag("--json", spans_args.json, "JSON output");
  auto* spans_watch = spans->add_subcommand("watch", "Print span events as they happen");
  // -c/--url may also follow the action: `ferry spans list -c ferry.toml`.
  for (auto* sub : {spans_get, spans_list, spans_watch}) sub->fallthrough();
  spans_watch->add_flag("--from-beginning", spans_args.from_beginning,
                        "Start at the oldest event in the span topic");

  cli::ConnectorsArgs conn_args;
  auto* connectors =
      app.add_subcommand("connectors", "Connector status and control (REST API of a running host)");
  connectors->require_subcommand(1);
  connectors->add_option("-c,--config", worker_flag, "Worker file (default: $FERRY_CONFIG)");
  connectors->add_option("--url", conn_args.url,
                         "REST API address (default: from the worker file)");
  auto* conn_list = connectors->add_subcommand("list", "Every connector with its state");
  conn_list->add_flag("--json", conn_args.json, "JSON output");
  std::vector<CLI::App*> conn_actions{conn_list};
  for (const char* action : {"status", "pause", "resume", "stop", "restart"}) {
    auto* sub = connectors->add_subcommand(action, std::string(action) + " one connector");
    sub->add_option("name", conn_args.name, "Connector name")->required();
    if (std::string(action) == "status") sub->add_flag("--json", conn_args.json, "JSON output");
    if (std::string(action) == "restart")
      sub->add_flag("--only-failed", conn_args.only_failed, "Restart only FAILED tasks");
    conn_actions.push_back(sub);
  }
  for (auto* sub : conn_actions) sub->fallthrough();

  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  try {
    if (*run) return cmd_run(worker_flag, files);
    if (*validate) return cmd_validate(worker_flag, files);
    if (*plugins) return cmd_plugins(worker_flag, json, describe_name, markdown);
    if (*spans) {
      spans_args.action = *spans_get ? "get" : *spans_list ? "list" : "watch";
      return cli::cmd_spans(config::resolve_worker_path(worker_flag), spans_args);
    }
    if (*connectors) {
      for (auto* sub : conn_actions)
        if (*sub) conn_args.action = sub->get_name();
      return cli::cmd_connectors(config::resolve_worker_path(worker_flag), conn_args);
    }
    if (*version) {
      std::cout << fmt::format("ferry {} (plugin ABI {}.{}, librdkafka {})\n", FERRY_VERSION,
                               FERRY_ABI_VERSION_MAJOR, FERRY_ABI_VERSION_MINOR,
                               rd_kafka_version_str());
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "ferry: " << e.what() << "\n";
    return 2;
  }
  return 1;
}
