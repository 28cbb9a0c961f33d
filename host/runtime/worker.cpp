#include "runtime/worker.hpp"

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "common/logging.hpp"
#include "config/config_loader.hpp"
#include "transforms/transform.hpp"

namespace ferry::runtime {

Worker::Worker(config::WorkerConfig cfg, loader::PluginCatalog& catalog,
               std::vector<std::string> named_files, config::KafkaProperties overrides,
               SpanServices spans)
    : cfg_(std::move(cfg)),
      catalog_(catalog),
      named_files_(std::move(named_files)),
      overrides_(std::move(overrides)),
      spans_(spans),
      worker_id_(cfg_.host_id),
      log_(logging::get("worker")) {}

Worker::~Worker() {
  stop_all();
}

bool Worker::start_connector(config::ConnectorConfig cfg, std::string* error_out) {
  std::string name = cfg.name, error;
  auto c = Connector::create(std::move(cfg), cfg_, overrides_, metrics_, spans_, error);
  if (!c) {
    log_->error("connector {} not started: {}", name, error);
    if (error_out != nullptr) *error_out = "connector " + name + " not started: " + error;
    return false;
  }
  log_->info("starting connector {} (plugin {}, {} task(s))", name, c->config().plugin,
             c->config().tasks);
  c->start();
  connectors_[name] = std::move(c);
  update_sink_groups();
  return true;
}

void Worker::stop_connector(const std::string& name) {
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return;
  log_->info("stopping connector {}", name);
  it->second->request_stop();
  it->second->join();
  connectors_.erase(it);
  metrics_.remove_connector(name);
  update_sink_groups();
}

void Worker::update_sink_groups() {
  if (spans_.tracker == nullptr) return;
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [name, c] : connectors_)
    if (c->config().descriptor->kind == FERRY_KIND_SINK)
      groups["ferry-" + name] = c->config().topics;
  spans_.tracker->set_sink_groups(std::move(groups));
}

void Worker::stop_all() {
  std::lock_guard lock(mu_);
  for (auto& [name, c] : connectors_) c->request_stop();  // all drain in parallel
  for (auto& [name, c] : connectors_) c->join();
  connectors_.clear();
}

Worker::ReloadResult Worker::reload() {
  std::lock_guard lock(mu_);
  log_->info("reloading connector files");
  ReloadResult result;
  config::Diagnostics diags;
  auto files = config::connector_files(cfg_, named_files_, diags);
  auto loaded = config::load_connectors(files, catalog_, transforms::transform_schemas(), diags);
  for (const auto& d : diags.items()) {
    log_->error("reload: {} (the running version, if any, keeps running)", d.str());
    result.errors.push_back(d.str());
  }
  std::set<std::string> wanted;
  std::set<std::string> bad_paths;
  for (const auto& d : diags.items()) bad_paths.insert(d.path);
  for (auto& cfg : loaded) {
    wanted.insert(cfg.name);
    auto it = connectors_.find(cfg.name);
    if (it != connectors_.end() && it->second->config().content_hash == cfg.content_hash &&
        it->second->config().path == cfg.path)
      continue;
    bool existed = it != connectors_.end();
    if (existed) stop_connector(cfg.name);
    std::string name = cfg.name, error;
    if (start_connector(std::move(cfg), &error)) {
      (existed ? result.restarted : result.started).push_back(name);
    } else {
      result.errors.push_back(error);
      if (existed) result.stopped.push_back(name);
    }
  }
  std::vector<std::string> gone;
  for (const auto& [name, c] : connectors_) {
    // A file that is now invalid keeps its old connector running.
    if (!wanted.contains(name) && !bad_paths.contains(c->config().path)) gone.push_back(name);
  }
  for (const auto& name : gone) {
    stop_connector(name);
    result.stopped.push_back(name);
  }
  return result;
}

Worker::Counts Worker::counts() const {
  std::lock_guard lock(mu_);
  Counts n;
  n.connectors = connectors_.size();
  for (const auto& [name, c] : connectors_) {
    auto s = c->status();
    if (s.state == "STOPPED") ++n.stopped_connectors;
    for (const auto& t : s.tasks) {
      if (t.state == "RUNNING") ++n.running;
      if (t.state == "FAILED") ++n.failed;
      if (t.state == "PAUSED") ++n.paused;
    }
  }
  return n;
}

std::string Worker::status_line() const {
  Counts n = counts();
  std::string line = fmt::format("{} connector(s): {} task(s) running", n.connectors, n.running);
  if (n.failed > 0) line += fmt::format(", {} FAILED", n.failed);
  if (n.paused > 0) line += fmt::format(", {} paused", n.paused);
  if (n.stopped_connectors > 0)
    line += fmt::format(", {} connector(s) stopped", n.stopped_connectors);
  return line;
}

std::vector<std::string> Worker::connector_names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, c] : connectors_) names.push_back(name);
  return names;
}

bool Worker::with_connector(const std::string& name, const std::function<void(Connector&)>& fn) {
  std::lock_guard lock(mu_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return false;
  fn(*it->second);
  return true;
}

size_t Worker::start(std::vector<config::ConnectorConfig> connectors) {
  std::lock_guard lock(mu_);
  for (auto& c : connectors) start_connector(std::move(c));
  return connectors_.size();
}

}  // namespace ferry::runtime
