#include "spans/span_publisher.hpp"

#include <array>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "common/logging.hpp"
#include "kafka/client_config.hpp"

namespace ferry::spans {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf.data(), ms % 1000);
}

std::unique_ptr<SpanPublisher> SpanPublisher::create(
    const std::vector<config::KafkaProperties>& layers, std::string topic, std::string host_id,
    std::string& error) {
  std::vector<config::KafkaProperties> all{kafka::producer_defaults(0)};
  all.insert(all.end(), layers.begin(), layers.end());
  // Span events are small and latency matters more than batching (span.delivered p99).
  all.push_back({{"linger.ms", "1"}, {"client.id", "ferry-spans"}});
  kafka::ConfPtr conf = kafka::make_conf(all, error);
  if (!conf) return nullptr;
  std::unique_ptr<SpanPublisher> p(new SpanPublisher(std::move(topic), std::move(host_id)));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &SpanPublisher::on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), p.get());
  p->producer_ = kafka::new_client(RD_KAFKA_PRODUCER, conf, error);
  if (!p->producer_) {
    error = "cannot create span event producer: " + error;
    return nullptr;
  }
  p->poller_ = std::thread([raw = p.get()] {
    while (!raw->stop_.load()) rd_kafka_poll(raw->producer_.get(), 100);
  });
  return p;
}

SpanPublisher::~SpanPublisher() {
  flush(5000);
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(producer_.get(), 1000);  // runs the purged callbacks, freeing their opaques
  rkt_.reset();
  producer_.reset();
}

void SpanPublisher::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* self) {
  std::unique_ptr<AckFn> fn(static_cast<AckFn*>(msg->_private));
  bool ok = msg->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!ok) {
    static auto log = logging::get("spans");
    log->warn("span event not delivered: {}", rd_kafka_err2str(msg->err));
  } else if (auto* p = static_cast<SpanPublisher*>(self); p != nullptr && msg->payload) {
    std::lock_guard lock(p->listener_mu_);
    if (p->listener_)
      p->listener_(msg->partition, {static_cast<const char*>(msg->payload), msg->len});
  }
  if (fn && *fn) (*fn)(ok, ok ? std::string() : rd_kafka_err2str(msg->err));
}

void SpanPublisher::set_listener(Listener listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void SpanPublisher::publish(const std::string& type, const std::string& span_id,
                            nlohmann::json event, AckFn on_ack) {
  event["type"] = type;
  event["span"] = span_id;
  event["host"] = host_id_;
  event["at"] = format_time(now_ms());
  // Attributes come from outside (a file name need not be UTF-8): replace, not throw.
  std::string value = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::call_once(rkt_once_,
                 [&] { rkt_.reset(rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr)); });
  auto* opaque = on_ack ? new AckFn(std::move(on_ack)) : nullptr;
  rd_kafka_resp_err_t e = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_RKT(rkt_.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(span_id.data(), span_id.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::unique_ptr<AckFn> fn(opaque);
    if (fn) (*fn)(false, rd_kafka_err2str(e));
  }
}

bool SpanPublisher::flush(int timeout_ms) {
  return rd_kafka_flush(producer_.get(), timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace ferry::spans
