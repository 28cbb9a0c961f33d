#include "runtime/worker.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "common/logging.hpp"
#include "config/config_loader.hpp"
#include "kafka/client_config.hpp"
#include "rest/admin_routes.hpp"
#include "rest/connect_routes.hpp"
#include "runtime/service_notifier.hpp"
#include "spans/span_routes.hpp"

namespace ferry::runtime {

Worker::Worker(config::WorkerConfig cfg, plugins::PluginCatalog& catalog,
               std::vector<std::string> named_files)
    : cfg_(std::move(cfg)),
      catalog_(catalog),
      named_files_(std::move(named_files)),
      log_(logging::get("worker")) {}

Worker::~Worker() {
  stop_all();
}

void Worker::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool Worker::start_connector(config::ConnectorConfig cfg, std::string* error_out) {
  std::string name = cfg.name, error;
  SpanServices spans{span_publisher_.get(), span_tracker_.get()};
  auto c = Connector::create(std::move(cfg), cfg_, overrides_, metrics_, spans, error);
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

void Worker::start_rest() {
  if (!cfg_.rest.boolean("enabled")) return;
  std::string token;
  if (cfg_.rest.has("token_file")) {
    std::ifstream in(cfg_.rest.str("token_file"));
    std::getline(in, token);
    if (token.empty()) {
      log_->error("[rest] token_file {} is empty or unreadable; REST API not started",
                  cfg_.rest.str("token_file"));
      return;
    }
  }
  auto server = std::make_unique<rest::RestServer>();
  spans::add_span_routes(*server, span_tracker_.get());
  rest::add_connect_routes(*server, *this);
  rest::add_admin_routes(*server, *this);
  rest::RestSettings settings;
  settings.listen = cfg_.rest.str("listen");
  settings.token = token;
  settings.allowed_hosts = cfg_.rest.list("allowed_hosts");
  settings.allowed_origins = cfg_.rest.list("allowed_origins");
  settings.max_body_bytes = static_cast<size_t>(cfg_.rest.integer("max_body_bytes"));
  settings.max_connections = static_cast<size_t>(cfg_.rest.integer("max_connections"));
  settings.request_timeout = std::chrono::milliseconds(cfg_.rest.integer("request_timeout"));
  settings.tls_cert_file = cfg_.rest.str("tls_cert_file");
  settings.tls_key_file = cfg_.rest.str("tls_key_file");
  std::string error;
  if (!server->start(settings, error)) {
    // The data plane matters more than the API: keep running, loudly.
    log_->error("{}; running without the REST API", error);
    return;
  }
  // The address actually bound (listen may say port 0), for `ferry spans` and scripts; a
  // wildcard is written as loopback, a name the Host check accepts.
  std::string listen = cfg_.rest.str("listen");
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "[::1]";
  std::string address = host + ":" + std::to_string(server->port());
  std::error_code ec;
  std::filesystem::create_directories(cfg_.state_dir, ec);
  if (auto err = write_file_atomically(cfg_.state_dir / "rest.address", address + "\n"))
    log_->warn("cannot write {}: {}", (cfg_.state_dir / "rest.address").string(), *err);
  rest_ = std::move(server);
  worker_id_ = address;
}

void Worker::update_sink_groups() {
  if (!span_tracker_) return;
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [name, c] : connectors_)
    if (c->config().descriptor->kind == FERRY_KIND_SINK)
      groups["ferry-" + name] = c->config().topics;
  span_tracker_->set_sink_groups(std::move(groups));
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
  auto loaded = config::load_connectors(files, catalog_, diags);
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

int Worker::run(std::vector<config::ConnectorConfig> connectors) {
  if (cfg_.embedded_broker()) {
    std::string error;
    embedded_ = kafka::EmbeddedBroker::start(cfg_.state_dir, error);
    if (!embedded_) {
      log_->critical("{}", error);
      return 2;
    }
    overrides_ = kafka::embedded_tuning();
    overrides_["bootstrap.servers"] = embedded_->bootstrap();
    log_->warn(
        "no bootstrap.servers configured: running an EMBEDDED in-memory Kafka broker at {} "
        "(address also in {}). It keeps NOTHING across restarts and only the newest few MiB "
        "per partition; set [kafka] \"bootstrap.servers\" for real use.",
        embedded_->bootstrap(), (cfg_.state_dir / "embedded.bootstrap").string());
  }
  {
    std::string error;
    span_publisher_ = spans::SpanPublisher::create({cfg_.kafka, overrides_},
                                                   cfg_.spans.str("topic"), cfg_.host_id, error);
    if (!span_publisher_) {
      log_->critical("{}", error);
      return 2;
    }
    if (cfg_.spans.boolean("track")) {
      spans::SpanTracker::Settings s;
      s.topic = cfg_.spans.str("topic");
      s.partitions = static_cast<int>(cfg_.spans.integer("partitions"));
      s.retention_ms = cfg_.spans.integer("retention");
      s.max_finished = static_cast<size_t>(cfg_.spans.integer("max_finished"));
      s.watch_groups = cfg_.spans.list("watch_groups");
      s.kafka = {cfg_.kafka, overrides_};
      s.instance = cfg_.host_id + ":" + std::filesystem::absolute(cfg_.state_dir).string();
      s.create_topic = !cfg_.embedded_broker();
      span_tracker_ = spans::SpanTracker::start(std::move(s), *span_publisher_, error);
      if (!span_tracker_)
        log_->error("{}; running without span completion tracking and sink span hooks", error);
    }
  }
  if (cfg_.collector.boolean("enabled")) {
    spans::GroupCollector::Settings s;
    s.input = cfg_.collector.str("topic");
    s.output = cfg_.collector.str("output_topic");
    s.partitions = static_cast<int>(cfg_.collector.integer("partitions"));
    s.default_ttl_ms = cfg_.collector.integer("default_ttl");
    s.retention_ms = cfg_.collector.integer("retention");
    s.kafka = {cfg_.kafka, overrides_};
    s.create_topics = !cfg_.embedded_broker();
    std::string error;
    collector_ = spans::GroupCollector::start(std::move(s), error);
    if (!collector_) log_->error("{}; running without the group collector", error);
  }
  worker_id_ = cfg_.host_id;
  start_rest();
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& c : connectors) start_connector(std::move(c));
    count = connectors_.size();
  }
  if (count == 0) log_->warn("no connectors configured; waiting for SIGHUP");
  log_->info("ferry running as {} ({} connector(s))", cfg_.host_id, count);
  ready_ = true;
  ServiceNotifier notifier;
  notifier.ready(status_line());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Wakes at least every second: to beat for the watchdog and refresh STATUS.
  auto tick = std::chrono::microseconds(1'000'000);
  if (notifier.ping_interval().count() > 0) tick = std::min(tick, notifier.ping_interval());
  timespec timeout{static_cast<time_t>(tick.count() / 1'000'000),
                   static_cast<long>(tick.count() % 1'000'000) * 1000};
  auto next_status = std::chrono::steady_clock::now();
  for (;;) {
    notifier.beat();
    if (auto now = std::chrono::steady_clock::now(); now >= next_status) {
      notifier.status(status_line());
      next_status = now + std::chrono::seconds(5);
    }
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig < 0) continue;  // timeout or EINTR
    if (sig == SIGHUP) {
      notifier.reloading();
      reload();
      notifier.ready(status_line());
      continue;
    }
    log_->info("received {}, draining and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    notifier.stopping("draining in-flight records");
    break;
  }
  ready_ = false;
  if (rest_) rest_->stop();
  stop_all();
  rest_.reset();
  collector_.reset();
  span_tracker_.reset();
  span_publisher_.reset();  // flushes the last span events
  embedded_.reset();
  log_->info("stopped");
  return 0;
}

}  // namespace ferry::runtime
