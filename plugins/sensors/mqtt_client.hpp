// A libmosquitto subscriber owned by one sensors task. libmosquitto's network thread
// receives messages into a bounded queue that the task drains on its own thread; when
// the queue is full the network thread waits, so TCP pushes back on the MQTT broker
// instead of ferry buffering without limit.
//
// The loss window: libmosquitto 2.0 sends PUBACK for a QoS 1 message before handing it
// to us and has no manual acknowledgement, so a message is the broker's no longer once
// it is in this queue. Messages in the queue and in librdkafka's buffers, not yet acked
// by Kafka, are lost if ferry is killed; `max_pending` bounds how many. A clean stop
// (SIGTERM, reload) unsubscribes first and delivers the queue (see SourceTask::stop).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace ferry::sensors {

struct MqttSettings {
  std::string host;
  int port = 1883;
  bool tls = false;
  std::string ca_file, cert_file, key_file;
  bool tls_insecure = false;
  std::string username, password;
  std::string client_id;  // empty: random, clean session
  bool clean_session = true;
  std::vector<std::string> topics;
  int qos = 1;
  int keepalive_s = 30;
  size_t max_pending = 10000;
};

// "mqtt://host[:port]" or "mqtts://host[:port]"; empty string on success.
std::string parse_mqtt_url(const std::string& url, MqttSettings& out);

struct MqttMessage {
  std::string topic;
  std::string payload;
  int64_t received_ms = 0;
};

struct MqttEvent {
  enum class Level { kInfo, kWarn, kError } level = Level::kInfo;
  std::string text;
};

class MqttClient {
 public:
  explicit MqttClient(MqttSettings settings);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Starts connecting in the background; reconnects with backoff on its own. An error
  // here is a configuration problem (bad TLS files, invalid client id).
  std::string start();
  // Unsubscribes and disconnects; what is queued stays drainable.
  void stop();

  // Moves up to `max` queued messages into `out`; returns how many.
  size_t drain(std::vector<MqttMessage>& out, size_t max);
  std::vector<MqttEvent> take_events();
  size_t pending() const;

 private:
  static void on_connect(mosquitto* m, void* self, int rc, int flags);
  static void on_disconnect(mosquitto* m, void* self, int rc);
  static void on_subscribe(mosquitto* m, void* self, int mid, int count, const int* granted);
  static void on_message(mosquitto* m, void* self, const mosquitto_message* msg);
  void event(MqttEvent::Level level, std::string text);

  MqttSettings settings_;
  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;

  mutable std::mutex mu_;
  std::condition_variable space_;
  std::deque<MqttMessage> queue_;
  std::vector<MqttEvent> events_;
  bool stopping_ = false;
};

}  // namespace ferry::sensors
