#include "spans/group_collector.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <thread>

#include <fmt/format.h>

#include "common/logging.hpp"
#include "kafka/client_config.hpp"
#include "kafka/topic_admin.hpp"
#include "kafka/watermarks.hpp"
#include "spans/span_publisher.hpp"

namespace ferry::spans {
namespace {

constexpr const char* kCreate = "EventGroupCollectorCreate";
constexpr const char* kDone = "EventGroupCollectorEntityDone";
constexpr const char* kSuccess = "EventGroupCollectorSuccess";
constexpr const char* kFailure = "EventGroupCollectorFailure";

std::string id_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return {};
}

// The message's "type", or "" (json::value would throw for a non-string one, and
// anyone can write to the input topic).
std::string type_of(const nlohmann::json& j) {
  if (!j.is_object()) return {};
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Up to 1000 messages, waiting at most 20 ms for the first.
std::vector<kafka::MessagePtr> poll_batch(rd_kafka_t* consumer) {
  std::vector<kafka::MessagePtr> batch;
  for (int i = 0; i < 1000; ++i) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(consumer, i == 0 ? 20 : 0));
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) batch.push_back(std::move(m));
  }
  return batch;
}

// Commits past every message of the batch (messages of one partition arrive in order).
bool commit_past(rd_kafka_t* consumer, std::vector<kafka::MessagePtr>& batch) {
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto& m : batch) next[{rd_kafka_topic_name(m->rkt), m->partition}] = m->offset + 1;
  batch.clear();  // messages must not outlive the consumer
  kafka::PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
  for (const auto& [tp, o] : next)
    rd_kafka_topic_partition_list_add(offsets.get(), tp.first.c_str(), tp.second)->offset = o;
  auto e = rd_kafka_commit(consumer, offsets.get(), 0);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    // Harmless (e.g. a rebalance): the next owner re-reads these, and applying a
    // message twice changes nothing.
    static auto log = logging::get("collector");
    log->warn("offset commit failed, messages will be read again: {}", rd_kafka_err2str(e));
  }
  return true;
}

}  // namespace

GroupCollector::GroupCollector(Settings settings)
    : settings_(std::move(settings)),
      work_topic_(settings_.input + ".ferry-work"),
      state_topic_(settings_.input + ".ferry-state"),
      log_(logging::get("collector")) {
  if (settings_.output.empty()) settings_.output = settings_.input;
}

std::unique_ptr<GroupCollector> GroupCollector::start(Settings settings, std::string& error) {
  std::unique_ptr<GroupCollector> c(new GroupCollector(std::move(settings)));
  if (!c->connect(error)) return nullptr;
  c->thread_ = std::thread([raw = c.get()] { raw->run(); });
  return c;
}

GroupCollector::~GroupCollector() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (worker_) rd_kafka_consumer_close(worker_.get());
  if (router_) rd_kafka_consumer_close(router_.get());
  if (producer_) rd_kafka_flush(producer_.get(), 5000);
  worker_.reset();
  router_.reset();
  producer_.reset();
}

bool GroupCollector::connect(std::string& error) {
  auto layered = [&](config::KafkaProperties base, config::KafkaProperties last) {
    std::vector<config::KafkaProperties> all{std::move(base)};
    all.insert(all.end(), settings_.kafka.begin(), settings_.kafka.end());
    all.push_back(std::move(last));
    return all;
  };
  auto pconf = kafka::make_conf(
      layered(kafka::producer_defaults(0), {{"client.id", "ferry-collector"}, {"linger.ms", "1"}}),
      error);
  if (!pconf) return false;
  rd_kafka_conf_set_opaque(pconf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(pconf.get(),
                              [](rd_kafka_t*, const rd_kafka_message_t* m, void* self) {
                                static_cast<GroupCollector*>(self)->on_delivery(*m);
                              });
  producer_ = kafka::new_client(RD_KAFKA_PRODUCER, pconf, error);
  if (!producer_) {
    error = "collector: " + error;
    return false;
  }
  for (const auto& [topic, cfg] :
       std::vector<std::pair<std::string, std::map<std::string, std::string>>>{
           {work_topic_, {}}, {state_topic_, {{"cleanup.policy", "compact"}}}}) {
    if (!settings_.create_topics) break;
    if (Status s = kafka::ensure_topic(producer_.get(), topic, settings_.partitions, cfg);
        !s.ok()) {
      error = "collector: cannot create " + topic + ": " + s.message();
      return false;
    }
  }

  auto make_consumer = [&](const std::string& group, const std::string& topic, bool rebalance,
                           kafka::KafkaPtr& out) {
    auto conf = kafka::make_conf(
        layered(kafka::consumer_defaults(group), {{"client.id", "ferry-collector"}}), error);
    if (!conf) return false;
    if (rebalance) {
      rd_kafka_conf_set_opaque(conf.get(), this);
      rd_kafka_conf_set_rebalance_cb(
          conf.get(), [](rd_kafka_t*, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t* p,
                         void* self) { static_cast<GroupCollector*>(self)->on_rebalance(e, p); });
    }
    out = kafka::new_client(RD_KAFKA_CONSUMER, conf, error);
    if (!out) {
      error = "collector: " + error;
      return false;
    }
    kafka::PartitionListPtr sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto e = rd_kafka_subscribe(out.get(), sub.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = "collector: cannot subscribe to " + topic + ": " + rd_kafka_err2str(e);
      return false;
    }
    return true;
  };
  if (!make_consumer("ferry-collector-router." + settings_.input, settings_.input, false, router_))
    return false;
  if (!make_consumer("ferry-collector." + settings_.input, work_topic_, true, worker_))
    return false;
  log_->info("collecting groups from {} into {} (work {}, state {})", settings_.input,
             settings_.output, work_topic_, state_topic_);
  return true;
}

void GroupCollector::on_delivery(const rd_kafka_message_t& m) {
  if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  log_->error("collector output to {} failed: {}", rd_kafka_topic_name(m.rkt),
              rd_kafka_err2str(m.err));
  delivery_failed_ = true;
}

bool GroupCollector::flush_all() {
  rd_kafka_flush(producer_.get(), 60'000);
  return rd_kafka_outq_len(producer_.get()) == 0 && !delivery_failed_.load();
}

// Input -> work topic, keyed by group id. Offsets are committed once the routed copies
// are acknowledged.
bool GroupCollector::route() {
  std::vector<kafka::MessagePtr> batch = poll_batch(router_.get());
  if (batch.empty()) return true;
  for (const auto& m : batch) {
    auto j = nlohmann::json::parse(static_cast<const char*>(m->payload),
                                   static_cast<const char*>(m->payload) + m->len, nullptr, false);
    std::string type = type_of(j);
    if (type == kSuccess || type == kFailure) continue;  // our own output on a shared topic
    std::string key;
    if (type == kCreate) key = id_text(j.value("id", nlohmann::json()));
    if (type == kDone) key = id_text(j.value("group", nlohmann::json()));
    if (key.empty()) {
      log_->warn("ignoring message at {}[{}]@{}: not a Create or EntityDone with an id",
                 rd_kafka_topic_name(m->rkt), m->partition, m->offset);
      continue;
    }
    rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(work_topic_.c_str()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(m->payload, m->len),
                      RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m.get(), nullptr)),
                      RD_KAFKA_V_END);
  }
  if (!flush_all()) return false;
  return commit_past(router_.get(), batch);
}

void GroupCollector::apply(const nlohmann::json& e, int64_t ts, int32_t partition) {
  int64_t now = now_ms();
  std::string type = type_of(e);
  std::string id = type == kCreate ? id_text(e.value("id", nlohmann::json()))
                                   : id_text(e.value("group", nlohmann::json()));
  Group& g = groups_[id];
  g.id = id;
  g.partition = partition;
  g.touched_ms = now;
  if (type == kCreate) {
    if (g.created) {
      ++g.duplicates;  // idempotent: the first Create stands
      log_->info("duplicate Create for group {} ignored", id);
    } else {
      g.created = true;
      g.expected = e.value("expected", nlohmann::json::array());
      g.payload = e.value("payload", nlohmann::json());
      auto ttl = e.value("ttl", nlohmann::json());
      g.ttl_ms = ttl.is_number() ? static_cast<int64_t>(ttl.get<double>() * 1000)
                                 : settings_.default_ttl_ms;
      g.created_ms = ts > 0 ? ts : now;
    }
  } else {
    std::string entity = id_text(e.value("id", nlohmann::json()));
    if (g.resolved) {
      ++g.late;
      log_->info("late EntityDone {} for resolved group {} recorded", entity, id);
    } else if (g.results.contains(entity)) {
      ++g.duplicates;  // the first result stands
    } else {
      if (e.contains("error") && !e["error"].is_null()) {
        g.results[entity] = nullptr;
        if (g.first_error.empty())
          g.first_error =
              e["error"].is_string() ? e["error"].get<std::string>() : e["error"].dump();
      } else {
        g.results[entity] = e.value("result", nlohmann::json());
      }
    }
  }
  maybe_resolve(g, now);
  save(g);
}

void GroupCollector::maybe_resolve(Group& g, int64_t now) {
  if (!g.created || g.resolved) return;
  if (!g.first_error.empty()) {
    resolve(g,
            {{"type", kFailure},
             {"id", g.id},
             {"error", g.first_error},
             {"created", format_time(g.created_ms)},
             {"results", g.results},
             {"payload", g.payload}},
            now);
    return;
  }
  for (const auto& entity : g.expected)
    if (!g.results.contains(id_text(entity))) return;
  nlohmann::json results = nlohmann::json::object();
  for (const auto& entity : g.expected) results[id_text(entity)] = g.results[id_text(entity)];
  resolve(g,
          {{"type", kSuccess},
           {"id", g.id},
           {"created", format_time(g.created_ms)},
           {"resolved", format_time(now)},
           {"results", results},
           {"payload", g.payload}},
          now);
}

void GroupCollector::resolve(Group& g, const nlohmann::json& output, int64_t now) {
  g.resolved = true;
  g.resolved_ms = now;
  std::string value = output.dump();
  rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(settings_.output.c_str()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(g.id.data(), g.id.size()),
                    RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
  // Marked before the flush that carries both: a crash in between re-sends on restore
  // (at least once), it never loses the outcome.
  g.emitted = true;
  log_->info("group {}: {}", g.id, output.value("type", ""));
}

void GroupCollector::save(const Group& g) {
  std::string value = state_json(g).dump();
  rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(state_topic_.c_str()),
                    RD_KAFKA_V_PARTITION(g.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_KEY(g.id.data(), g.id.size()),
                    RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
}

nlohmann::json GroupCollector::state_json(const Group& g) const {
  return {{"id", g.id},
          {"created", g.created},
          {"expected", g.expected},
          {"payload", g.payload},
          {"ttl_ms", g.ttl_ms},
          {"created_ms", g.created_ms},
          {"results", g.results},
          {"error", g.first_error},
          {"resolved", g.resolved},
          {"resolved_ms", g.resolved_ms},
          {"duplicates", g.duplicates},
          {"late", g.late},
          {"touched_ms", g.touched_ms}};
}

GroupCollector::Group GroupCollector::group_from(const nlohmann::json& j) {
  Group g;
  g.id = j.value("id", "");
  g.created = j.value("created", false);
  g.expected = j.value("expected", nlohmann::json::array());
  g.payload = j.value("payload", nlohmann::json());
  g.ttl_ms = j.value("ttl_ms", int64_t{0});
  g.created_ms = j.value("created_ms", int64_t{0});
  g.results = j.value("results", nlohmann::json::object());
  g.first_error = j.value("error", "");
  g.resolved = g.emitted = j.value("resolved", false);
  g.resolved_ms = j.value("resolved_ms", int64_t{0});
  g.duplicates = j.value("duplicates", uint64_t{0});
  g.late = j.value("late", uint64_t{0});
  g.touched_ms = j.value("touched_ms", int64_t{0});
  return g;
}

// The state topic is partitioned like the work topic and written to the same partition
// number, so a work partition's groups are exactly that state partition's keys.
std::set<int32_t> GroupCollector::restore(const std::set<int32_t>& partitions,
                                          std::chrono::milliseconds wait) {
  std::set<int32_t> restored;
  std::string error;
  std::vector<config::KafkaProperties> layers{kafka::consumer_defaults("ferry-collector-restore")};
  layers.insert(layers.end(), settings_.kafka.begin(), settings_.kafka.end());
  auto conf = kafka::make_conf(layers, error);
  kafka::KafkaPtr rk = conf ? kafka::new_client(RD_KAFKA_CONSUMER, conf, error) : nullptr;
  if (!rk) {
    log_->error("collector: cannot read state: {}", error);
    return restored;
  }
  std::map<int32_t, int64_t> ends;
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  // A state partition whose end we cannot learn is not taken as empty: that would drop
  // its groups. A topic created moments ago may have no leader for a few seconds.
  auto deadline = std::chrono::steady_clock::now() + wait;
  int ask_ms = static_cast<int>(std::clamp<int64_t>(wait.count(), 1'000, 5'000));
  for (int32_t p : partitions) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e;
    while ((e = kafka::query_watermarks(rk.get(), state_topic_, p, lo, hi, ask_ms)) !=
               RD_KAFKA_RESP_ERR_NO_ERROR &&
           std::chrono::steady_clock::now() < deadline) {
      log_->warn("collector: state partition {}: end offset unknown ({}), asking again", p,
                 rd_kafka_err2str(e));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // some errors are instant
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_->error("collector: state partition {}: end offset unknown ({}); its work waits", p,
                  rd_kafka_err2str(e));
      continue;
    }
    if (hi > lo) {
      ends[p] = hi;
      rd_kafka_topic_partition_list_add(list.get(), state_topic_.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    } else {
      restored.insert(p);
    }
  }
  size_t records = 0;
  if (list->cnt > 0) {
    rd_kafka_assign(rk.get(), list.get());
    // Reading a partition to its end may take longer than learning where the end is.
    deadline = std::max(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    while (!ends.empty() && std::chrono::steady_clock::now() < deadline) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 100));
      if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      std::string key(static_cast<const char*>(m->key), m->key_len);
      if (m->payload == nullptr) {
        groups_.erase(key);
      } else {
        auto j =
            nlohmann::json::parse(static_cast<const char*>(m->payload),
                                  static_cast<const char*>(m->payload) + m->len, nullptr, false);
        if (j.is_object()) {
          try {
            Group g = group_from(j);
            g.partition = m->partition;
            groups_[key] = std::move(g);
            ++records;
          } catch (const std::exception& e) {
            log_->error("collector: ignoring unreadable state of group {} at {}[{}]@{}: {}", key,
                        rd_kafka_topic_name(m->rkt), m->partition, m->offset, e.what());
          }
        }
      }
      if (m->offset + 1 >= ends[m->partition]) {
        ends.erase(m->partition);
        restored.insert(m->partition);
      }
    }
    // A partly read partition may hold an old version of a group (the log is compacted
    // only eventually): acting on it could emit a group twice. Forget it until read whole.
    for (const auto& [p, end] : ends) {
      log_->error("collector: state partition {} not read to its end ({}); its work waits", p, end);
      std::erase_if(groups_, [p = p](const auto& kv) { return kv.second.partition == p; });
    }
  }
  rd_kafka_consumer_close(rk.get());
  log_->info("took over {} work partition(s), {} group state record(s)", restored.size(), records);
  return restored;
}

// Work partitions whose state could not be read are assigned paused, so the group does
// not hand them to anyone else, and retried from the run loop; they resume from the
// last commit once their state is in.
void GroupCollector::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  std::set<int32_t> ps;
  for (int i = 0; i < parts->cnt; ++i) ps.insert(parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::set<int32_t> restored = restore(ps, std::chrono::milliseconds(settings_.restore_wait_ms));
    rd_kafka_assign(worker_.get(), parts);
    std::set<int32_t> waiting;
    std::ranges::set_difference(ps, restored, std::inserter(waiting, waiting.end()));
    if (!waiting.empty()) {
      rd_kafka_pause_partitions(worker_.get(), work_list(waiting).get());
      unrestored_.insert(waiting.begin(), waiting.end());
    }
    return;
  }
  flush_all();
  for (int32_t p : ps) unrestored_.erase(p);
  std::erase_if(groups_, [&](const auto& kv) { return ps.contains(kv.second.partition); });
  rd_kafka_assign(worker_.get(), nullptr);
}

kafka::PartitionListPtr GroupCollector::work_list(const std::set<int32_t>& partitions) const {
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions)
    rd_kafka_topic_partition_list_add(list.get(), work_topic_.c_str(), p);
  return list;
}

void GroupCollector::retry_restore() {
  std::set<int32_t> restored = restore(unrestored_, std::chrono::milliseconds(1000));
  if (restored.empty()) return;
  // Back to the last commit: anything fetched before the pause took hold was skipped.
  kafka::PartitionListPtr list = work_list(restored);
  std::string problem;
  if (auto e = rd_kafka_committed(worker_.get(), list.get(), 10'000);
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    problem = std::string("committed offsets unknown: ") + rd_kafka_err2str(e);
  } else {
    for (int i = 0; i < list->cnt; ++i)
      if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    kafka::ErrorPtr error(rd_kafka_seek_partitions(worker_.get(), list.get(), 10'000));
    if (error) problem = std::string("cannot rewind: ") + rd_kafka_error_string(error.get());
  }
  if (!problem.empty()) {
    log_->warn("collector: work partitions stay paused ({}); restoring again later", problem);
    std::erase_if(groups_, [&](const auto& kv) { return restored.contains(kv.second.partition); });
    return;
  }
  rd_kafka_resume_partitions(worker_.get(), list.get());
  for (int32_t p : restored) unrestored_.erase(p);
}

bool GroupCollector::collect() {
  if (!unrestored_.empty() && std::chrono::steady_clock::now() >= next_restore_) {
    retry_restore();
    next_restore_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  }
  std::vector<kafka::MessagePtr> batch = poll_batch(worker_.get());
  // Fetched before its pause took hold: read again from the last commit once restored.
  std::erase_if(batch, [&](const auto& m) { return unrestored_.contains(m->partition); });
  for (const auto& m : batch) {
    auto j = nlohmann::json::parse(static_cast<const char*>(m->payload),
                                   static_cast<const char*>(m->payload) + m->len, nullptr, false);
    if (!j.is_object()) continue;
    try {
      apply(j, rd_kafka_message_timestamp(m.get(), nullptr), m->partition);
    } catch (const std::exception& e) {
      log_->warn("ignoring message at {}[{}]@{}: {}", rd_kafka_topic_name(m->rkt), m->partition,
                 m->offset, e.what());
    }
  }
  check_timeouts();
  if (batch.empty()) return true;
  if (!flush_all()) return false;
  return commit_past(worker_.get(), batch);
}

void GroupCollector::check_timeouts() {
  int64_t now = now_ms();
  bool any = false;
  for (auto& [id, g] : groups_) {
    if (!g.created || g.resolved || now < g.created_ms + g.ttl_ms) continue;
    resolve(g,
            {{"type", kFailure},
             {"id", g.id},
             {"entity", g.id},
             {"error", fmt::format("Operation timed out after {} seconds", g.ttl_ms / 1000)},
             {"created", format_time(g.created_ms)},
             {"results", g.results},
             {"payload", g.payload}},
            now);
    save(g);
    any = true;
  }
  if (any) flush_all();
}

void GroupCollector::collect_garbage() {
  int64_t cutoff = now_ms() - settings_.retention_ms;
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second.touched_ms >= cutoff) {
      ++it;
      continue;
    }
    // A tombstone: compaction drops the group from the state topic too.
    rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(state_topic_.c_str()),
                      RD_KAFKA_V_PARTITION(it->second.partition),
                      RD_KAFKA_V_KEY(it->first.data(), it->first.size()), RD_KAFKA_V_END);
    it = groups_.erase(it);
  }
}

// Drops everything built from Kafka: consumers (their uncommitted input is read again),
// unsent output, and in-memory group state (restored from the state topic).
void GroupCollector::disconnect() {
  if (worker_) rd_kafka_consumer_close(worker_.get());
  if (router_) rd_kafka_consumer_close(router_.get());
  worker_.reset();
  router_.reset();
  if (producer_) {
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer_.get(), 1000);
  }
  producer_.reset();
  groups_.clear();
  unrestored_.clear();
  delivery_failed_ = false;
}

void GroupCollector::run() {
  auto next_gc = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  auto backoff = std::chrono::seconds(1);
  while (!stop_.load()) {
    if (route() && collect()) {
      backoff = std::chrono::seconds(1);
      if (std::chrono::steady_clock::now() >= next_gc) {
        collect_garbage();
        next_gc = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      }
      continue;
    }
    // Kafka refused output for longer than the producer's timeout. Nothing past the
    // last commit is lost: start over from there, with the state from the state topic.
    for (;;) {
      log_->error("collector: outputs could not be delivered; reconnecting in {} s",
                  backoff.count());
      disconnect();
      auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (stop_.load()) return;
      backoff = std::min(backoff * 2, std::chrono::seconds(60));
      std::string error;
      if (connect(error)) break;
      log_->error("{}", error);
    }
  }
}

}  // namespace ferry::spans
