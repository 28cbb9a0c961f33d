#include "runtime/sink_runner.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "kafka/client_config.hpp"
#include "kafka/offset_commit.hpp"
#include "runtime/dead_letter.hpp"
#include "runtime/header_insertions.hpp"
#include "runtime/plugin_transform.hpp"
#include "spans/span_publisher.hpp"

namespace ferry::runtime {
namespace {

constexpr size_t kMaxBatch = 5'000;
constexpr uint64_t kCommitEveryRecords = 200'000;

void rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* runner) {
  static_cast<SinkRunner*>(runner)->on_rebalance(err, parts);
}

int kafka_stats(rd_kafka_t*, char* json, size_t len, void* runner) {
  auto* self = static_cast<SinkRunner*>(runner);
  self->note_brokers(self->on_kafka_stats(json, len));
  return 0;  // librdkafka frees json
}

void dead_letter_cb(rd_kafka_t*, const rd_kafka_message_t* msg, void* runner) {
  static_cast<SinkRunner*>(runner)->on_dead_letter_delivery(*msg);
}

}  // namespace

SinkRunner::SinkRunner(TaskEnvironment env)
    : TaskHost(env.log, *env.metrics, env.connector->name, env.task_id, *env.offsets, *env.state),
      env_(std::move(env)),
      insert_headers_(header_insertions(*env_.connector)) {}

SinkRunner::~SinkRunner() {
  plugin_.reset();
  // A failed task leaves without committing: the next owner gets its records again.
  pending_.clear();
  if (consumer_) leave_group();
  if (dead_letter_) rd_kafka_flush(dead_letter_.get(), 1000);
  dead_letter_.reset();
}

Status SinkRunner::create_consumer() {
  const auto& c = *env_.connector;
  std::string error;
  kafka::ConfPtr conf = kafka::make_conf(
      {kafka::consumer_defaults("ferry-" + c.name), kafka::sink_consumer_tuning(),
       kafka::task_statistics(), env_.worker->kafka, env_.worker_overrides,
       env_.embedded_broker ? kafka::embedded_consumer_tuning() : config::KafkaProperties{},
       c.kafka},
      error);
  if (!conf) return Status::Config(error);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &rebalance_cb);
  rd_kafka_conf_set_stats_cb(conf.get(), &kafka_stats);
  std::array<char, 512> err{};
  consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err.data(), err.size()));
  if (!consumer_) return Status::Config(std::string("cannot create consumer: ") + err.data());
  (void)conf.release();
  rd_kafka_poll_set_consumer(consumer_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
  kafka::PartitionListPtr topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(c.topics.size())));
  for (const auto& t : c.topics)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(consumer_.get(), topics.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Status::Retriable(std::string("cannot subscribe: ") + rd_kafka_err2str(e));
  return Status::Ok();
}

Status SinkRunner::create_dead_letter_producer() {
  std::string error;
  kafka::ConfPtr conf =
      kafka::make_conf({kafka::producer_defaults(env_.connector->retry_timeout_ms()),
                        env_.worker->kafka, env_.worker_overrides, env_.connector->kafka},
                       error);
  if (!conf) return Status::Config(error);
  // Consumer-only properties in the connector's [kafka] would make a producer warn;
  // they are harmless, so the layers are shared.
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &dead_letter_cb);
  std::array<char, 512> err{};
  dead_letter_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err.data(), err.size()));
  if (!dead_letter_) return Status::Config(std::string("cannot create producer: ") + err.data());
  (void)conf.release();
  return Status::Ok();
}

ferry_status SinkRunner::emit(const ferry_record_view&, ferry_error* err) {
  detail::write_error(err, "a sink task cannot emit records");
  return FERRY_FATAL;
}

ferry_status SinkRunner::reject(const ferry_record_view& r, const char* reason, ferry_error* err) {
  const auto& c = *env_.connector;
  std::string where = fmt::format("{}[{}]@{}", r.topic ? r.topic : "?", r.partition, r.offset);
  if (!c.tolerate_all()) {
    failure_ = fmt::format("bad record {} (errors.tolerance = \"none\"): {}", where, reason);
    detail::write_error(err, failure_);
    return FERRY_FATAL;
  }
  if (c.errors.boolean("log"))
    log_->warn("record {} sent to dead letter topic {}: {}", where, c.dead_letter_topic(), reason);
  DeadLetterContext ctx{reason,      "sink",  c.name, env_.task_id, r.topic ? r.topic : "",
                        r.partition, r.offset};
  auto e = produce_dead_letter(dead_letter_.get(), c.dead_letter_topic(), r, ctx, nullptr);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure_ = fmt::format("cannot write to dead letter topic {}: {}", c.dead_letter_topic(),
                           rd_kafka_err2str(e));
    detail::write_error(err, failure_);
    return FERRY_FATAL;
  }
  ++dead_lettered_;
  report_span_error(r, reason);
  return FERRY_OK;
}

void SinkRunner::on_dead_letter_delivery(const rd_kafka_message_t& msg) {
  if (msg.err != RD_KAFKA_RESP_ERR_NO_ERROR && failure_.empty())
    failure_ = fmt::format("dead letter delivery failed: {}", rd_kafka_err2str(msg.err));
}

void SinkRunner::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    log_->info("assigned {} partition(s)", parts->cnt);
    rd_kafka_assign(consumer_.get(), parts);
    if (paused_) set_paused(parts, true);
    std::set<TopicPartition> got;
    for (int i = 0; i < parts->cnt; ++i)
      got.insert({parts->elems[i].topic, parts->elems[i].partition});
    assigned_.insert(got.begin(), got.end());
    if (span_hooks()) {
      // Where we stand on each partition: a span whose records were all committed
      // before a restart can end without any record arriving.
      kafka::PartitionListPtr copy(rd_kafka_topic_partition_list_copy(parts));
      if (rd_kafka_committed(consumer_.get(), copy.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < copy->cnt; ++i)
          if (copy->elems[i].offset >= 0)
            processed_[{copy->elems[i].topic, copy->elems[i].partition}] = copy->elems[i].offset;
      restore_spans(got);
    }
    return;
  }
  // Partitions are leaving: make what we processed durable and commit it now, or the
  // next owner re-processes it (allowed, but avoidable).
  if (!pending_.empty() && failure_.empty()) {
    if (Status s = flush_and_commit(); !s.ok())
      log_->warn("could not commit before rebalance, records will be redelivered: {}", s.message());
  }
  pending_.clear();
  std::set<TopicPartition> lost;
  for (int i = 0; i < parts->cnt; ++i)
    lost.insert({parts->elems[i].topic, parts->elems[i].partition});
  for (const auto& tp : lost) {
    assigned_.erase(tp);
    processed_.erase(tp);
  }
  // Spans stay saved: whichever task gets the partitions next resumes them.
  std::erase_if(active_spans_, [&](const auto& kv) {
    return std::all_of(kv.second.begin(), kv.second.end(),
                       [&](const TopicPartition& tp) { return lost.contains(tp); });
  });
  log_->info("revoked {} partition(s)", parts->cnt);
  rd_kafka_assign(consumer_.get(), nullptr);
}

void SinkRunner::set_paused(rd_kafka_topic_partition_list_t* partitions, bool paused) {
  auto e = paused ? rd_kafka_pause_partitions(consumer_.get(), partitions)
                  : rd_kafka_resume_partitions(consumer_.get(), partitions);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    log_->warn("cannot {} partitions: {}", paused ? "pause" : "resume", rd_kafka_err2str(e));
}

void SinkRunner::apply_pause() {
  bool want = env_.is_paused();
  if (want == paused_) return;
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  kafka::PartitionListPtr owned(assigned);
  set_paused(owned.get(), want);
  paused_ = want;
  log_->info("{}", want ? "paused" : "resumed");
}

// librdkafka before 2.2 (Debian 12 ships 2.0.2) stops fetching a partition whose
// prefetch queue reached queued.min.messages and looks at it again only when its broker
// thread wakes, up to a second later (2.2 made this `fetch.queue.backoff.ms`). A sink
// that drains 100,000 messages in a fraction of that second then sits idle for the rest
// (docs/benchmarks.md). When our queue is running low while a partition still has lag,
// a ListOffsets request to its leader wakes that thread, and it fetches at once.
void SinkRunner::nudge_idle_fetchers() {
  if (kafka::fetch_queue_backoff_configurable()) return;
  auto now = Clock::now();
  if (now < next_nudge_) return;
  next_nudge_ = now + std::chrono::milliseconds(20);
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR || raw == nullptr)
    return;
  kafka::PartitionListPtr parts(raw);
  rd_kafka_position(consumer_.get(), parts.get());
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    int64_t low = 0, high = 0;
    // Both calls below only read librdkafka's cache; the query is the one request.
    if (p.offset < 0 ||
        rd_kafka_get_watermark_offsets(consumer_.get(), p.topic, p.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high <= p.offset)
      continue;
    rd_kafka_query_watermark_offsets(consumer_.get(), p.topic, p.partition, &low, &high, 100);
  }
}

void SinkRunner::consume_batch(std::vector<kafka::MessagePtr>& batch, int timeout_ms) {
  if (rd_kafka_queue_length(consumer_queue_.get()) < raw_batch_.size()) nudge_idle_fetchers();
  // One queue operation per batch instead of one per message; rebalance callbacks are
  // served from inside it, on this thread.
  raw_batch_.resize(kMaxBatch);
  ssize_t n = rd_kafka_consume_batch_queue(consumer_queue_.get(), timeout_ms, raw_batch_.data(),
                                           raw_batch_.size());
  for (ssize_t i = 0; i < n; ++i) {
    kafka::MessagePtr m(raw_batch_[static_cast<size_t>(i)]);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      batch.push_back(std::move(m));
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      log_->warn("consumer: {}", rd_kafka_message_errstr(m.get()));
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) failure_ = rd_kafka_message_errstr(m.get());
    }
  }
}

// A consumer that has lost every broker gets no record and no error it would see (the
// records simply stop), so without this its status would say nothing while it waits.
void SinkRunner::note_brokers(const metrics::KafkaClientStats& stats) {
  if (stats.role.empty() || stats.brokers == 0) return;
  auto now = Clock::now();
  if (stats.brokers_up == 0) {
    if (!brokers_down_) {
      brokers_down_ = true;
      brokers_down_since_ = now;
      log_->warn("no Kafka broker reachable ({}); waiting for one", stats.down);
    }
    if (env_.retry_note)
      env_.retry_note->set(fmt::format(
          "waiting for Kafka: no broker reachable for {} s ({})",
          std::chrono::duration_cast<std::chrono::seconds>(now - brokers_down_since_).count(),
          stats.down));
  } else if (brokers_down_) {
    brokers_down_ = false;
    log_->info("Kafka broker reachable again, after {} s without",
               std::chrono::duration_cast<std::chrono::seconds>(now - brokers_down_since_).count());
    if (env_.retry_note) env_.retry_note->clear();
  }
}

Status SinkRunner::with_retries(const char* what, const std::function<Status()>& call) {
  auto started = Clock::now();
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = call();
    if (!failure_.empty()) return Status::Fatal(failure_);
    if (!s.retriable()) {
      if (s.ok() && env_.retry_note && !brokers_down_) env_.retry_note->clear();
      return s;
    }
    if (env_.retry_note) env_.retry_note->set(std::string(what) + ": " + s.message());
    if (Clock::now() - started > std::chrono::milliseconds(env_.connector->retry_timeout_ms()))
      return Status::Fatal(
          fmt::format("{} gave up after errors.retry_timeout: {}", what, s.message()));
    log_->warn("{} failed (retriable), retrying in {} ms: {}", what, backoff.count(), s.message());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
  }
}

Status SinkRunner::deliver(const std::vector<kafka::MessagePtr>& batch) {
  // Views point into the messages, which stay alive until after put returns; the
  // vectors are members so a steady stream allocates nothing per batch.
  views_.resize(batch.size());
  header_views_.clear();
  for (size_t i = 0; i < batch.size(); ++i) {
    const rd_kafka_message_t* m = batch[i].get();
    size_t first = header_views_.size();
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t idx = 0; !rd_kafka_header_get_all(hdrs, idx, &name, &val, &size); ++idx)
        header_views_.push_back({name, {static_cast<const char*>(val), size}});
    }
    ferry_bytes span{nullptr, 0};
    uint64_t span_seq = 0;
    for (size_t h = first; h < header_views_.size(); ++h) {
      const auto& hv = header_views_[h];
      if (hv.name[0] != 'f' || hv.value.data == nullptr) continue;
      if (std::strcmp(hv.name, "ferry.span") == 0) {
        span = hv.value;
      } else if (std::strcmp(hv.name, "ferry.span.seq") == 0) {
        std::from_chars(hv.value.data, hv.value.data + hv.value.len, span_seq);
      }
    }
    for (const auto& [name, value] : insert_headers_)
      header_views_.push_back({name.c_str(), {value.data(), value.size()}});
    ferry_record_view& v = views_[i];
    v = ferry_record_view{};
    v.struct_size = sizeof(v);
    v.key = {static_cast<const char*>(m->key), m->key_len};
    v.value = {static_cast<const char*>(m->payload), m->len};
    v.header_count = header_views_.size() - first;
    v.headers = nullptr;
    v.offset = static_cast<int64_t>(first);  // index into header_views_, fixed up below
    v.topic = rd_kafka_topic_name(m->rkt);
    v.partition = m->partition;
    v.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
    v.span = span;
    v.span_seq = span_seq;
    bytes_in_ += m->len + m->key_len;
  }
  // header_views_ may have reallocated while growing: resolve pointers at the end.
  for (size_t i = 0; i < batch.size(); ++i) {
    ferry_record_view& v = views_[i];
    if (v.header_count > 0) v.headers = &header_views_[static_cast<size_t>(v.offset)];
    v.offset = batch[i]->offset;
  }
  if (span_hooks()) {
    if (Status sb = begin_spans(batch); !sb.ok()) return sb;
  }
  // Filtered-out records are not put, but count as processed below (offsets, spans).
  std::vector<ferry_record_view>* to_put = &views_;
  if (chain_) {
    transform_batch();
    if (!failure_.empty()) return Status::Fatal(failure_);
    to_put = &put_views_;
  }
  Status s = to_put->empty() ? Status::Ok() : with_retries("put", [&] {
    ferry_error err{};
    ferry_status st =
        plugin_.plugin()->sink_put(plugin_.get(), to_put->data(), to_put->size(), &err);
    return PluginTask::wrap(st, err);
  });
  if (!s.ok()) return s;
  // Messages of one partition arrive in offset order: remember the last of each run.
  for (size_t i = 0; i < batch.size(); ++i) {
    const rd_kafka_message_t* m = batch[i].get();
    bool last_of_run = i + 1 == batch.size() || batch[i + 1]->rkt != m->rkt ||
                       batch[i + 1]->partition != m->partition;
    if (last_of_run) {
      TopicPartition tp{rd_kafka_topic_name(m->rkt), m->partition};
      pending_[tp] = m->offset + 1;
      processed_[tp] = m->offset + 1;
    }
  }
  records_in_ += batch.size();
  uncommitted_records_ += batch.size();
  return Status::Ok();
}

Status SinkRunner::flush_and_commit() {
  if (pending_.empty() && span_changes_.empty()) {
    // Nothing to commit, but an idle flush lets a plugin let go of what it holds (file-sink
    // closes outputs idle for idle_close); once per offset_flush_interval, once it has
    // had records. Best effort: a retriable failure waits for the next one.
    if (records_in_ == 0) return Status::Ok();
    ferry_error err{};
    Status s = PluginTask::wrap(plugin_.plugin()->sink_flush(plugin_.get(), &err), err);
    if (s.retriable()) {
      log_->debug("idle flush failed (retriable): {}", s.message());
      return Status::Ok();
    }
    return s;
  }
  auto started = Clock::now();
  Status s = with_retries("flush", [&] {
    ferry_error err{};
    return PluginTask::wrap(plugin_.plugin()->sink_flush(plugin_.get(), &err), err);
  });
  if (!s.ok()) return s;
  if (dead_letter_) {
    rd_kafka_flush(dead_letter_.get(), static_cast<int>(env_.connector->retry_timeout_ms()));
    if (rd_kafka_outq_len(dead_letter_.get()) > 0)
      return Status::Fatal("dead letter records not acknowledged within errors.retry_timeout");
    if (!failure_.empty()) return Status::Fatal(failure_);
  }
  if (span_errors_unflushed_) {
    if (!env_.span_publisher->flush(static_cast<int>(env_.connector->retry_timeout_ms())))
      return Status::Retriable("span error events not acknowledged");
    span_errors_unflushed_ = false;
  }
  if (!span_changes_.empty()) {
    if (Status saved = env_.offsets->update(span_changes_); !saved.ok())
      return Status::Retriable("cannot save span state: " + saved.message());
    span_changes_.clear();
  }
  if (pending_.empty()) return Status::Ok();
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(pending_.size())));
  for (const auto& [tp, next] : pending_)
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = next;
  bool said = false;
  rd_kafka_resp_err_t e =
      kafka::commit_offsets_waiting(consumer_.get(), list.get(), [&](int64_t waited_s) {
        if (waited_s < 5) return;
        if (!said) log_->warn("offset commit not answered for {} s; waiting for Kafka", waited_s);
        said = true;
        if (env_.retry_note)
          env_.retry_note->set(fmt::format(
              "waiting for Kafka: offset commit not answered for {} s (group coordinator out "
              "of reach or busy)",
              waited_s));
      });
  if (said && env_.retry_note && !brokers_down_) env_.retry_note->clear();
  if (e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) {
    // The group no longer knows this member (a broker restart, a session that expired):
    // no retry can succeed until the consumer has rejoined, which only polling does.
    // What was not committed is delivered again after the rejoin (at-least-once).
    log_->warn(
        "offset commit refused ({}): rejoining the group; records after the last "
        "commit will be delivered again",
        rd_kafka_err2str(e));
    pending_.clear();
    uncommitted_records_ = 0;
    return Status::Ok();
  }
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
    return Status::Retriable(std::string("offset commit failed: ") + rd_kafka_err2str(e));
  if (log_->should_log(spdlog::level::debug)) {
    std::string committed;
    for (const auto& [tp, next] : pending_)
      committed += fmt::format(" {}[{}]={}", tp.first, tp.second, next);
    log_->debug("committed offsets:{}", committed);
  }
  pending_.clear();
  uncommitted_records_ = 0;
  commit_latency_.observe(std::chrono::duration<double>(Clock::now() - started).count());
  publish_metrics();
  return Status::Ok();
}

void SinkRunner::transform_batch() {
  transformed_.clear();
  std::vector<size_t> kept;
  for (size_t i = 0; i < views_.size(); ++i) {
    const ferry_record_view& v = views_[i];
    transforms::MutableRecord m = transforms::to_mutable(v, v.topic, v.timestamp_ms);
    bool keep = false;
    try {
      keep = chain_->apply(m);
    } catch (const transforms::TransformError& e) {
      ferry_error err{};
      if (reject(v, e.what(), &err) != FERRY_OK) return;  // failure_ is set
      continue;
    }
    if (!keep) {
      ++filtered_;
      continue;
    }
    transformed_.push_back(std::move(m));
    kept.push_back(i);
  }
  // transformed_ is complete: pointers into it stay valid from here on.
  put_views_.clear();
  put_headers_.clear();
  for (const auto& m : transformed_)
    for (const auto& [name, value] : m.headers)
      put_headers_.push_back({name.c_str(), {value.data(), value.size()}});
  size_t next_header = 0;
  for (size_t k = 0; k < kept.size(); ++k) {
    const auto& m = transformed_[k];
    ferry_record_view v = views_[kept[k]];
    v.key = m.key ? ferry_bytes{m.key->data(), m.key->size()} : ferry_bytes{nullptr, 0};
    v.value = m.value ? ferry_bytes{m.value->data(), m.value->size()} : ferry_bytes{nullptr, 0};
    v.header_count = m.headers.size();
    v.headers = v.header_count > 0 ? &put_headers_[next_header] : nullptr;
    next_header += m.headers.size();
    v.topic = m.topic.c_str();
    put_views_.push_back(v);
  }
}

void SinkRunner::publish_metrics() {
  publish_count("records_in", records_in_, published_in_);
  publish_count("bytes_in", bytes_in_, published_bytes_);
  publish_count("dead_letter_records", dead_lettered_, published_dlq_);
  publish_count("records_filtered", filtered_, published_filtered_);
  metrics_.observe("commit_latency_seconds", connector_, task_id_, commit_latency_);
  commit_latency_ = {};
}

void SinkRunner::leave_group() {
  // Give the partitions up through a normal revoke served by our own poll, then close.
  rd_kafka_unsubscribe(consumer_.get());
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(consumer_.get(), &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
    kafka::PartitionListPtr owned(assigned);
    if (owned->cnt == 0) break;
    // Records fetched now are not committed: the next owner gets them again.
    kafka::MessagePtr dropped(rd_kafka_consumer_poll(consumer_.get(), 100));
  }
  consumer_queue_.reset();
  rd_kafka_consumer_close(consumer_.get());
  consumer_.reset();
}

Status SinkRunner::run(const std::atomic<bool>& stop) {
  if (env_.connector->tolerate_all()) {
    if (Status s = create_dead_letter_producer(); !s.ok()) return s;
  }
  if (Status s = plugin_.create(env_.connector->descriptor, env_.connector->plugin_options(), this,
                                host_api(), connector_, task_id_,
                                static_cast<uint32_t>(env_.connector->tasks));
      !s.ok())
    return s;
  if (Status s = build_transform_chain(env_, chain_); !s.ok()) return s;
  if (Status s = create_consumer(); !s.ok()) return s;
  log_->info("sink task started, consuming {}", fmt::join(env_.connector->topics, ","));

  const auto flush_every = std::chrono::milliseconds(env_.worker->offset_flush_interval_ms);
  auto next_commit = Clock::now() + flush_every;
  std::vector<kafka::MessagePtr> batch;
  while (!stop.load(std::memory_order_relaxed)) {
    apply_pause();
    batch.clear();
    consume_batch(batch, 100);
    if (!failure_.empty()) return Status::Fatal(failure_);
    if (!batch.empty()) {
      if (Status s = deliver(batch); !s.ok()) return s;
    }
    if (span_hooks()) {
      if (Status s = end_finished_spans(); !s.ok()) return s;
      if (Status s = tell_empty_spans(); !s.ok()) return s;
    }
    if (Clock::now() >= next_commit || uncommitted_records_ >= kCommitEveryRecords) {
      Status s = with_retries("commit", [&] { return flush_and_commit(); });
      if (!s.ok()) return s;
      next_commit = Clock::now() + flush_every;
    }
  }
  // Messages hold references into the consumer: rd_kafka_destroy waits for them forever.
  batch.clear();
  if (Status s = with_retries("commit", [&] { return flush_and_commit(); }); !s.ok()) return s;
  leave_group();
  log_->info("sink task stopped cleanly");
  return Status::Ok();
}

}  // namespace ferry::runtime
