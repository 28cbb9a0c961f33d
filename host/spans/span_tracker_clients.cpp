// The span tracker's Kafka side: its clients, reaching the span topic (creating it with
// the partitions and timestamps trackers rely on) and the tracker group's rebalances.
#include <algorithm>
#include <chrono>
#include <thread>

#include "common/logging.hpp"
#include "kafka/client_config.hpp"
#include "kafka/topic_admin.hpp"
#include "kafka/watermarks.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::spans {
namespace {

// Hosts that share a span topic share its tracking; hosts on another span topic (a
// separate ferry cluster) must not wait on them in rebalances.
std::string tracker_group(const std::string& topic) {
  return "ferry-span-trackers." + topic;
}

}  // namespace

bool SpanTracker::create_clients(std::string& error) {
  auto layers = [&](config::KafkaProperties base, config::KafkaProperties last) {
    std::vector<config::KafkaProperties> all{std::move(base)};
    all.insert(all.end(), settings_.kafka.begin(), settings_.kafka.end());
    all.push_back(std::move(last));
    return all;
  };

  // The reader: every partition, from the beginning, no group.
  auto reader_conf = kafka::make_conf(
      // librdkafka wants a group id even for assign(); this one never joins or commits.
      layers({{"group.id", "ferry-span-reader"},
              {"enable.auto.commit", "false"},
              {"auto.offset.reset", "earliest"},
              {"enable.partition.eof", "false"}},
             {{"client.id", "ferry-span-reader"},
              // Short: how soon a span.completed follows a group's commit still
              // depends on it (p99 ~0.2 s at 20 ms, ~0.4 s at 100 ms, ~0.5-1 s at
              // 500 ms, 2026-12-02), though this host's own events come through
              // learn(). The price is ~4 % of a broker core per idle host.
              {"fetch.wait.max.ms", "20"},
              {"fetch.error.backoff.ms", "20"}}),
      error);
  if (!reader_conf) return false;
  reader_ = kafka::new_client(RD_KAFKA_CONSUMER, reader_conf, error);
  if (!reader_) {
    error = "span tracker: " + error;
    return false;
  }

  // The owner: membership in the tracker group decides which partitions we act for.
  auto owner_conf =
      kafka::make_conf(layers(kafka::consumer_defaults(tracker_group(settings_.topic)),
                              {{"client.id", "ferry-span-tracker"}}),
                       error);
  if (!owner_conf) return false;
  rd_kafka_conf_set_opaque(owner_conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(
      owner_conf.get(),
      [](rd_kafka_t*, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t* parts, void* self) {
        static_cast<SpanTracker*>(self)->on_rebalance(e, parts);
      });
  owner_ = kafka::new_client(RD_KAFKA_CONSUMER, owner_conf, error);
  if (!owner_) {
    error = "span tracker: " + error;
    return false;
  }
  return true;
}

bool SpanTracker::attach_until_stopped() {
  auto backoff = std::chrono::milliseconds(500);
  while (!stop_.load()) {
    // Not fatal: the broker may be starting or briefly away; spans are tracked once
    // it answers (until then GET /spans and sink span hooks see no delivered spans).
    for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stop_.load();
         waited += std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    std::string error;
    if (attach(error, 5000)) {
      log_->info("span tracker: the span topic is reachable again");
      return true;
    }
    log_->debug("{}", error);
  }
  return false;
}

bool SpanTracker::attach(std::string& error, int timeout_ms) {
  // Create the span topic partitioned for sharing (an existing topic is left as is).
  std::map<std::string, std::string> topic_config;
  if (settings_.retention_ms > 0)
    topic_config["retention.ms"] = std::to_string(settings_.retention_ms);
  // The broker stamps each event when it is appended: the time it became visible.
  topic_config["message.timestamp.type"] = "LogAppendTime";
  // One metadata round trip for the usual case, a topic that exists.
  int partitions = kafka::existing_partitions(reader_.get(), settings_.topic, timeout_ms);
  if (partitions < 0) {
    error = "span tracker: cannot reach the broker for span topic " + settings_.topic;
    return false;
  }
  if (partitions == 0) {
    if (settings_.create_topic) {
      if (Status s = kafka::ensure_topic(reader_.get(), settings_.topic, settings_.partitions,
                                         topic_config);
          !s.ok())
        log_->warn("cannot create span topic {}: {}", settings_.topic, s.message());
    }
    partitions = kafka::partition_count(reader_.get(), settings_.topic);
  }
  if (partitions == 0) {
    error = "span tracker: span topic " + settings_.topic + " has no partitions (cannot reach it)";
    return false;
  }
  kafka::PartitionListPtr all(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(all.get(), settings_.topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  if (auto e = rd_kafka_assign(reader_.get(), all.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("span tracker: cannot read the span topic: ") + rd_kafka_err2str(e);
    return false;
  }

  kafka::PartitionListPtr sub(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(sub.get(), settings_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(owner_.get(), sub.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error =
        "span tracker: cannot join " + tracker_group(settings_.topic) + ": " + rd_kafka_err2str(e);
    return false;
  }
  log_->info("tracking spans on {} ({} partitions)", settings_.topic, partitions);
  return true;
}

void SpanTracker::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::map<int32_t, int64_t> ends;
    for (int i = 0; i < parts->cnt; ++i) {
      int64_t lo = 0, hi = 0;
      int32_t p = parts->elems[i].partition;
      // Until the reader has read this far, we may not know what was announced.
      auto e = kafka::query_watermarks(reader_.get(), settings_.topic, p, lo, hi, 10000);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Never guess: an end too low would complete spans from half a history. The run
        // loop asks again (a topic created moments ago may not have a leader yet).
        log_->warn("span topic partition {}: end offset unknown ({}), asking again", p,
                   rd_kafka_err2str(e));
        hi = kUnknownEnd;
      }
      ends[p] = hi;
    }
    {
      std::lock_guard lock(mu_);
      for (auto& [p, hi] : ends) owned_[p] = hi;
    }
    rd_kafka_assign(owner_.get(), parts);
    rd_kafka_pause_partitions(owner_.get(), parts);
    log_->info("tracking completion for {} span topic partition(s)", parts->cnt);
    return;
  }
  // Whoever gets these partitions next must find our announcements in the log.
  publisher_.flush(10000);
  {
    std::lock_guard lock(mu_);
    owned_.clear();
  }
  rd_kafka_assign(owner_.get(), nullptr);
}

}  // namespace ferry::spans
