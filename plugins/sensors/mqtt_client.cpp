#include "mqtt_client.hpp"

#include <mosquitto.h>

#include <chrono>
#include <utility>

namespace ferry::sensors {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct LibInit {
  LibInit() { mosquitto_lib_init(); }
};

}  // namespace

std::string parse_mqtt_url(const std::string& url, MqttSettings& out) {
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    out.tls = false;
    out.port = 1883;
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    out.tls = true;
    out.port = 8883;
    rest = url.substr(8);
  } else {
    return "url must start with mqtt:// or mqtts://, not \"" + url + "\"";
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos || rest.find('@') != std::string::npos)
    return "url takes host[:port] only (credentials go in username/password): \"" + url + "\"";
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535)
      return "bad port in url \"" + url + "\"";
    out.port = static_cast<int>(p);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return "url has no host: \"" + url + "\"";
  out.host = rest;
  return {};
}

MqttClient::MqttClient(MqttSettings settings) : settings_(std::move(settings)) {
  static LibInit init;
}

MqttClient::~MqttClient() {
  stop();
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
}

std::string MqttClient::start() {
  const MqttSettings& s = settings_;
  mosq_ = mosquitto_new(s.client_id.empty() ? nullptr : s.client_id.c_str(), s.clean_session, this);
  if (mosq_ == nullptr) return "cannot create MQTT client (client_id \"" + s.client_id + "\")";
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (!s.username.empty()) {
    int rc = mosquitto_username_pw_set(mosq_, s.username.c_str(),
                                       s.password.empty() ? nullptr : s.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) return std::string("username: ") + mosquitto_strerror(rc);
  }
  if (s.tls) {
    if (s.ca_file.empty()) mosquitto_int_option(mosq_, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    int rc = mosquitto_tls_set(mosq_, s.ca_file.empty() ? nullptr : s.ca_file.c_str(),
                               s.ca_file.empty() ? "/etc/ssl/certs" : nullptr,
                               s.cert_file.empty() ? nullptr : s.cert_file.c_str(),
                               s.key_file.empty() ? nullptr : s.key_file.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      return std::string("TLS settings (tls_ca, tls_cert, tls_key): ") + mosquitto_strerror(rc);
    if (s.tls_insecure) mosquitto_tls_insecure_set(mosq_, true);
  }
  mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
  mosquitto_connect_with_flags_callback_set(mosq_, &on_connect);
  mosquitto_disconnect_callback_set(mosq_, &on_disconnect);
  mosquitto_subscribe_callback_set(mosq_, &on_subscribe);
  mosquitto_message_callback_set(mosq_, &on_message);
  int rc = mosquitto_connect_async(mosq_, s.host.c_str(), s.port, s.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS)
    event(MqttEvent::Level::kWarn, "cannot connect to " + s.host + ":" + std::to_string(s.port) +
                                       ": " + mosquitto_strerror(rc) + "; retrying");
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) return std::string("MQTT network thread: ") + mosquitto_strerror(rc);
  loop_started_ = true;
  return {};
}

void MqttClient::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  space_.notify_all();
  if (mosq_ == nullptr || !loop_started_) return;
  // No UNSUBSCRIBE: with a persistent session the broker keeps queueing for us while we
  // are away, which is the point of client_id.
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  loop_started_ = false;
}

size_t MqttClient::drain(std::vector<MqttMessage>& out, size_t max) {
  size_t n = 0;
  {
    std::lock_guard lock(mu_);
    while (n < max && !queue_.empty()) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
      ++n;
    }
  }
  if (n > 0) space_.notify_all();
  return n;
}

std::vector<MqttEvent> MqttClient::take_events() {
  std::lock_guard lock(mu_);
  return std::exchange(events_, {});
}

size_t MqttClient::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void MqttClient::event(MqttEvent::Level level, std::string text) {
  std::lock_guard lock(mu_);
  if (events_.size() < 1000) events_.push_back({level, std::move(text)});
}

void MqttClient::on_connect(mosquitto* m, void* self, int rc, int flags) {
  auto* c = static_cast<MqttClient*>(self);
  const MqttSettings& s = c->settings_;
  std::string where = s.host + ":" + std::to_string(s.port);
  if (rc != 0) {
    c->event(MqttEvent::Level::kError,
             "MQTT broker " + where + " refused the connection: " + mosquitto_connack_string(rc) +
                 (rc == 4 || rc == 5 ? " (check username, password and the broker's ACL)" : "") +
                 "; retrying with backoff");
    return;
  }
  c->event(MqttEvent::Level::kInfo, "connected to MQTT broker " + where +
                                        ((flags & 1) ? " (resuming the persistent session)" : ""));
  std::vector<char*> subs;
  for (const auto& t : s.topics) subs.push_back(const_cast<char*>(t.c_str()));
  int src = mosquitto_subscribe_multiple(m, nullptr, static_cast<int>(subs.size()), subs.data(),
                                         s.qos, 0, nullptr);
  if (src != MOSQ_ERR_SUCCESS)
    c->event(MqttEvent::Level::kError, std::string("subscribe failed: ") + mosquitto_strerror(src));
}

void MqttClient::on_disconnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttClient*>(self);
  if (rc == 0) return;  // we asked for it
  c->event(MqttEvent::Level::kWarn, std::string("lost the MQTT connection (") +
                                        mosquitto_strerror(rc) + "); reconnecting with backoff");
}

void MqttClient::on_subscribe(mosquitto*, void* self, int, int count, const int* granted) {
  auto* c = static_cast<MqttClient*>(self);
  int refused = 0;
  for (int i = 0; i < count && i < static_cast<int>(c->settings_.topics.size()); ++i) {
    if (granted[i] > 2) {
      ++refused;
      c->event(MqttEvent::Level::kError,
               "MQTT broker refused the subscription to \"" + c->settings_.topics[i] + "\"");
    }
  }
  if (refused < count)
    c->event(MqttEvent::Level::kInfo,
             "subscribed to " + std::to_string(count - refused) + " topic filter(s)");
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<MqttClient*>(self);
  MqttMessage m;
  m.topic = msg->topic != nullptr ? msg->topic : "";
  m.payload.assign(static_cast<const char*>(msg->payload),
                   msg->payloadlen > 0 ? static_cast<size_t>(msg->payloadlen) : 0);
  m.received_ms = now_ms();
  std::unique_lock lock(c->mu_);
  // Full queue: hold the network thread (and so the broker) until the task catches up.
  // While stopping, accept anyway: this message is already acknowledged to the broker.
  c->space_.wait(lock, [&] { return c->stopping_ || c->queue_.size() < c->settings_.max_pending; });
  c->queue_.push_back(std::move(m));
}

}  // namespace ferry::sensors
