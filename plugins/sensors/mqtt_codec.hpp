// MQTT 3.1.1 packets as a subscriber needs them: encoders for what it sends and a
// decoder that cuts complete packets off the front of a byte buffer. No I/O here, so a
// network thread can parse everything one read() brought in one pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sensors::mqtt {

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

// The protocol's ceiling for the remaining length (four length bytes).
inline constexpr size_t kMaxRemainingLength = 268'435'455;

struct ConnectOptions {
  std::string client_id;
  bool clean_session = true;
  uint16_t keepalive_s = 30;
  std::string username;  // empty: none
  std::string password;  // sent only with a user name, as 3.1.1 requires
};

std::string encode_connect(const ConnectOptions& o);
std::string encode_subscribe(uint16_t packet_id, const std::vector<std::string>& filters, int qos);
// PUBACK, PUBREC, PUBREL or PUBCOMP for `packet_id`, appended so a batch goes out in one write.
void append_ack(std::string& out, PacketType type, uint16_t packet_id);
std::string encode_pingreq();
std::string encode_disconnect();

struct Packet {
  uint8_t first_byte = 0;
  std::string_view body;  // the variable header and payload; points into the input
  PacketType type() const { return static_cast<PacketType>(first_byte >> 4); }
  uint8_t flags() const { return first_byte & 0x0f; }
};

struct Split {
  enum class Status { kPacket, kNeedMore, kMalformed } status = Status::kNeedMore;
  size_t consumed = 0;  // kPacket: bytes the packet took
  size_t total = 0;     // kNeedMore with a known length: bytes the whole packet needs
  size_t header = 0;    // with total: bytes of the fixed header (type and length)
};

// Looks for one complete packet at the start of `data`.
Split split_packet(std::string_view data, Packet& out);

struct Publish {
  std::string_view topic, payload;
  int qos = 0;
  bool dup = false, retain = false;
  uint16_t packet_id = 0;  // QoS 1 and 2 only
};
// Empty on success, else why the packet is malformed.
std::string parse_publish(const Packet& p, Publish& out);

// Bytes of a PUBLISH body (after the fixed header) that hold its topic and packet id,
// read from the first bytes of the body; 0 while fewer than two are known. Lets a
// client acknowledge a packet too large to buffer from its head alone.
size_t publish_head_bytes(uint8_t first_byte, std::string_view body_prefix);

struct Connack {
  bool session_present = false;
  uint8_t return_code = 0;
};
std::string parse_connack(const Packet& p, Connack& out);
// The broker's refusal in words (libmosquitto's wording, which operators may grep for).
std::string connack_reason(uint8_t return_code);

// PUBACK, PUBREC, PUBREL, PUBCOMP, and the packet id of a SUBACK.
std::string parse_packet_id(const Packet& p, uint16_t& id);
// Granted QoS per filter, 0x80 for a refused one.
std::string parse_suback(const Packet& p, uint16_t& id, std::vector<uint8_t>& granted);

}  // namespace ferry::sensors::mqtt
