#include "service/ferry_service.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.hpp"
#include "common/logging.hpp"
#include "kafka/client_config.hpp"
#include "rest/admin_routes.hpp"
#include "rest/connect_routes.hpp"
#include "rest/span_routes.hpp"
#include "service/service_notifier.hpp"

namespace ferry::service {

FerryService::FerryService(config::WorkerConfig cfg, loader::PluginCatalog& catalog,
                           std::vector<std::string> named_files)
    : cfg_(std::move(cfg)),
      catalog_(catalog),
      named_files_(std::move(named_files)),
      log_(logging::get("worker")) {}

FerryService::~FerryService() {
  shut_down();
}

void FerryService::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int FerryService::run(std::vector<config::ConnectorConfig> connectors) {
  if (!start_kafka_side()) return 2;
  worker_ = std::make_unique<runtime::Worker>(
      cfg_, catalog_, named_files_, overrides_,
      runtime::SpanServices{span_publisher_.get(), span_tracker_.get()});
  start_rest();
  size_t count = worker_->start(std::move(connectors));
  if (count == 0) log_->warn("no connectors configured; waiting for SIGHUP");
  log_->info("ferry running as {} ({} connector(s))", cfg_.host_id, count);
  worker_->set_ready(true);
  main_loop();
  shut_down();
  return 0;
}

bool FerryService::start_kafka_side() {
  if (cfg_.embedded_broker()) {
    std::string error;
    embedded_ = kafka::EmbeddedBroker::start(cfg_.state_dir, error);
    if (!embedded_) {
      log_->critical("{}", error);
      return false;
    }
    overrides_ = kafka::embedded_tuning();
    overrides_["bootstrap.servers"] = embedded_->bootstrap();
    log_->warn(
        "no bootstrap.servers configured: running an EMBEDDED in-memory Kafka broker at {} "
        "(address also in {}). It keeps NOTHING across restarts and only the newest few MiB "
        "per partition; set [kafka] \"bootstrap.servers\" for real use.",
        embedded_->bootstrap(), (cfg_.state_dir / "embedded.bootstrap").string());
  }
  std::string error;
  span_publisher_ = spans::SpanPublisher::create({cfg_.kafka, overrides_}, cfg_.spans.str("topic"),
                                                 cfg_.host_id, error);
  if (!span_publisher_) {
    log_->critical("{}", error);
    return false;
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
  if (cfg_.collector.boolean("enabled")) {
    spans::GroupCollector::Settings s;
    s.input = cfg_.collector.str("topic");
    s.output = cfg_.collector.str("output_topic");
    s.partitions = static_cast<int>(cfg_.collector.integer("partitions"));
    s.default_ttl_ms = cfg_.collector.integer("default_ttl");
    s.retention_ms = cfg_.collector.integer("retention");
    s.kafka = {cfg_.kafka, overrides_};
    s.create_topics = !cfg_.embedded_broker();
    collector_ = spans::GroupCollector::start(std::move(s), error);
    if (!collector_) log_->error("{}; running without the group collector", error);
  }
  return true;
}

void FerryService::start_rest() {
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
  rest::add_span_routes(*server, span_tracker_.get());
  rest::add_connect_routes(*server, *worker_);
  rest::add_admin_routes(*server, *worker_);
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
  if (Status s = write_file_atomically(cfg_.state_dir / "rest.address", address + "\n"); !s.ok())
    log_->warn("{}", s.message());
  rest_ = std::move(server);
  worker_->set_worker_id(address);
}

void FerryService::main_loop() {
  ServiceNotifier notifier;
  notifier.ready(worker_->status_line());
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
      notifier.status(worker_->status_line());
      next_status = now + std::chrono::seconds(5);
    }
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig < 0) continue;  // timeout or EINTR
    if (sig == SIGHUP) {
      notifier.reloading();
      worker_->reload();
      notifier.ready(worker_->status_line());
      continue;
    }
    log_->info("received {}, draining and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    notifier.stopping("draining in-flight records");
    return;
  }
}

// REST first (no call may reach a connector being stopped), then the connectors, then
// what they used: the collector and tracker, the publisher (which flushes the last span
// events), and the embedded broker last.
void FerryService::shut_down() {
  if (!worker_ && !span_publisher_ && !embedded_) return;  // not started, or done
  if (worker_) worker_->set_ready(false);
  if (rest_) rest_->stop();
  if (worker_) worker_->stop_all();
  rest_.reset();
  worker_.reset();
  collector_.reset();
  span_tracker_.reset();
  span_publisher_.reset();
  embedded_.reset();
  log_->info("stopped");
}

}  // namespace ferry::service
