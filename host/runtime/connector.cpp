#include "runtime/connector.hpp"

#include "common/atomic_file.hpp"
#include "common/logging.hpp"

namespace ferry::runtime {
namespace {

constexpr const char* kTargetFile = "target-state";

std::optional<TargetState> parse_target(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text == "RUNNING") return TargetState::kRunning;
  if (text == "PAUSED") return TargetState::kPaused;
  if (text == "STOPPED") return TargetState::kStopped;
  return std::nullopt;
}

}  // namespace

const char* target_state_name(TargetState s) {
  switch (s) {
    case TargetState::kRunning:
      return "RUNNING";
    case TargetState::kPaused:
      return "PAUSED";
    case TargetState::kStopped:
      return "STOPPED";
  }
  return "RUNNING";
}

std::unique_ptr<Connector> Connector::create(config::ConnectorConfig cfg,
                                             const config::WorkerConfig& worker,
                                             const config::KafkaProperties& worker_overrides,
                                             metrics::MetricsRegistry& metrics, SpanServices spans,
                                             std::string& error) {
  std::unique_ptr<Connector> c(new Connector());
  c->cfg_ = std::move(cfg);
  c->worker_ = &worker;
  c->worker_overrides_ = worker_overrides;
  c->metrics_ = &metrics;
  c->spans_ = spans;
  c->dir_ = worker.state_dir / "connectors" / c->cfg_.name;
  for (auto [file, map] : {std::pair{"offsets.json", &c->offsets_}, {"state.json", &c->state_}}) {
    auto opened = state::DurableMap::open(c->dir_ / file);
    if (!opened) {
      error = opened.status().message();
      return nullptr;
    }
    *map = std::move(opened).value();
    if (uint64_t dropped = (*map)->dropped_at_open(); dropped > 0)
      logging::get(c->cfg_.name)
          ->warn(
              "{}: cut off {} bytes of a save that a crash or a full disk left unfinished "
              "(it was never reported saved, so nothing it held was counted as done)",
              (*map)->journal_file().string(), dropped);
  }
  std::string read_error;
  if (auto text = read_whole_file(c->dir_ / kTargetFile, &read_error)) {
    auto t = parse_target(*text);
    if (!t) {
      error = "unreadable target state in " + (c->dir_ / kTargetFile).string() +
              " (expected RUNNING, PAUSED or STOPPED)";
      return nullptr;
    }
    c->target_ = *t;
  } else if (!read_error.empty()) {
    error = read_error;
    return nullptr;
  }
  c->paused_ = c->target_ == TargetState::kPaused;
  return c;
}

std::unique_ptr<TaskSupervisor> Connector::make_task(uint32_t id) {
  TaskEnvironment env;
  env.worker = worker_;
  env.connector = &cfg_;
  env.worker_overrides = worker_overrides_;
  env.embedded_broker = worker_->embedded_broker();
  env.metrics = metrics_;
  env.offsets = offsets_.get();
  env.state = state_.get();
  env.log = logging::get(cfg_.name + "/" + std::to_string(id));
  env.task_id = id;
  env.span_publisher = spans_.publisher;
  env.span_tracker = spans_.tracker;
  env.paused = &paused_;
  return std::make_unique<TaskSupervisor>(std::move(env));
}

Connector::~Connector() {
  request_stop();
  join();
}

void Connector::start() {
  std::lock_guard lock(mu_);
  if (target_ == TargetState::kStopped) {
    logging::get("worker")->warn(
        "connector {} is STOPPED (saved state); its tasks start on PUT "
        "/connectors/{}/resume",
        cfg_.name, cfg_.name);
    return;
  }
  if (target_ == TargetState::kPaused)
    logging::get("worker")->warn("connector {} starts PAUSED (saved state)", cfg_.name);
  start_tasks_locked();
}

void Connector::start_tasks_locked() {
  tasks_.clear();
  for (int i = 0; i < cfg_.tasks; ++i) tasks_.push_back(make_task(static_cast<uint32_t>(i)));
  for (auto& t : tasks_) t->start();
}

void Connector::stop_tasks_locked() {
  for (auto& t : tasks_) t->request_stop();  // all drain in parallel
  for (auto& t : tasks_) t->join();
  tasks_.clear();
}

void Connector::request_stop() {
  std::lock_guard lock(mu_);
  for (auto& t : tasks_) t->request_stop();
}

void Connector::join() {
  std::lock_guard lock(mu_);
  for (auto& t : tasks_) t->join();
}

Status Connector::save_target(TargetState s) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  Status saved =
      write_file_atomically(dir_ / kTargetFile, std::string(target_state_name(s)) + "\n");
  if (!saved.ok())
    return Status::Retriable("cannot save the connector's state: " + saved.message());
  target_ = s;
  return Status::Ok();
}

Status Connector::pause() {
  std::lock_guard lock(mu_);
  if (target_ == TargetState::kPaused) return Status::Ok();
  if (target_ == TargetState::kStopped) return Status::Ok();  // as Connect: stays stopped
  if (Status s = save_target(TargetState::kPaused); !s.ok()) return s;
  paused_ = true;
  return Status::Ok();
}

Status Connector::resume() {
  std::lock_guard lock(mu_);
  if (target_ == TargetState::kRunning) return Status::Ok();
  bool was_stopped = target_ == TargetState::kStopped;
  if (Status s = save_target(TargetState::kRunning); !s.ok()) return s;
  paused_ = false;
  if (was_stopped) start_tasks_locked();
  return Status::Ok();
}

Status Connector::stop_tasks() {
  std::lock_guard lock(mu_);
  if (target_ == TargetState::kStopped) return Status::Ok();
  if (Status s = save_target(TargetState::kStopped); !s.ok()) return s;
  paused_ = false;
  stop_tasks_locked();
  return Status::Ok();
}

bool Connector::restart_task(uint32_t id) {
  std::lock_guard lock(mu_);
  if (id >= tasks_.size()) return false;
  tasks_[id]->request_stop();
  tasks_[id]->join();
  tasks_[id] = make_task(id);
  tasks_[id]->start();
  metrics_->add("task_restarts", cfg_.name, id, 1);
  return true;
}

int Connector::restart_tasks(bool only_failed) {
  std::lock_guard lock(mu_);
  std::vector<uint32_t> chosen;
  for (uint32_t i = 0; i < tasks_.size(); ++i)
    if (!only_failed || tasks_[i]->state() == TaskState::kFailed) chosen.push_back(i);
  for (uint32_t i : chosen) tasks_[i]->request_stop();
  for (uint32_t i : chosen) {
    tasks_[i]->join();
    tasks_[i] = make_task(i);
    tasks_[i]->start();
    metrics_->add("task_restarts", cfg_.name, i, 1);
  }
  return static_cast<int>(chosen.size());
}

TargetState Connector::target() const {
  std::lock_guard lock(mu_);
  return target_;
}

ConnectorStatus Connector::status() const {
  std::lock_guard lock(mu_);
  ConnectorStatus s;
  s.state = target_state_name(target_);
  for (uint32_t i = 0; i < tasks_.size(); ++i) {
    const auto& t = *tasks_[i];
    TaskStatus ts{i, task_state_name(t.state()), {}, t.restarts()};
    if (t.state() == TaskState::kFailed) ts.trace = t.last_error();
    if (t.state() == TaskState::kRunning)
      if (std::string r = t.retrying(); !r.empty()) ts.trace = "retrying: " + r;
    if (ts.state == std::string("RUNNING") && target_ == TargetState::kPaused) ts.state = "PAUSED";
    s.tasks.push_back(std::move(ts));
  }
  return s;
}

}  // namespace ferry::runtime
