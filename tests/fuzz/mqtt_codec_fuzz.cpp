// Bytes from an MQTT broker: packets cut off a stream and parsed by type, including the
// head of a PUBLISH too large to buffer.
#include <cstdint>
#include <string_view>
#include <vector>

#include "mqtt_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::sensors::mqtt;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    Packet p;
    Split s = split_packet(in, p);
    if (s.status == Split::Status::kNeedMore) {
      if (s.total > 0 && in.size() > s.header)
        (void)publish_head_bytes(static_cast<uint8_t>(in[0]), in.substr(s.header));
      break;
    }
    if (s.status == Split::Status::kMalformed) break;
    Publish pub;
    Connack ack;
    uint16_t id = 0;
    std::vector<uint8_t> granted;
    switch (p.type()) {
      case PacketType::kPublish:
        (void)parse_publish(p, pub);
        break;
      case PacketType::kConnack:
        if (parse_connack(p, ack).empty()) (void)connack_reason(ack.return_code);
        break;
      case PacketType::kSuback:
        (void)parse_suback(p, id, granted);
        break;
      default:
        (void)parse_packet_id(p, id);
    }
    in.remove_prefix(s.consumed);
  }
  return 0;
}
