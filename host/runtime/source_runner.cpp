#include "runtime/source_runner.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "kafka/client_config.hpp"
#include "kafka/key_partitioner.hpp"
#include "kafka/topic_admin.hpp"
#include "runtime/dead_letter.hpp"
#include "runtime/header_insertions.hpp"
#include "runtime/plugin_transform.hpp"

namespace ferry::runtime {
namespace {

constexpr uint32_t kMaxRecordsPerPoll = 10'000;

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg, void* runner) {
  // Called from rd_kafka_poll/flush on the task's own thread.
  static_cast<SourceRunner*>(runner)->on_delivery(*msg);
}

void kafka_error(rd_kafka_t*, int err, const char* reason, void* runner) {
  static_cast<SourceRunner*>(runner)->on_kafka_error(err, reason);
}

// How long records may wait without any acknowledgement before the status says so.
constexpr auto kStallNotice = std::chrono::seconds(5);

int kafka_stats(rd_kafka_t*, char* json, size_t len, void* runner) {
  static_cast<SourceRunner*>(runner)->on_kafka_stats(json, len);
  return 0;  // librdkafka frees json
}

void span_committable(void* ledger, void* span, uint64_t seq) {
  static_cast<spans::SpanLedger*>(ledger)->committable(static_cast<spans::SpanLedger::Span*>(span),
                                                       seq);
}

}  // namespace

SourceRunner::SourceRunner(TaskEnvironment env)
    : TaskHost(env.log, *env.metrics, env.connector->name, env.task_id, *env.offsets, *env.state),
      env_(std::move(env)),
      insert_headers_(header_insertions(*env_.connector)) {
  if (env_.span_publisher != nullptr && env_.connector->span.boolean("enabled")) {
    spans_ = std::make_unique<spans::SpanLedger>(
        *env_.span_publisher, connector_, env_.connector->topic,
        env_.connector->span.integer("ttl"), *env_.offsets, log_, env_.task_id,
        static_cast<uint32_t>(env_.connector->tasks));
    tracker_.on_committable(&span_committable, spans_.get());
  }
}

ferry_status SourceRunner::span_open(ferry_bytes key, const ferry_header_view* attrs, size_t count,
                                     ferry_error* err) {
  if (!spans_) return FERRY_OK;
  nlohmann::json a = nlohmann::json::object();
  for (size_t i = 0; i < count; ++i)
    a[attrs[i].name] =
        std::string(attrs[i].value.data ? attrs[i].value.data : "", attrs[i].value.len);
  return detail::to_c(spans_->open({key.data ? key.data : "", key.len}, std::move(a)), err);
}

ferry_status SourceRunner::span_close(ferry_bytes key, ferry_error* err) {
  if (!spans_) return FERRY_OK;
  return detail::to_c(spans_->close({key.data ? key.data : "", key.len}), err);
}

ferry_status SourceRunner::topic_ensure(const char* topic, int32_t partitions,
                                        const ferry_header_view* configs, size_t count,
                                        ferry_error* err) {
  // The embedded broker cannot create topics (it auto-creates them on first use).
  if (env_.embedded_broker || !producer_) return FERRY_OK;
  std::map<std::string, std::string> cfg;
  for (size_t i = 0; i < count; ++i)
    cfg[configs[i].name] =
        std::string(configs[i].value.data ? configs[i].value.data : "", configs[i].value.len);
  Status s = kafka::ensure_topic(producer_.get(), topic, partitions, cfg);
  if (s.ok()) return FERRY_OK;
  return detail::to_c(
      Status::Retriable(fmt::format("cannot create topic {}: {}", topic, s.message())), err);
}

ferry_status SourceRunner::offset_forget(ferry_bytes partition, ferry_error*) {
  std::string_view p(partition.data ? partition.data : "", partition.len);
  if (p.empty()) return FERRY_OK;
  tracker_.forget(p);
  forgotten_.emplace(p);
  return FERRY_OK;
}

SourceRunner::~SourceRunner() {
  // Destroy order matters: the plugin first (it may still log through us), then
  // outstanding messages (their opaques point into tracker_), then the producer.
  plugin_.reset();
  batch_.clear();  // never queued: their offsets were not committed either
  if (producer_) {
    closing_ = true;
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer_.get(), 1000);
    topics_.clear();
    producer_.reset();
  }
}

Status SourceRunner::create_producer() {
  const auto& c = *env_.connector;
  std::string error;
  kafka::ConfPtr conf =
      kafka::make_conf({kafka::producer_defaults(c.retry_timeout_ms()), kafka::task_statistics(),
                        env_.worker->kafka, env_.worker_overrides, c.kafka},
                       error);
  if (!conf) return Status::Config(error);
  bool partitioner_chosen = false;
  for (const config::KafkaProperties* layer :
       {&env_.worker->kafka, static_cast<const config::KafkaProperties*>(&env_.worker_overrides),
        &c.kafka})
    partitioner_chosen = partitioner_chosen || layer->contains("partitioner");
  if (!partitioner_chosen) kafka::use_remembering_partitioner(conf.get());
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &delivery_report);
  rd_kafka_conf_set_stats_cb(conf.get(), &kafka_stats);
  rd_kafka_conf_set_error_cb(conf.get(), &kafka_error);
  std::array<char, 512> err{};
  producer_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err.data(), err.size()));
  if (!producer_) return Status::Config(std::string("cannot create producer: ") + err.data());
  (void)conf.release();  // rd_kafka_new took ownership
  batch_.fit_to(producer_.get());
  default_topic_ = topic(c.topic.c_str());
  return Status::Ok();
}

rd_kafka_topic_t* SourceRunner::topic(const char* name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return it->second.get();
  kafka::TopicPtr t(rd_kafka_topic_new(producer_.get(), name, nullptr));
  rd_kafka_topic_t* raw = t.get();
  topics_.emplace(name, std::move(t));
  return raw;
}

ferry_status SourceRunner::emit(const ferry_record_view& r, ferry_error* err) {
  if (chain_ && !(r.flags & FERRY_RECORD_OFFSET_ONLY)) return emit_transformed(r, err);
  return emit_view(r, err);
}

ferry_status SourceRunner::emit_transformed(const ferry_record_view& r, ferry_error* err) {
  // Unset (0) means "now" to Kafka, and to timestamp_router too.
  int64_t ts = r.timestamp_ms > 0 ? r.timestamp_ms
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  transforms::MutableRecord m =
      transforms::to_mutable(r, r.topic != nullptr ? r.topic : env_.connector->topic, ts);
  bool keep = false;
  try {
    keep = chain_->apply(m);
  } catch (const transforms::TransformError& e) {
    return reject(r, e.what(), err);  // dead letter topic, or the task fails
  }
  if (!keep) {
    // Filtered out: processed as far as the source offset goes, never in its span.
    ferry_record_view skip = r;
    skip.flags |= FERRY_RECORD_OFFSET_ONLY;
    ++records_in_;
    ++filtered_;
    return emit_view(skip, err);
  }
  ferry_record_view v = r;
  v.key = m.key ? ferry_bytes{m.key->data(), m.key->size()} : ferry_bytes{nullptr, 0};
  v.value = m.value ? ferry_bytes{m.value->data(), m.value->size()} : ferry_bytes{nullptr, 0};
  transformed_headers_.clear();
  for (const auto& [name, value] : m.headers)
    transformed_headers_.push_back({name.c_str(), {value.data(), value.size()}});
  v.headers = transformed_headers_.data();
  v.header_count = transformed_headers_.size();
  v.topic = m.topic.c_str();
  return emit_view(v, err);
}

ferry_status SourceRunner::emit_view(const ferry_record_view& r, ferry_error* err) {
  std::string_view partition(r.source_partition.data ? r.source_partition.data : "",
                             r.source_partition.len);
  std::string_view offset(r.source_offset.data ? r.source_offset.data : "", r.source_offset.len);
  if (r.flags & FERRY_RECORD_OFFSET_ONLY) {
    tracker_.add(partition, offset, 0, /*done=*/true);
    return FERRY_OK;
  }
  size_t bytes = r.key.len + r.value.len;
  SourceOffsetTracker::Entry* entry = tracker_.add(partition, offset, bytes);
  ++records_in_;
  if (emitted_since_poll_++ % 256 == 0) produce_clock_us_ = steady_us();
  entry->produced_us = produce_clock_us_;

  spans::SpanLedger::Span* span = nullptr;
  if (spans_ && r.struct_size >= sizeof(ferry_record_view) && r.span.len > 0) {
    span = spans_->span_for({r.span.data, r.span.len});
    entry->span = span;
    entry->seq = spans_->next_seq(span);
  }

  kafka::HeadersPtr headers;
  if (r.header_count > 0 || !insert_headers_.empty() || span != nullptr) {
    headers.reset(rd_kafka_headers_new(r.header_count + insert_headers_.size() + 2));
    for (size_t i = 0; i < r.header_count; ++i)
      rd_kafka_header_add(headers.get(), r.headers[i].name, -1, r.headers[i].value.data,
                          static_cast<ssize_t>(r.headers[i].value.len));
    for (const auto& [name, value] : insert_headers_)
      rd_kafka_header_add(headers.get(), name.c_str(), -1, value.data(),
                          static_cast<ssize_t>(value.size()));
    if (span != nullptr) {
      std::array<char, 24> seq{};
      auto [end, ec] = std::to_chars(seq.data(), seq.data() + seq.size(), entry->seq);
      rd_kafka_header_add(headers.get(), "ferry.span", -1, span->id.data(),
                          static_cast<ssize_t>(span->id.size()));
      rd_kafka_header_add(headers.get(), "ferry.span.seq", -1, seq.data(), end - seq.data());
    }
  }
  rd_kafka_topic_t* rkt = r.topic ? topic(r.topic) : default_topic_;
  if (!headers && r.timestamp_ms == 0 && batch_.fits(r.key.len, r.value.len)) {
    if (!batch_.accepts(rkt)) flush_batch();
    batch_.add(rkt, r.key.data, r.key.len, r.value.data, r.value.len, entry);
    if (batch_.full()) flush_batch();
    return FERRY_OK;
  }
  flush_batch();  // what was staged before this record goes before it
  rd_kafka_resp_err_t e = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(const_cast<char*>(r.key.data), r.key.len),
      RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data), r.value.len),
      RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_TIMESTAMP(r.timestamp_ms),
      RD_KAFKA_V_OPAQUE(entry), RD_KAFKA_V_END);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (void)headers.release();
    return FERRY_OK;
  }
  // Refused before it was queued (too large, unknown partition...): nothing will be
  // retried, so this record is bad input as far as delivery is concerned.
  std::string reason =
      fmt::format("cannot produce to {}: {}", rd_kafka_topic_name(rkt), rd_kafka_err2str(e));
  if (span != nullptr) {
    spans_->failed(span, reason);
    entry->dead_lettered = true;
  }
  if (env_.connector->tolerate_all() && produce_to_dead_letter(r, reason, "produce", entry))
    return FERRY_OK;
  detail::write_error(err, reason);
  failure_ = reason;
  return FERRY_FATAL;
}

ferry_status SourceRunner::reject(const ferry_record_view& r, const char* reason,
                                  ferry_error* err) {
  std::string_view partition(r.source_partition.data ? r.source_partition.data : "",
                             r.source_partition.len);
  std::string_view offset(r.source_offset.data ? r.source_offset.data : "", r.source_offset.len);
  if (!env_.connector->tolerate_all()) {
    std::string msg = fmt::format("bad record (errors.tolerance = \"none\"): {}", reason);
    detail::write_error(err, msg);
    failure_ = msg;
    return FERRY_FATAL;
  }
  SourceOffsetTracker::Entry* entry = tracker_.add(partition, offset, r.key.len + r.value.len);
  if (!produce_to_dead_letter(r, reason, "source", entry)) {
    detail::write_error(err, failure_);
    return FERRY_FATAL;
  }
  return FERRY_OK;
}

bool SourceRunner::produce_to_dead_letter(const ferry_record_view& r, std::string_view reason,
                                          std::string_view stage,
                                          SourceOffsetTracker::Entry* entry) {
  const auto& c = *env_.connector;
  if (c.errors.boolean("log"))
    log_->warn("record sent to dead letter topic {}: {}", c.dead_letter_topic(), reason);
  DeadLetterContext ctx{reason, stage, c.name, env_.task_id, c.topic, -1, -1};
  if (entry != nullptr) entry->produced_us = steady_us();
  rd_kafka_resp_err_t e =
      produce_dead_letter(producer_.get(), c.dead_letter_topic(), r, ctx, entry);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure_ = fmt::format("cannot write to dead letter topic {}: {}", c.dead_letter_topic(),
                           rd_kafka_err2str(e));
    return false;
  }
  ++dead_lettered_;
  return true;
}

void SourceRunner::flush_batch() {
  if (batch_.empty()) return;
  batch_.produce([this](const kafka::ProduceBatch::Refused& r) { on_refused(r); });
}

void SourceRunner::on_refused(const kafka::ProduceBatch::Refused& r) {
  // As in emit_view, but found after emit() returned: the task fails at the end of the
  // plugin's poll instead of inside it, and this record's offset is never committed.
  auto* entry = static_cast<SourceOffsetTracker::Entry*>(r.opaque);
  std::string reason = fmt::format("cannot produce to {}: {}", rd_kafka_topic_name(r.topic),
                                   rd_kafka_err2str(r.err));
  if (env_.connector->tolerate_all()) {
    ferry_record_view v{};
    v.struct_size = sizeof(v);
    v.key = {r.key, r.key_len};
    v.value = {r.value, r.value_len};
    if (produce_to_dead_letter(v, reason, "produce", entry)) return;
  }
  if (failure_.empty()) failure_ = reason;
}

void SourceRunner::on_delivery(const rd_kafka_message_t& msg) {
  auto* entry = static_cast<SourceOffsetTracker::Entry*>(msg._private);
  if (closing_) return;  // purged on teardown; the tracker is going away
  if (msg.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++records_out_;
    bytes_out_ += msg.len + msg.key_len;
    if (entry != nullptr) {
      if (delivery_clock_us_ < 0 || ++deliveries_since_clock_ % 256 == 0)
        delivery_clock_us_ = steady_us();
      produce_latency_.observe(
          static_cast<double>(std::max<int64_t>(delivery_clock_us_ - entry->produced_us, 0)) / 1e6);
    }
    ++acks_;
    if (entry != nullptr && entry->span != nullptr && !entry->dead_lettered)
      spans_->acked(static_cast<spans::SpanLedger::Span*>(entry->span),
                    rd_kafka_topic_name(msg.rkt), msg.partition, msg.offset);
    tracker_.ack(entry);
    return;
  }
  const auto& c = *env_.connector;
  std::string topic_name = rd_kafka_topic_name(msg.rkt);
  std::string reason =
      fmt::format("delivery to {} failed: {}", topic_name, rd_kafka_err2str(msg.err));
  bool is_dlq = c.tolerate_all() && topic_name == c.dead_letter_topic();
  if (entry != nullptr && entry->span != nullptr && !entry->dead_lettered) {
    spans_->failed(static_cast<spans::SpanLedger::Span*>(entry->span), reason);
    entry->dead_lettered = true;
  }
  if (c.tolerate_all() && !is_dlq) {
    // The record itself is the problem only for permanent errors; a timeout means
    // Kafka was unreachable for retry_timeout, which fails the task either way.
    bool permanent = msg.err != RD_KAFKA_RESP_ERR__MSG_TIMED_OUT &&
                     msg.err != RD_KAFKA_RESP_ERR__TIMED_OUT &&
                     msg.err != RD_KAFKA_RESP_ERR__TRANSPORT;
    if (permanent) {
      ferry_record_view v{};
      v.struct_size = sizeof(v);
      v.key = {static_cast<const char*>(msg.key), msg.key_len};
      v.value = {static_cast<const char*>(msg.payload), msg.len};
      if (produce_to_dead_letter(v, reason, "produce", entry)) return;
    }
  }
  if (failure_.empty()) failure_ = reason;
}

void SourceRunner::note_save(const Status& saved) {
  if (saved.ok()) {
    if (save_failing_) {
      save_failing_ = false;
      log_->info("source offsets saved again; reading on");
      if (env_.retry_note) env_.retry_note->clear();
    }
    return;
  }
  std::string text = saved.message() + "; not reading on until they can be saved";
  // Logged when it starts and once a minute after that; the status is kept current.
  auto now = Clock::now();
  if (!save_failing_ || now >= next_save_log_) {
    log_->warn("{}", text);
    next_save_log_ = now + std::chrono::minutes(1);
  }
  save_failing_ = true;
  if (env_.retry_note) env_.retry_note->set(text);
}

void SourceRunner::on_kafka_error(int err, const char* reason) {
  last_kafka_error_ =
      reason != nullptr ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
}

void SourceRunner::watch_delivery(Clock::time_point now) {
  size_t waiting = tracker_.in_flight_records();
  if (acks_ != acks_seen_ || waiting == 0) {
    acks_seen_ = acks_;
    if (kafka_stalled_) {
      kafka_stalled_ = false;
      log_->info("Kafka acknowledges records again, after {} s without",
                 std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count());
      if (env_.retry_note && !save_failing_) env_.retry_note->clear();
    }
    last_progress_ = now;
    return;
  }
  if (now - last_progress_ < kStallNotice || now < next_stall_report_) return;
  std::string text = fmt::format(
      "waiting for Kafka: nothing acknowledged for {} s, {} records in flight{}",
      std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count(), waiting,
      last_kafka_error_.empty() ? "" : "; last client error: " + last_kafka_error_);
  if (env_.retry_note) env_.retry_note->set(text);
  // Logged when it starts and once a minute after that; the status is kept current.
  if (!kafka_stalled_ || now >= next_stall_log_) {
    log_->warn("{}", text);
    next_stall_log_ = now + std::chrono::minutes(1);
  }
  kafka_stalled_ = true;
  next_stall_report_ = now + std::chrono::seconds(1);
}

void SourceRunner::poll_producer(int timeout_ms) {
  flush_batch();
  rd_kafka_poll(producer_.get(), timeout_ms);
  delivery_clock_us_ = -1;
  if (tracker_.has_delivered()) tell_delivered();
}

void SourceRunner::tell_delivered() {
  const ferry_plugin* p = plugin_.plugin();
  if (p == nullptr || plugin_.get() == nullptr || !FERRY_PLUGIN_HAS(p, source_delivered)) {
    tracker_.take_delivered([](std::string_view, std::string_view) {});
    return;
  }
  tracker_.take_delivered([&](std::string_view partition, std::string_view offset) {
    p->source_delivered(plugin_.get(), ferry_bytes{partition.data(), partition.size()},
                        ferry_bytes{offset.data(), offset.size()});
  });
}

Status SourceRunner::commit_offsets() {
  auto committable = tracker_.take_committable();
  publish_metrics();
  // What a failed save left (span state taken from the ledger) goes first; span state
  // goes into the same atomic write as the offsets it corresponds to.
  std::map<std::string, std::optional<std::string>> changes = std::move(unsaved_);
  unsaved_.clear();
  if (spans_)
    for (auto& [k, v] : spans_->take_changes()) changes[k] = std::move(v);
  // A partition forgotten and then emitted to again (a new file under a reused inode)
  // keeps its new offset.
  for (const auto& p : forgotten_)
    if (!committable.contains(p)) changes[p] = std::nullopt;
  if (committable.empty() && changes.empty()) return Status::Ok();
  for (auto& [p, o] : committable) changes[p] = o;
  auto started = Clock::now();
  if (Status saved = env_.offsets->update(changes); !saved.ok()) {
    // Nothing was saved: the same offsets go into the next attempt, or a partition that
    // gets no more records (a finished file) would keep its old offset for good.
    tracker_.restore(committable);
    for (const auto& [p, o] : committable) changes.erase(p);
    unsaved_ = std::move(changes);
    return Status::Retriable("cannot save source offsets: " + saved.message());
  }
  forgotten_.clear();
  commit_latency_.observe(std::chrono::duration<double>(Clock::now() - started).count());
  if (log_->should_log(spdlog::level::debug) && !committable.empty()) {
    std::string saved;
    for (const auto& [p, o] : committable) saved += fmt::format(" {}={}", p, o);
    log_->debug("saved source offsets:{}", saved);
  }
  if (plugin_.get() != nullptr && plugin_.plugin()->source_committed != nullptr) {
    for (const auto& [p, o] : committable)
      plugin_.plugin()->source_committed(plugin_.get(), ferry_bytes{p.data(), p.size()},
                                         ferry_bytes{o.data(), o.size()});
  }
  return Status::Ok();
}

void SourceRunner::publish_metrics() {
  publish_count("records_in", records_in_, published_in_);
  publish_count("records_out", records_out_, published_out_);
  publish_count("bytes_out", bytes_out_, published_bytes_);
  publish_count("dead_letter_records", dead_lettered_, published_dlq_);
  publish_count("records_filtered", filtered_, published_filtered_);
  metrics_.set("in_flight_records", connector_, task_id_, double(tracker_.in_flight_records()));
  metrics_.observe("produce_latency_seconds", connector_, task_id_, produce_latency_);
  metrics_.observe("commit_latency_seconds", connector_, task_id_, commit_latency_);
  produce_latency_ = {};
  commit_latency_ = {};
}

Status SourceRunner::poll_plugin(uint32_t max_records, Clock::time_point& retry_since,
                                 std::chrono::milliseconds& backoff) {
  ferry_error err{};
  ferry_status s = plugin_.plugin()->source_poll(plugin_.get(), max_records, &err);
  flush_batch();
  if (!failure_.empty()) return Status::Fatal(failure_);
  if (s == FERRY_OK) {
    retry_since = Clock::time_point{};
    backoff = std::chrono::milliseconds(100);
    if (env_.retry_note && !kafka_stalled_ && !save_failing_) env_.retry_note->clear();
    return Status::Ok();
  }
  Status st = PluginTask::wrap(s, err);
  if (!st.retriable()) return st;
  if (env_.retry_note) env_.retry_note->set(st.message());
  auto now = Clock::now();
  if (retry_since == Clock::time_point{}) retry_since = now;
  if (now - retry_since > std::chrono::milliseconds(env_.connector->retry_timeout_ms()))
    return Status::Fatal("gave up after errors.retry_timeout: " + st.message());
  log_->warn("retriable error, retrying in {} ms: {}", backoff.count(), st.message());
  poll_producer(static_cast<int>(backoff.count()));
  backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
  return Status::Ok();
}

// A plugin that buffers input (MQTT messages already acknowledged to their broker)
// gets to hand it over: it stops taking input, then is polled until it has nothing.
Status SourceRunner::stop_plugin() {
  const ferry_plugin* p = plugin_.plugin();
  if (p == nullptr || !FERRY_PLUGIN_HAS(p, source_stop)) return Status::Ok();
  p->source_stop(plugin_.get());
  auto deadline = Clock::now() + std::chrono::milliseconds(env_.worker->shutdown_timeout_ms);
  const auto& c = *env_.connector;
  while (Clock::now() < deadline) {
    poll_producer(0);
    if (!failure_.empty()) return Status::Fatal(failure_);
    size_t in_flight = tracker_.in_flight_records();
    if (in_flight >= static_cast<size_t>(c.max_in_flight) ||
        tracker_.in_flight_bytes() >= c.max_in_flight_bytes) {
      poll_producer(5);
      continue;
    }
    emitted_since_poll_ = 0;
    ferry_error err{};
    auto max = static_cast<uint32_t>(
        std::min<size_t>(kMaxRecordsPerPoll, static_cast<size_t>(c.max_in_flight) - in_flight));
    Status s = PluginTask::wrap(p->source_poll(plugin_.get(), max, &err), err);
    flush_batch();
    if (!failure_.empty()) return Status::Fatal(failure_);
    if (!s.ok() && !s.retriable()) return s;
    if (emitted_since_poll_ == 0) break;
  }
  return Status::Ok();
}

void SourceRunner::drain() {
  auto deadline = Clock::now() + std::chrono::milliseconds(env_.worker->shutdown_timeout_ms);
  while (tracker_.in_flight_records() > 0 && Clock::now() < deadline && failure_.empty())
    poll_producer(100);
  if (spans_) {
    // Let span.delivered of spans that just finished reach Kafka, so the state saved
    // below need not announce them again on the next start.
    env_.span_publisher->flush(2000);
    spans_->tick();
  }
  if (tracker_.in_flight_records() > 0)
    log_->warn("stopping with {} records not acknowledged; they will be sent again on restart",
               tracker_.in_flight_records());
}

Status SourceRunner::run(const std::atomic<bool>& stop) {
  if (Status s = create_producer(); !s.ok()) return s;
  if (Status s = build_transform_chain(env_, chain_); !s.ok()) return s;
  if (Status s = plugin_.create(env_.connector->descriptor, env_.connector->plugin_options(), this,
                                host_api(), connector_, task_id_,
                                static_cast<uint32_t>(env_.connector->tasks));
      !s.ok())
    return s;
  log_->info("source task started");
  if (Status s = pump(stop); !s.ok()) {
    settle_after_failure();
    return s;
  }
  if (Status s = stop_plugin(); !s.ok()) return s;
  drain();
  Status committed = commit_offsets();
  if (!failure_.empty()) return Status::Fatal(failure_);
  if (!committed.ok()) return committed;
  log_->info("source task stopped cleanly");
  return Status::Ok();
}

void SourceRunner::settle_after_failure() {
  // Whatever failed, the records queued before it are good: their delivery reports are
  // let in and their offsets committed, so the restarted task resumes at the failure
  // instead of sending them again, on every restart if the failure repeats.
  batch_.clear();  // nothing is staged when a failure surfaces; if it were, it came after
  auto deadline = Clock::now() + std::chrono::milliseconds(env_.worker->shutdown_timeout_ms);
  while (rd_kafka_outq_len(producer_.get()) > 0 && Clock::now() < deadline) poll_producer(50);
  if (Status s = commit_offsets(); !s.ok()) log_->warn("{}", s.message());
}

Status SourceRunner::pump(const std::atomic<bool>& stop) {
  const auto& c = *env_.connector;
  const auto flush_every = std::chrono::milliseconds(env_.worker->offset_flush_interval_ms);
  // A task gone quiet with every record acknowledged saves its offsets at once (at most
  // ten times per interval and once a second): batch-mode on_done and the CDC position
  // the database may release follow the last delivery report, not the next interval.
  const auto quiet_gap =
      std::min<std::chrono::milliseconds>(flush_every / 10, std::chrono::seconds(1));
  auto next_commit = Clock::now() + flush_every;
  auto last_commit = Clock::now();
  Clock::time_point retry_since{};
  auto backoff = std::chrono::milliseconds(100);
  int idle_ms = 1;

  while (!stop.load(std::memory_order_relaxed)) {
    poll_producer(0);
    if (!failure_.empty()) return Status::Fatal(failure_);
    if (spans_) spans_->tick();
    size_t in_flight = tracker_.in_flight_records();
    // Paused: deliveries and commits go on, the plugin is not asked for more.
    // A full or failing state_dir: reading on would only grow what a crash sends twice.
    bool room = in_flight < static_cast<size_t>(c.max_in_flight) &&
                tracker_.in_flight_bytes() < c.max_in_flight_bytes && !env_.is_paused() &&
                !save_failing_;
    bool quiet = false;
    if (room) {
      auto max = static_cast<uint32_t>(
          std::min<size_t>(kMaxRecordsPerPoll, static_cast<size_t>(c.max_in_flight) - in_flight));
      emitted_since_poll_ = 0;
      if (Status s = poll_plugin(max, retry_since, backoff); !s.ok()) return s;
      quiet = emitted_since_poll_ == 0;
      if (quiet) {
        // Nothing to read: wait, waking early for delivery reports.
        poll_producer(idle_ms);
        idle_ms = std::min(idle_ms * 2, 50);
      } else {
        idle_ms = 1;
      }
    } else {
      poll_producer(5);
    }
    auto now = Clock::now();
    watch_delivery(now);
    bool settled = quiet && tracker_.in_flight_records() == 0 && tracker_.has_committable() &&
                   now >= last_commit + quiet_gap;
    if (now >= next_commit || settled) {
      note_save(commit_offsets());
      last_commit = Clock::now();
      next_commit = last_commit + flush_every;
    }
  }
  return Status::Ok();
}

}  // namespace ferry::runtime
