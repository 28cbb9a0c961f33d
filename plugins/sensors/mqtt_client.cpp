#include "mqtt_client.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>
#include <utility>

#include "mqtt_codec.hpp"

namespace ferry::sensors {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadSize = 64 * 1024;
constexpr auto kConnectTimeout = 10s;
constexpr auto kMaxBackoff = 30s;
constexpr uint16_t kSubscribeId = 1;

// 3.1.1 brokers must accept 1-23 characters of [0-9a-zA-Z].
std::string random_client_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static const char* hex = "0123456789abcdef";
  std::string id = "ferry";
  uint64_t v = gen();
  for (int i = 0; i < 16; ++i, v >>= 4) id.push_back(hex[v & 0xf]);
  return id;
}

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

MqttClient::MqttClient(MqttSettings settings)
    : settings_(std::move(settings)),
      where_(settings_.host + ":" + std::to_string(settings_.port)) {}

MqttClient::~MqttClient() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string MqttClient::start() {
  if (settings_.tls) {
    TlsFiles files{settings_.ca_file, settings_.cert_file, settings_.key_file,
                   settings_.tls_insecure};
    if (std::string e = make_tls_context(files, tls_); !e.empty())
      return "TLS settings (tls_ca, tls_cert, tls_key): " + e;
  }
  if (settings_.client_id.empty()) settings_.client_id = random_client_id();
  if (settings_.client_id.size() > 65535) return "client_id is longer than 65535 bytes";
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return std::string("MQTT network thread: eventfd: ") + std::strerror(errno);
  thread_ = std::thread([this] { run(); });
  return {};
}

void MqttClient::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  space_.notify_all();
  wake();
  if (thread_.joinable()) thread_.join();
}

void MqttClient::stop_reading() {
  {
    std::lock_guard lock(mu_);
    reading_stopped_ = true;
  }
  space_.notify_all();
  wake();
}

void MqttClient::acknowledge_through(uint64_t seq) {
  if (!settings_.ack_after_delivery) return;
  {
    std::lock_guard lock(mu_);
    if (seq <= delivered_through_) return;
    delivered_through_ = seq;
  }
  space_.notify_all();
  wake();
}

void MqttClient::wake() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

bool MqttClient::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
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

void MqttClient::run() {
  // OpenSSL writes with write(2): a broker that went away must give EPIPE, not kill ferry.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  auto backoff = 1s;
  while (!stopping()) {
    bool was_connected = session();
    conn_.close();
    if (stopping()) break;
    if (was_connected) backoff = 1s;
    wait_wake(backoff);
    backoff = std::min<std::chrono::seconds>(backoff * 2, kMaxBackoff);
  }
}

// Waits for the socket to be readable (unless `socket` is false) or for a wake-up
// (stop, acknowledgements allowed); false when woken or timed out.
bool MqttClient::wait_wake(std::chrono::milliseconds timeout, bool socket) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {conn_.fd(), POLLIN, 0}};
  int n = socket && conn_.is_open() ? 2 : 1;
  int rc =
      ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
  if (rc <= 0) return false;
  if ((fds[0].revents & POLLIN) != 0) {
    uint64_t v = 0;
    [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
    return false;
  }
  return n == 2 && fds[1].revents != 0;
}

bool MqttClient::take_oversized(std::string_view data, size_t& used, const mqtt::Split& split,
                                int64_t received, std::string& error) {
  auto first = static_cast<uint8_t>(data[used]);
  if ((first >> 4) != static_cast<uint8_t>(mqtt::PacketType::kPublish)) {
    error = "a packet of " + std::to_string(split.total) + " bytes that is not a PUBLISH";
    return false;
  }
  std::string_view body = data.substr(used + split.header);
  size_t head = mqtt::publish_head_bytes(first, body);
  if (head == 0 || body.size() < head) return false;  // wait for the whole head
  mqtt::Publish pub;
  if (std::string e = mqtt::parse_publish(mqtt::Packet{first, body.substr(0, head)}, pub);
      !e.empty()) {
    error = "malformed PUBLISH: " + e;
    return false;
  }
  bool fresh = pub.qos != 2 || qos2_received_.insert(pub.packet_id).second;
  uint64_t seq = fresh ? next_seq_++ : next_seq_ - 1;
  acknowledge(pub.qos, pub.packet_id, seq);
  if (fresh)
    batch_.push_back(
        {std::string(pub.topic), std::string(), received, split.total - split.header - head, seq});
  // Read past the payload as it arrives instead of keeping it.
  size_t here = data.size() - used;
  skip_left_ = split.total - here;
  used = data.size();
  return true;
}

void MqttClient::acknowledge(int qos, uint16_t packet_id, uint64_t seq) {
  if (qos == 0) return;
  auto type = qos == 2 ? mqtt::PacketType::kPubrec : mqtt::PacketType::kPuback;
  // A QoS 2 id whose PUBREC is still held needs no second one: without this a broker
  // repeating one PUBLISH could grow held_ without bound while Kafka is away.
  if (settings_.ack_after_delivery && qos == 2 && !qos2_held_.insert(packet_id).second) return;
  if (settings_.ack_after_delivery)
    held_.push_back({seq, packet_id, type});
  else
    mqtt::append_ack(acks_, type, packet_id);
}

bool MqttClient::send_allowed_acks() {
  if (held_.empty()) return true;
  uint64_t through = 0;
  {
    std::lock_guard lock(mu_);
    through = delivered_through_;
  }
  std::string out;
  while (!held_.empty() && held_.front().seq <= through) {
    mqtt::append_ack(out, held_.front().type, held_.front().packet_id);
    if (held_.front().type == mqtt::PacketType::kPubrec) qos2_held_.erase(held_.front().packet_id);
    held_.pop_front();
  }
  return out.empty() || send(out);
}

bool MqttClient::send(std::string_view bytes) {
  if (!conn_.write_all(bytes, Clock::now() + kConnectTimeout)) return false;
  last_sent_ = Clock::now();
  return true;
}

std::string MqttClient::handshake(std::string& in) {
  const MqttSettings& s = settings_;
  mqtt::ConnectOptions o;
  o.client_id = s.client_id;
  o.clean_session = s.clean_session;
  o.keepalive_s = static_cast<uint16_t>(s.keepalive_s);
  o.username = s.username;
  o.password = s.password;
  if (!send(mqtt::encode_connect(o))) return "sending CONNECT: " + conn_.error();
  auto deadline = Clock::now() + kConnectTimeout;
  char buf[512];
  for (;;) {
    mqtt::Packet p;
    mqtt::Split split = mqtt::split_packet(in, p);
    if (split.status == mqtt::Split::Status::kMalformed) return "malformed answer to CONNECT";
    if (split.status == mqtt::Split::Status::kPacket) {
      if (p.type() != mqtt::PacketType::kConnack)
        return "the broker answered CONNECT with another packet";
      mqtt::Connack ack;
      if (std::string e = mqtt::parse_connack(p, ack); !e.empty()) return e;
      in.erase(0, split.consumed);
      if (ack.return_code != 0) {
        event(MqttEvent::Level::kError,
              "MQTT broker " + where_ +
                  " refused the connection: " + mqtt::connack_reason(ack.return_code) +
                  (ack.return_code == 4 || ack.return_code == 5
                       ? " (check username, password and the broker's ACL)"
                       : "") +
                  "; retrying with backoff");
        return "refused";
      }
      event(MqttEvent::Level::kInfo,
            "connected to MQTT broker " + where_ +
                (ack.session_present ? " (resuming the persistent session)" : ""));
      if (!send(mqtt::encode_subscribe(kSubscribeId, s.topics, s.qos)))
        return "sending SUBSCRIBE: " + conn_.error();
      return {};
    }
    if (!conn_.has_buffered()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return "no answer to CONNECT within 10 s";
      if (!wait_wake(left)) {
        if (stopping()) return "stopping";
        continue;
      }
    }
    ssize_t n = conn_.read_some(buf, sizeof buf);
    if (n < 0) return conn_.error();
    in.append(buf, static_cast<size_t>(n));
  }
}

bool MqttClient::session() {
  const MqttSettings& s = settings_;
  if (std::string e =
          conn_.open(s.host, s.port, tls_.get(), !s.tls_insecure, Clock::now() + kConnectTimeout);
      !e.empty()) {
    event(MqttEvent::Level::kWarn, e + "; retrying with backoff");
    return false;
  }
  std::string in;
  if (std::string e = handshake(in); !e.empty()) {
    if (e != "refused" && e != "stopping")
      event(MqttEvent::Level::kWarn,
            "MQTT broker " + where_ + ": " + e + "; reconnecting with backoff");
    return false;
  }
  qos2_received_.clear();
  skip_left_ = 0;
  // What the last connection did not acknowledge the broker sends again (persistent
  // session) or has dropped (clean session); either way not on this connection's ids.
  held_.clear();
  qos2_held_.clear();
  const auto keepalive = std::chrono::seconds(std::max(s.keepalive_s, 1));
  bool ping_out = false;
  Clock::time_point ping_sent{};
  auto lost = [&](const std::string& why) {
    event(MqttEvent::Level::kWarn,
          "lost the MQTT connection (" + why + "); reconnecting with backoff");
    return true;
  };
  auto read_buf = std::make_unique<char[]>(kReadSize);
  std::string error;
  bool got_pingresp = false;
  auto take = [&](std::string_view data) -> size_t {
    size_t used = 0;
    error = consume(data, used, got_pingresp);
    if (got_pingresp) ping_out = false;
    return used;
  };
  if (!in.empty()) {
    in.erase(0, take(in));
    if (!error.empty()) return lost(error);
  }
  for (;;) {
    if (stopping()) {
      send_allowed_acks();
      send(mqtt::encode_disconnect());
      return true;
    }
    if (!send_allowed_acks()) return lost(conn_.error());
    auto now = Clock::now();
    if (ping_out && now - ping_sent > keepalive) return lost("no PINGRESP within the keepalive");
    if (!ping_out && now - last_sent_ >= keepalive) {
      if (!send(mqtt::encode_pingreq())) return lost(conn_.error());
      ping_out = true;
      ping_sent = now;
    }
    auto next_check = ping_out ? ping_sent + keepalive : last_sent_ + keepalive;
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - now) + 1ms;
    {
      // A full queue: stop reading, so TCP holds the broker back, until the task drains.
      std::unique_lock lock(mu_);
      if (reading_stopped_) {
        lock.unlock();
        wait_wake(timeout, /*socket=*/false);
        continue;
      }
      if (queue_.size() >= s.max_pending) {
        space_.wait_for(lock, std::min<std::chrono::milliseconds>(timeout, 1000ms), [&] {
          return stopping_ || reading_stopped_ || queue_.size() < s.max_pending ||
                 (!held_.empty() && delivered_through_ >= held_.front().seq);
        });
        continue;
      }
    }
    if (!conn_.has_buffered() && !wait_wake(timeout)) continue;
    ssize_t n = conn_.read_some(read_buf.get(), kReadSize);
    if (n < 0) return lost(conn_.error());
    if (n == 0) continue;
    std::string_view fresh(read_buf.get(), static_cast<size_t>(n));
    if (in.empty()) {
      // The usual case: parse straight from the read buffer, keep only a partial tail.
      size_t used = take(fresh);
      if (!error.empty()) return lost(error);
      in.assign(fresh.substr(used));
    } else {
      in.append(fresh);
      in.erase(0, take(in));
      if (!error.empty()) return lost(error);
    }
  }
}

std::string MqttClient::consume(std::string_view data, size_t& used, bool& got_pingresp) {
  got_pingresp = false;
  batch_.clear();
  acks_.clear();
  int64_t received = now_ms();
  std::string error;
  // The largest head a PUBLISH can have: fixed header, topic, packet id.
  constexpr size_t kMaxHead = 5 + 2 + 65535 + 2;
  while (used < data.size()) {
    if (skip_left_ > 0) {
      size_t n = std::min(skip_left_, data.size() - used);
      used += n;
      skip_left_ -= n;
      continue;
    }
    mqtt::Packet p;
    mqtt::Split split = mqtt::split_packet(data.substr(used), p);
    if (split.status == mqtt::Split::Status::kNeedMore &&
        split.total > settings_.max_payload_bytes + kMaxHead) {
      if (!take_oversized(data, used, split, received, error)) break;
      continue;
    }
    if (split.status == mqtt::Split::Status::kNeedMore) break;
    if (split.status == mqtt::Split::Status::kMalformed) {
      error = "malformed packet length from the broker";
      break;
    }
    used += split.consumed;
    switch (p.type()) {
      case mqtt::PacketType::kPublish: {
        mqtt::Publish pub;
        if (std::string e = mqtt::parse_publish(p, pub); !e.empty()) {
          error = "malformed PUBLISH: " + e;
          break;
        }
        // QoS 2: delivered once per packet id until the broker releases it with PUBREL;
        // a repeat is acknowledged no sooner than the newest message.
        if (pub.qos == 2 && !qos2_received_.insert(pub.packet_id).second) {
          acknowledge(pub.qos, pub.packet_id, next_seq_ - 1);
          continue;
        }
        uint64_t seq = next_seq_++;
        acknowledge(pub.qos, pub.packet_id, seq);
        batch_.push_back({std::string(pub.topic), std::string(pub.payload), received, 0, seq});
        break;
      }
      case mqtt::PacketType::kPubrel: {
        uint16_t id = 0;
        if (std::string e = mqtt::parse_packet_id(p, id); !e.empty()) {
          error = "malformed PUBREL: " + e;
          break;
        }
        qos2_received_.erase(id);
        mqtt::append_ack(acks_, mqtt::PacketType::kPubcomp, id);
        break;
      }
      case mqtt::PacketType::kSuback: {
        uint16_t id = 0;
        std::vector<uint8_t> granted;
        if (std::string e = mqtt::parse_suback(p, id, granted); !e.empty()) {
          error = "malformed SUBACK: " + e;
          break;
        }
        size_t refused = 0;
        for (size_t i = 0; i < granted.size() && i < settings_.topics.size(); ++i) {
          if (granted[i] > 2) {
            ++refused;
            event(MqttEvent::Level::kError,
                  "MQTT broker refused the subscription to \"" + settings_.topics[i] + "\"");
          }
        }
        if (refused < granted.size())
          event(MqttEvent::Level::kInfo,
                "subscribed to " + std::to_string(granted.size() - refused) + " topic filter(s)");
        break;
      }
      case mqtt::PacketType::kPingresp:
        got_pingresp = true;
        break;
      default:
        break;  // nothing else is addressed to a subscriber; ignore rather than fail
    }
    if (!error.empty()) break;
  }
  // Queued before acknowledged: once the broker has our PUBACK, only ferry holds it.
  // (With ack_after_delivery acks_ holds only PUBCOMPs; the PUBACKs wait in held_.)
  if (!batch_.empty()) {
    std::lock_guard lock(mu_);
    for (auto& m : batch_) queue_.push_back(std::move(m));
  }
  if (!acks_.empty() && !send(acks_) && error.empty()) error = conn_.error();
  return error;
}

}  // namespace ferry::sensors
