// MQTT payloads (JSON or numbers) and their topics, read as sensor readings.
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "mqtt_payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::sensors;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view topic = ferry::fuzz::take_field(in);
  PayloadOptions opts;
  opts.time_field = "ts";
  opts.layouts = {split_topic("+host/+device/+sensor"), split_topic("site/+/#")};
  auto parsed = parse_message(topic, in, opts, 1'700'000'000'000);
  opts.format = PayloadFormat::kNumber;
  parsed = parse_message(topic, in, opts, 0);
  (void)parse_iso_time(in);
  return 0;
}
