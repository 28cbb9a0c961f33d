// The MQTT client against a scripted broker on a loopback socket: what it sends, in
// which order, and when it acknowledges a QoS 1 message.
#include "mqtt_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "ferry/unique_fd.hpp"
#include "mqtt_codec.hpp"
#include "support/wait_for.hpp"

namespace ferry::sensors {
namespace {

using namespace std::chrono_literals;
using mqtt::PacketType;

// One accepted connection, read packet by packet with a bounded wait.
class ScriptedBroker {
 public:
  ScriptedBroker() {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_.get(), 1) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(a.sin_port);
  }
  int port() const { return port_; }

  bool accept() {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return false;
    conn_.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return conn_.get() >= 0;
  }
  void send(const std::string& bytes) {
    ASSERT_EQ(::write(conn_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next packet the client sent; type 0 when none came within 10 s or it hung up.
  struct Got {
    PacketType type{};
    uint16_t id = 0;
  };
  Got next() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      mqtt::Packet p;
      mqtt::Split s = mqtt::split_packet(in_, p);
      if (s.status == mqtt::Split::Status::kPacket) {
        Got g{p.type(), 0};
        if (g.type == PacketType::kPuback || g.type == PacketType::kPubrec)
          (void)mqtt::parse_packet_id(p, g.id);
        in_.erase(0, s.consumed);
        return g;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pf{conn_.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pf, 1, static_cast<int>(left.count())) != 1) return {};
      char buf[4096];
      ssize_t n = ::read(conn_.get(), buf, sizeof buf);
      if (n <= 0) return {};
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  // Plays the broker up to the subscription: CONNECT, CONNACK, SUBSCRIBE, SUBACK.
  bool handshake() {
    if (!accept() || next().type != PacketType::kConnect) return false;
    send(std::string("\x20\x02\x00\x00", 4));
    if (next().type != PacketType::kSubscribe) return false;
    send(std::string("\x90\x03\x00\x01\x01", 5));
    return true;
  }

 private:
  UniqueFd listener_, conn_;
  int port_ = 0;
  std::string in_;
};

std::string publish(int qos, const std::string& topic, uint16_t id, const std::string& payload) {
  std::string body;
  body.push_back(static_cast<char>(topic.size() >> 8));
  body.push_back(static_cast<char>(topic.size() & 0xff));
  body += topic;
  body.push_back(static_cast<char>(id >> 8));
  body.push_back(static_cast<char>(id & 0xff));
  body += payload;
  std::string out(1, static_cast<char>(0x30 | (qos << 1)));  // PUBLISH
  out.push_back(static_cast<char>(body.size()));             // < 128 in these tests
  return out + body;
}

MqttSettings settings_for(int port, bool after_delivery) {
  MqttSettings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.client_id = "ferrytest";
  s.clean_session = false;
  s.topics = {"t/#"};
  s.ack_after_delivery = after_delivery;
  return s;
}

// The next packet the client sent is a PUBACK for `id`.
::testing::AssertionResult next_is_puback(ScriptedBroker& broker, uint16_t id) {
  auto got = broker.next();
  if (got.type == PacketType::kPuback && got.id == id) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "packet type " << static_cast<int>(got.type) << " id "
                                       << got.id << " instead of PUBACK " << id;
}

// Drains until `n` messages are in `out`.
bool drain_until(MqttClient& c, std::vector<MqttMessage>& out, size_t n) {
  return test::wait_until(
      [&] {
        c.drain(out, 100);
        return out.size() >= n;
      },
      10s);
}

TEST(MqttClient, AcknowledgesAQos1MessageOnlyOnceKafkaHasItAndInArrivalOrder) {
  ScriptedBroker broker;
  MqttClient client(settings_for(broker.port(), /*after_delivery=*/true));
  ASSERT_EQ(client.start(), "");
  ASSERT_TRUE(broker.handshake());
  broker.send(publish(1, "t/a", 11, "1") + publish(1, "t/a", 12, "2") + publish(1, "t/b", 13, "3"));
  std::vector<MqttMessage> got;
  ASSERT_TRUE(drain_until(client, got, 3));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].seq, 1u);
  EXPECT_EQ(got[2].seq, 3u);
  EXPECT_EQ(got[2].payload, "3");

  client.acknowledge_through(2);  // the first two are in Kafka, the third is not
  EXPECT_TRUE(next_is_puback(broker, 11));
  EXPECT_TRUE(next_is_puback(broker, 12));
  // Stopping now leaves the third to the broker: no PUBACK for it before DISCONNECT.
  client.stop();
  EXPECT_EQ(broker.next().type, PacketType::kDisconnect);
}

TEST(MqttClient, AStopAfterStopReadingStillSendsTheAcknowledgementsKafkaAllowed) {
  ScriptedBroker broker;
  MqttClient client(settings_for(broker.port(), /*after_delivery=*/true));
  ASSERT_EQ(client.start(), "");
  ASSERT_TRUE(broker.handshake());
  broker.send(publish(1, "t/a", 7, "x"));
  std::vector<MqttMessage> got;
  ASSERT_TRUE(drain_until(client, got, 1));
  client.stop_reading();
  client.acknowledge_through(got[0].seq);
  client.stop();
  EXPECT_TRUE(next_is_puback(broker, 7));
  EXPECT_EQ(broker.next().type, PacketType::kDisconnect);
}

TEST(MqttClient, AQos2PublishRepeatedWhileItsPubrecIsHeldGetsOnePubrec) {
  ScriptedBroker broker;
  MqttClient client(settings_for(broker.port(), /*after_delivery=*/true));
  ASSERT_EQ(client.start(), "");
  ASSERT_TRUE(broker.handshake());
  std::string again;
  for (int i = 0; i < 1000; ++i) again += publish(2, "t/a", 9, "x");
  broker.send(again);
  std::vector<MqttMessage> got;
  ASSERT_TRUE(drain_until(client, got, 1));
  client.acknowledge_through(got[0].seq);
  auto rec = broker.next();
  EXPECT_EQ(rec.type, PacketType::kPubrec);
  EXPECT_EQ(rec.id, 9);
  client.stop();
  // One PUBREC for the one message, not one per repeat.
  EXPECT_EQ(broker.next().type, PacketType::kDisconnect);
  EXPECT_EQ(got.size(), 1u);
}

TEST(MqttClient, AcknowledgeReceivedSendsThePubackOnArrival) {
  ScriptedBroker broker;
  MqttClient client(settings_for(broker.port(), /*after_delivery=*/false));
  ASSERT_EQ(client.start(), "");
  ASSERT_TRUE(broker.handshake());
  broker.send(publish(1, "t/a", 5, "1"));
  EXPECT_TRUE(next_is_puback(broker, 5));
  client.stop();
  EXPECT_EQ(broker.next().type, PacketType::kDisconnect);
}

}  // namespace
}  // namespace ferry::sensors
