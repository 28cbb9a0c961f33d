#include "kafka/client_config.hpp"

#include <array>

#include "common/logging.hpp"

namespace ferry::kafka {

namespace {

// librdkafka's own log lines join ferry's log stream (same format, component "kafka").
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  static auto log = logging::get("kafka");
  auto l = level <= 3   ? spdlog::level::err
           : level == 4 ? spdlog::level::warn
           : level <= 6 ? spdlog::level::info
                        : spdlog::level::debug;
  log->log(l, "{} {}: {}", rd_kafka_name(rk), fac, buf);
}

}  // namespace

ConfPtr make_conf(const std::vector<config::KafkaProperties>& layers, std::string& error) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  std::array<char, 512> err{};
  for (const auto& layer : layers) {
    for (const auto& [k, v] : layer) {
      if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err.data(), err.size()) !=
          RD_KAFKA_CONF_OK) {
        error = "kafka property \"" + k + "\": " + err.data();
        return nullptr;
      }
    }
  }
  return conf;
}

KafkaPtr new_client(rd_kafka_type_t type, ConfPtr& conf, std::string& error) {
  std::array<char, 512> err{};
  KafkaPtr rk(rd_kafka_new(type, conf.get(), err.data(), err.size()));
  if (!rk) {
    error = err.data();
    return nullptr;
  }
  (void)conf.release();  // rd_kafka_new took ownership
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

config::KafkaProperties producer_defaults(int64_t retry_timeout_ms) {
  return {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // librdkafka (2.0.2 and, as of 2.8, still) keeps one ProduceRequest in flight per
      // partition with idempotence on: it compares a count of in-flight *messages* to
      // the limit of 5 *requests* (confluentinc/librdkafka#4989). While one waits for
      // its response, messages queued longer than linger.ms make the broker thread
      // poll() with a zero timeout until the response arrives: with 5 ms that spin was
      // a quarter of a source's CPU at full speed on 100-byte records. Batches cannot
      // leave faster than one per round trip anyway, so waiting longer costs no
      // throughput; a lone record waits up to 20 ms instead of 5 (a flush does not).
      {"linger.ms", "20"},
      {"batch.size", "1000000"},
      // Retriable produce errors are retried by librdkafka itself until this timeout.
      {"message.timeout.ms", std::to_string(retry_timeout_ms > 0 ? retry_timeout_ms : 300000)},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"client.id", "ferry"},
  };
}

config::KafkaProperties task_statistics() {
  return {{"statistics.interval.ms", "15000"}};
}

config::KafkaProperties consumer_defaults(const std::string& group_id) {
  config::KafkaProperties p = {
      {"group.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"client.id", "ferry"},
  };
  // A full prefetch queue otherwise pauses a partition's fetching for a whole second;
  // older librdkafka has no setting for it (SinkRunner::nudge_idle_fetchers).
  if (fetch_queue_backoff_configurable()) p["fetch.queue.backoff.ms"] = "10";
  return p;
}

bool fetch_queue_backoff_configurable() {
  return rd_kafka_version() >= 0x020200ff;
}

config::KafkaProperties embedded_tuning() {
  return {{"topic.metadata.refresh.interval.ms", "2000"}};
}

config::KafkaProperties sink_consumer_tuning() {
  // librdkafka's default prefetch of 100,000 messages per partition is ~65 MB of RSS
  // for 100-byte records; 20,000 keeps a sink at full speed once a full queue no longer
  // stalls fetching (SinkRunner::nudge_idle_fetchers). docs/benchmarks.md has both.
  return {{"queued.min.messages", "20000"}};
}

config::KafkaProperties embedded_consumer_tuning() {
  // The mock broker answers an empty fetch only after the full wait.
  return {{"fetch.wait.max.ms", "5"}};
}

}  // namespace ferry::kafka
