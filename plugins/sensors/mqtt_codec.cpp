#include "mqtt_codec.hpp"

namespace ferry::sensors::mqtt {
namespace {

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_string(std::string& out, std::string_view s) {
  put_u16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

void put_remaining_length(std::string& out, size_t n) {
  do {
    auto byte = static_cast<uint8_t>(n % 128);
    n /= 128;
    if (n > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n > 0);
}

std::string packet(uint8_t first_byte, const std::string& body) {
  std::string out;
  out.reserve(body.size() + 5);
  out.push_back(static_cast<char>(first_byte));
  put_remaining_length(out, body.size());
  out += body;
  return out;
}

uint16_t get_u16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) |
                               static_cast<uint8_t>(s[at + 1]));
}

}  // namespace

std::string encode_connect(const ConnectOptions& o) {
  std::string body;
  put_string(body, "MQTT");
  body.push_back(4);  // protocol level 3.1.1
  uint8_t flags = o.clean_session ? 0x02 : 0x00;
  if (!o.username.empty()) {
    flags |= 0x80;
    if (!o.password.empty()) flags |= 0x40;
  }
  body.push_back(static_cast<char>(flags));
  put_u16(body, o.keepalive_s);
  put_string(body, o.client_id);
  if (!o.username.empty()) {
    put_string(body, o.username);
    if (!o.password.empty()) put_string(body, o.password);
  }
  return packet(static_cast<uint8_t>(PacketType::kConnect) << 4, body);
}

std::string encode_subscribe(uint16_t packet_id, const std::vector<std::string>& filters, int qos) {
  std::string body;
  put_u16(body, packet_id);
  for (const auto& f : filters) {
    put_string(body, f);
    body.push_back(static_cast<char>(qos));
  }
  // SUBSCRIBE's fixed header flags are 0010 by the specification.
  return packet((static_cast<uint8_t>(PacketType::kSubscribe) << 4) | 0x02, body);
}

void append_ack(std::string& out, PacketType type, uint16_t packet_id) {
  // PUBREL, like SUBSCRIBE, carries the flags 0010.
  uint8_t flags = type == PacketType::kPubrel ? 0x02 : 0x00;
  out.push_back(static_cast<char>((static_cast<uint8_t>(type) << 4) | flags));
  out.push_back(2);
  put_u16(out, packet_id);
}

std::string encode_pingreq() {
  return std::string("\xc0\x00", 2);
}
std::string encode_disconnect() {
  return std::string("\xe0\x00", 2);
}

Split split_packet(std::string_view data, Packet& out) {
  Split r;
  if (data.size() < 2) return r;
  size_t length = 0, multiplier = 1, at = 1;
  for (;;) {
    if (at >= data.size()) return r;
    auto byte = static_cast<uint8_t>(data[at++]);
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) == 0) break;
    if (at == 5) {
      r.status = Split::Status::kMalformed;  // a fifth length byte
      return r;
    }
    multiplier *= 128;
  }
  r.total = at + length;
  r.header = at;
  if (data.size() < r.total) return r;
  out.first_byte = static_cast<uint8_t>(data[0]);
  out.body = data.substr(at, length);
  r.status = Split::Status::kPacket;
  r.consumed = r.total;
  return r;
}

size_t publish_head_bytes(uint8_t first_byte, std::string_view body) {
  if (body.size() < 2) return 0;
  size_t topic =
      (static_cast<size_t>(static_cast<uint8_t>(body[0])) << 8) | static_cast<uint8_t>(body[1]);
  int qos = (first_byte >> 1) & 0x03;
  return 2 + topic + (qos > 0 ? 2 : 0);
}

std::string parse_publish(const Packet& p, Publish& out) {
  std::string_view b = p.body;
  out.qos = (p.flags() >> 1) & 0x03;
  out.dup = (p.flags() & 0x08) != 0;
  out.retain = (p.flags() & 0x01) != 0;
  if (out.qos == 3) return "PUBLISH with QoS 3";
  if (b.size() < 2) return "PUBLISH too short for its topic length";
  size_t topic_len = get_u16(b, 0);
  size_t at = 2 + topic_len;
  if (b.size() < at) return "PUBLISH topic runs past the packet";
  out.topic = b.substr(2, topic_len);
  if (out.qos > 0) {
    if (b.size() < at + 2) return "PUBLISH too short for its packet id";
    out.packet_id = get_u16(b, at);
    at += 2;
  } else {
    out.packet_id = 0;
  }
  out.payload = b.substr(at);
  return {};
}

std::string parse_connack(const Packet& p, Connack& out) {
  if (p.body.size() != 2) return "CONNACK of " + std::to_string(p.body.size()) + " bytes, not 2";
  out.session_present = (static_cast<uint8_t>(p.body[0]) & 0x01) != 0;
  out.return_code = static_cast<uint8_t>(p.body[1]);
  return {};
}

std::string connack_reason(uint8_t return_code) {
  switch (return_code) {
    case 0:
      return "Connection Accepted.";
    case 1:
      return "Connection Refused: unacceptable protocol version.";
    case 2:
      return "Connection Refused: identifier rejected.";
    case 3:
      return "Connection Refused: broker unavailable.";
    case 4:
      return "Connection Refused: bad user name or password.";
    case 5:
      return "Connection Refused: not authorised.";
    default:
      return "Connection Refused: return code " + std::to_string(return_code);
  }
}

std::string parse_packet_id(const Packet& p, uint16_t& id) {
  if (p.body.size() < 2) return "packet too short for its packet id";
  id = get_u16(p.body, 0);
  return {};
}

std::string parse_suback(const Packet& p, uint16_t& id, std::vector<uint8_t>& granted) {
  if (std::string e = parse_packet_id(p, id); !e.empty()) return e;
  granted.assign(p.body.begin() + 2, p.body.end());
  return {};
}

}  // namespace ferry::sensors::mqtt
