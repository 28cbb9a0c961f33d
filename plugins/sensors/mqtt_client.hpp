// The MQTT subscriber of one sensors task: MQTT 3.1.1 over TCP or TLS on a network
// thread of its own, which hands messages to the task through a bounded queue. When the
// queue is full the thread stops reading, so TCP pushes back on the MQTT broker instead
// of ferry buffering without limit.
//
// Why not libmosquitto: it reads every packet with several read() calls and wakes its
// own loop through a socketpair for every PUBACK, which bound ferry at the speed of
// `mosquitto_sub` (docs/benchmarks.md). This client reads what the kernel holds in one
// call, parses every packet in it, queues the messages under one lock and acknowledges
// them in one write.
//
// When a message is acknowledged (PUBACK, or PUBREC for QoS 2) decides what a crash can
// lose. With `ack_after_delivery` (the default) the acknowledgement waits until Kafka has
// the message's record: the task calls acknowledge_through() with the message's `seq`,
// and the acknowledgements go out in the order the messages came, as MQTT requires.
// Until then the broker still owns the message and sends it again after a reconnect,
// so a SIGKILL loses nothing of a persistent session (it may duplicate what Kafka had
// but the broker was not yet told). Without it, messages are acknowledged on receipt:
// faster against a broker with a small in-flight window, but whatever sits in the queue
// and in librdkafka's buffers is lost with the process.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mqtt_codec.hpp"
#include "mqtt_transport.hpp"

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
  bool ack_after_delivery = true;
  // A PUBLISH whose payload is larger is acknowledged and passed on without its payload
  // (dropped_payload_bytes says how much), read past rather than buffered.
  size_t max_payload_bytes = 65536;
};

// "mqtt://host[:port]" or "mqtts://host[:port]"; empty string on success.
std::string parse_mqtt_url(const std::string& url, MqttSettings& out);

struct MqttMessage {
  std::string topic;
  std::string payload;
  int64_t received_ms = 0;
  size_t dropped_payload_bytes = 0;  // > max_payload_bytes: payload left empty
  uint64_t seq = 0;                  // 1, 2, ... in arrival order, for acknowledge_through()
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
  // Disconnects (no UNSUBSCRIBE: a persistent session keeps queueing for us while we
  // are away), after sending the acknowledgements already allowed; what is queued stays
  // drainable.
  void stop();
  // Reads no more but stays connected, so that acknowledge_through() can still reach
  // the broker while the task delivers what it holds (a clean stop).
  void stop_reading();
  // The messages up to `seq` are in Kafka: acknowledge them to the broker (with
  // ack_after_delivery; a no-op otherwise).
  void acknowledge_through(uint64_t seq);

  // Moves up to `max` queued messages into `out`; returns how many.
  size_t drain(std::vector<MqttMessage>& out, size_t max);
  std::vector<MqttEvent> take_events();
  size_t pending() const;

 private:
  void run();
  // One connection: connect, log in, subscribe, then read until it fails or we stop.
  // True when it got as far as a CONNACK that accepted us (the backoff starts over).
  bool session();
  // CONNECT, CONNACK, SUBSCRIBE; bytes read past the CONNACK stay in `in`.
  std::string handshake(std::string& in);
  // Parses every complete packet in `data` from `used` on, queues the messages and
  // acknowledges them in one write; `used` ends after the last complete packet.
  std::string consume(std::string_view data, size_t& used, bool& got_pingresp);
  // A PUBLISH larger than max_payload_bytes: acknowledged and queued without its payload
  // once its head is in `data`; the rest is read past (skip_left_). False while the head
  // is incomplete or when the packet is not a PUBLISH (`error` set).
  bool take_oversized(std::string_view data, size_t& used, const mqtt::Split& split,
                      int64_t received, std::string& error);
  // Queues the acknowledgement of a QoS 1 or 2 PUBLISH: into acks_ now, or held until
  // acknowledge_through() reaches `seq`.
  void acknowledge(int qos, uint16_t packet_id, uint64_t seq);
  // Sends the held acknowledgements acknowledge_through() has allowed.
  bool send_allowed_acks();
  bool send(std::string_view bytes);
  bool wait_wake(std::chrono::milliseconds timeout, bool socket = true);
  void wake();
  void event(MqttEvent::Level level, std::string text);
  bool stopping() const;

  MqttSettings settings_;
  std::string where_;
  SslCtxPtr tls_;
  MqttTransport conn_;
  std::thread thread_;
  int wake_fd_ = -1;  // eventfd: stop() interrupts poll()
  std::chrono::steady_clock::time_point last_sent_{};
  std::string acks_;
  std::vector<MqttMessage> batch_;
  std::set<uint16_t> qos2_received_;  // QoS 2 ids between PUBLISH and PUBREL
  size_t skip_left_ = 0;              // bytes of an oversized PUBLISH still to read past
  uint64_t next_seq_ = 1;
  struct HeldAck {
    uint64_t seq;
    uint16_t packet_id;
    mqtt::PacketType type;  // PUBACK or PUBREC
  };
  std::deque<HeldAck> held_;      // this connection's, in arrival order
  std::set<uint16_t> qos2_held_;  // ids with a PUBREC in held_

  mutable std::mutex mu_;
  std::condition_variable space_;
  std::deque<MqttMessage> queue_;
  std::vector<MqttEvent> events_;
  bool stopping_ = false;
  bool reading_stopped_ = false;
  uint64_t delivered_through_ = 0;
};

}  // namespace ferry::sensors
