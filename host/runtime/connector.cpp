#include "runtime/connector.hpp"

#include "common/logging.hpp"

namespace ferry::runtime {

std::unique_ptr<Connector> Connector::create(config::ConnectorConfig cfg,
                                             const config::WorkerConfig& worker,
                                             const config::KafkaProperties& worker_overrides,
                                             MetricsRegistry& metrics, SpanServices spans,
                                             std::string& error) {
  std::unique_ptr<Connector> c(new Connector());
  c->cfg_ = std::move(cfg);
  auto dir = worker.state_dir / "connectors" / c->cfg_.name;
  c->offsets_ = DurableMap::open(dir / "offsets.json", error);
  if (!c->offsets_) return nullptr;
  c->state_ = DurableMap::open(dir / "state.json", error);
  if (!c->state_) return nullptr;
  for (int i = 0; i < c->cfg_.tasks; ++i) {
    TaskEnvironment env;
    env.worker = &worker;
    env.connector = &c->cfg_;
    env.worker_overrides = worker_overrides;
    env.embedded_broker = worker.embedded_broker();
    env.metrics = &metrics;
    env.offsets = c->offsets_.get();
    env.state = c->state_.get();
    env.log = logging::get(c->cfg_.name + "/" + std::to_string(i));
    env.task_id = static_cast<uint32_t>(i);
    env.span_publisher = spans.publisher;
    env.span_tracker = spans.tracker;
    c->tasks_.push_back(std::make_unique<TaskSupervisor>(std::move(env)));
  }
  return c;
}

Connector::~Connector() {
  request_stop();
  join();
}

void Connector::start() {
  for (auto& t : tasks_) t->start();
}

void Connector::request_stop() {
  for (auto& t : tasks_) t->request_stop();
}

void Connector::join() {
  for (auto& t : tasks_) t->join();
}

}  // namespace ferry::runtime
