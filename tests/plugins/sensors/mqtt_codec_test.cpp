#include "mqtt_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/mutations.hpp"

namespace ferry::sensors::mqtt {
namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// A PUBLISH as a broker sends it, with the remaining length encoded by the test itself.
std::string publish(const std::string& topic, const std::string& payload, int qos, uint16_t id) {
  std::string body;
  body.push_back(static_cast<char>(topic.size() >> 8));
  body.push_back(static_cast<char>(topic.size() & 0xff));
  body += topic;
  if (qos > 0) {
    body.push_back(static_cast<char>(id >> 8));
    body.push_back(static_cast<char>(id & 0xff));
  }
  body += payload;
  std::string out(1, static_cast<char>(0x30 | (qos << 1)));
  size_t n = body.size();
  do {
    int b = static_cast<int>(n % 128);
    n /= 128;
    out.push_back(static_cast<char>(n > 0 ? b | 0x80 : b));
  } while (n > 0);
  return out + body;
}

TEST(MqttCodec, ConnectCarriesLevelFlagsKeepaliveIdAndCredentials) {
  ConnectOptions o;
  o.client_id = "ferry1";
  o.clean_session = false;
  o.keepalive_s = 30;
  o.username = "u";
  o.password = "pw";
  EXPECT_EQ(encode_connect(o),
            bytes({0x10, 25,  0,   4,   'M', 'Q', 'T', 'T', 4,   0xc0, 0, 30,  0,  6,
                   'f',  'e', 'r', 'r', 'y', '1', 0,   1,   'u', 0,    2, 'p', 'w'}));
  o.username.clear();  // no user name: the password is not sent either
  o.clean_session = true;
  EXPECT_EQ(encode_connect(o), bytes({0x10, 18, 0, 4, 'M', 'Q', 'T', 'T', 4,   0x02,
                                      0,    30, 0, 6, 'f', 'e', 'r', 'r', 'y', '1'}));
}

TEST(MqttCodec, SubscribeAndAcksAreEncodedAsTheSpecificationSays) {
  EXPECT_EQ(encode_subscribe(1, {"a/#", "b"}, 1),
            bytes({0x82, 12, 0, 1, 0, 3, 'a', '/', '#', 1, 0, 1, 'b', 1}));
  std::string acks;
  append_ack(acks, PacketType::kPuback, 0x1234);
  append_ack(acks, PacketType::kPubrel, 7);
  append_ack(acks, PacketType::kPubcomp, 65535);
  EXPECT_EQ(acks, bytes({0x40, 2, 0x12, 0x34, 0x62, 2, 0, 7, 0x70, 2, 0xff, 0xff}));
  EXPECT_EQ(encode_pingreq(), bytes({0xc0, 0}));
  EXPECT_EQ(encode_disconnect(), bytes({0xe0, 0}));
}

TEST(MqttCodec, SplitsManyPacketsFromOneReadAndWaitsForAPartialOne) {
  std::string stream = publish("t/1", "21.5", 1, 1) + publish("t/2", "", 0, 0) + bytes({0xd0, 0}) +
                       publish("t/3", "x", 1, 3);
  std::vector<std::string> topics, payloads;
  size_t at = 0;
  Packet p;
  for (;;) {
    Split s = split_packet(std::string_view(stream).substr(at, stream.size() - 2 - at), p);
    if (s.status != Split::Status::kPacket) {
      EXPECT_EQ(s.status, Split::Status::kNeedMore);
      EXPECT_EQ(s.total, publish("t/3", "x", 1, 3).size());  // the whole of the cut packet
      break;
    }
    at += s.consumed;
    if (p.type() == PacketType::kPublish) {
      Publish pub;
      ASSERT_EQ(parse_publish(p, pub), "");
      topics.emplace_back(pub.topic);
      payloads.emplace_back(pub.payload);
    } else {
      EXPECT_EQ(p.type(), PacketType::kPingresp);
    }
  }
  EXPECT_EQ(topics, (std::vector<std::string>{"t/1", "t/2"}));
  EXPECT_EQ(payloads, (std::vector<std::string>{"21.5", ""}));
  // Every prefix of a packet asks for more, never for a wrong packet.
  std::string one = publish("x", std::string(300, 'p'), 1, 9);
  for (size_t n = 0; n < one.size(); ++n)
    EXPECT_EQ(split_packet(std::string_view(one).substr(0, n), p).status, Split::Status::kNeedMore)
        << n;
  ASSERT_EQ(split_packet(one, p).status, Split::Status::kPacket);
  Publish pub;
  ASSERT_EQ(parse_publish(p, pub), "");
  EXPECT_EQ(pub.packet_id, 9);
  EXPECT_EQ(pub.qos, 1);
  EXPECT_EQ(pub.payload.size(), 300u);
}

TEST(MqttCodec, LargePayloadsUseMultiByteLengths) {
  std::string big(2'000'000, 'b');
  std::string one = publish("big", big, 0, 0);
  EXPECT_EQ(one.substr(1, 3), bytes({0x85, 0x89, 0x7a}));  // 2,000,005 in 3 bytes
  Packet p;
  Split s = split_packet(one, p);
  ASSERT_EQ(s.status, Split::Status::kPacket);
  Publish pub;
  ASSERT_EQ(parse_publish(p, pub), "");
  EXPECT_EQ(pub.payload, big);
}

TEST(MqttCodec, MalformedInputIsAnErrorNotACrash) {
  Packet p;  // its body points into the input, which must outlive it
  EXPECT_EQ(split_packet(bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}), p).status,
            Split::Status::kMalformed);
  Publish pub;
  const std::string past_end = bytes({0x32, 3, 0, 9, 'a'});
  ASSERT_EQ(split_packet(past_end, p).status, Split::Status::kPacket);
  EXPECT_NE(parse_publish(p, pub), "");  // topic runs past the packet
  const std::string no_id = bytes({0x32, 3, 0, 1, 'a'});
  ASSERT_EQ(split_packet(no_id, p).status, Split::Status::kPacket);
  EXPECT_NE(parse_publish(p, pub), "");  // QoS 1 without a packet id
  const std::string qos3 = bytes({0x36, 3, 0, 1, 'a'});
  ASSERT_EQ(split_packet(qos3, p).status, Split::Status::kPacket);
  EXPECT_NE(parse_publish(p, pub), "");  // QoS 3
  Connack ack;
  const std::string short_connack = bytes({0x20, 1, 0});
  ASSERT_EQ(split_packet(short_connack, p).status, Split::Status::kPacket);
  EXPECT_NE(parse_connack(p, ack), "");
}

TEST(MqttCodec, ConnackAndSubackAreRead) {
  Packet p;
  Connack ack;
  const std::string connack = bytes({0x20, 2, 1, 0});
  ASSERT_EQ(split_packet(connack, p).status, Split::Status::kPacket);
  ASSERT_EQ(parse_connack(p, ack), "");
  EXPECT_TRUE(ack.session_present);
  EXPECT_EQ(ack.return_code, 0);
  EXPECT_EQ(connack_reason(5), "Connection Refused: not authorised.");
  uint16_t id = 0;
  std::vector<uint8_t> granted;
  const std::string suback = bytes({0x90, 4, 0, 1, 1, 0x80});
  ASSERT_EQ(split_packet(suback, p).status, Split::Status::kPacket);
  ASSERT_EQ(parse_suback(p, id, granted), "");
  EXPECT_EQ(id, 1);
  EXPECT_EQ(granted, (std::vector<uint8_t>{1, 0x80}));
}

TEST(MqttCodec, CorruptedStreamsAreSplitIntoPacketsInsideThemOrRefused) {
  // What one read() could bring from a broker, then damaged in every way the mutations
  // produce: each packet split off lies inside the input, and parsing one either fails
  // or returns views inside it.
  const std::string stream = bytes({0x20, 2, 1, 0}) + publish("t/1", "21.5", 1, 1) +
                             bytes({0x90, 4, 0, 1, 1, 0x80}) + publish("t/2", "", 0, 0) +
                             bytes({0x40, 2, 0, 7}) + bytes({0xd0, 0}) +
                             publish("big", std::string(200, 'b'), 1, 3);
  size_t packets = 0, refused = 0;  // refused: PUBLISH packets parse_publish turned down
  for (const std::string& input : test::mutations(stream, 20'000)) {
    std::string_view rest = input;
    for (;;) {
      Packet p;
      Split s = split_packet(rest, p);
      if (s.status == Split::Status::kNeedMore) {
        ASSERT_TRUE(s.total == 0 || s.total > rest.size()) << test::printable(input);
        break;
      }
      if (s.status == Split::Status::kMalformed) break;
      ASSERT_GT(s.consumed, 0u) << test::printable(input);
      ASSERT_LE(s.consumed, rest.size()) << test::printable(input);
      ASSERT_TRUE(test::inside(p.body, rest.substr(0, s.consumed))) << test::printable(input);
      ++packets;
      Publish pub;
      Connack ack;
      uint16_t id = 0;
      std::vector<uint8_t> granted;
      if (parse_publish(p, pub).empty()) {
        ASSERT_TRUE(test::inside(pub.topic, p.body) && test::inside(pub.payload, p.body))
            << test::printable(input);
        ASSERT_LE(pub.qos, 2);
      } else if (p.type() == PacketType::kPublish) {
        ++refused;
      }
      (void)parse_connack(p, ack);
      (void)parse_packet_id(p, id);
      if (parse_suback(p, id, granted).empty()) {
        ASSERT_LE(granted.size(), p.body.size());
      }
      rest.remove_prefix(s.consumed);
    }
  }
  // The mutations reach both outcomes, or the test would prove little.
  EXPECT_GT(packets, 20'000u);
  EXPECT_GT(refused, 100u);
}

}  // namespace
}  // namespace ferry::sensors::mqtt
