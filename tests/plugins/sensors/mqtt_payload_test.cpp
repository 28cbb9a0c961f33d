#include "mqtt_payload.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "support/mutations.hpp"

namespace ferry::sensors {
namespace {

constexpr int64_t kNow = 1'763'812'800'000;  // 2025-11-22T12:00:00Z

ParsedMessage parse(std::string_view topic, std::string_view payload,
                    const PayloadOptions& opts = {}) {
  return parse_message(topic, payload, opts, kNow);
}

TEST(MqttPayload, JsonObjectWithValueUnitAndLimits) {
  auto p = parse("home/kitchen/temperature",
                 R"({"value": 21.5, "unit": "C", "max": 30, "status": "ok"})");
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_DOUBLE_EQ(p.reading->value, 21.5);
  EXPECT_EQ(p.reading->unit, "C");
  EXPECT_DOUBLE_EQ(*p.reading->max, 30);
  EXPECT_EQ(p.reading->ts_ms, kNow);
  // Without a layout: sensor = topic, device = topic minus the last segment.
  EXPECT_EQ(p.reading->sensor, "home/kitchen/temperature");
  EXPECT_EQ(p.reading->device, "home/kitchen");
  EXPECT_EQ(p.reading->measurement, "temperature");
}

TEST(MqttPayload, ZerosWithAnyExponentAreZero) {
  // RapidJSON's full-precision parser read these as huge or tiny garbage.
  for (const char* zero : {"0e40", "0e-40", "0.000000000000000000000e100", "-0e300", "0E99"}) {
    auto p = parse("a/b", std::string(R"({"value": )") + zero + "}");
    ASSERT_TRUE(p.reading) << zero << ": " << p.error;
    EXPECT_EQ(p.reading->value, 0.0) << zero;
  }
  auto p = parse("a/b", R"({"value": 21.5, "min": 0.1, "max": 1e3})");
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_EQ(p.reading->value, 21.5);
  EXPECT_EQ(*p.reading->min, 0.1);
  EXPECT_EQ(*p.reading->max, 1000.0);
}

TEST(MqttPayload, ATimeBeyondTheYear9999IsNoTime) {
  // 8.9e41 was converted to int64 (undefined: found by fuzzing).
  PayloadOptions opts;
  opts.time_field = "ts";
  for (const char* ts : {"8.88889e41", "1e19", "253402300800000"}) {
    auto p = parse("a/b", std::string(R"({"value": 1, "ts": )") + ts + "}", opts);
    EXPECT_FALSE(p.reading) << ts;
    EXPECT_NE(p.error.find("is not a valid time"), std::string::npos) << ts << ": " << p.error;
  }
  auto last = parse("a/b", R"({"value": 1, "ts": 253402300799999})", opts);
  ASSERT_TRUE(last.reading) << last.error;
  EXPECT_EQ(last.reading->ts_ms, 253'402'300'799'999);
}

TEST(MqttPayload, PlainNumbersWithSurroundingWhitespace) {
  PayloadOptions opts;
  opts.unit = "hPa";
  auto p = parse("dev1/pressure", " 1013.25\n", opts);
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_DOUBLE_EQ(p.reading->value, 1013.25);
  EXPECT_EQ(p.reading->unit, "hPa");
  EXPECT_TRUE(parse("a/b", "-4e2").reading);
}

TEST(MqttPayload, NestedFieldsAndDeviceTimestamps) {
  PayloadOptions opts;
  opts.value_field = "data.temp";
  opts.time_field = "data.time";
  auto p = parse("x/y", R"({"data": {"temp": 7, "time": 1763812800}})", opts);
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_DOUBLE_EQ(p.reading->value, 7);
  EXPECT_EQ(p.reading->ts_ms, 1'763'812'800'000);  // seconds
  p = parse("x/y", R"({"data": {"temp": 7, "time": 1763812800123}})", opts);
  EXPECT_EQ(p.reading->ts_ms, 1'763'812'800'123);  // milliseconds
  p = parse("x/y", R"({"data": {"temp": 7, "time": "2025-11-22T13:00:00.5+01:00"}})", opts);
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_EQ(p.reading->ts_ms, 1'763'812'800'500);
  p = parse("x/y", R"({"data": {"temp": 7, "time": "2025-11-22 12:00:00"}})", opts);
  EXPECT_FALSE(p.reading);  // no zone: ambiguous
  EXPECT_NE(p.error.find("not an ISO-8601 time with a zone"), std::string::npos) << p.error;
}

TEST(MqttPayload, TopicLayoutsMapSegmentsToFieldsAndTags) {
  PayloadOptions opts;
  opts.layouts = {split_topic("_/site/device/measurement"), split_topic("_/host/device/sensor")};
  auto p = parse("plant/berlin/press-7/temperature", "80.5", opts);
  ASSERT_TRUE(p.reading) << p.error;
  EXPECT_EQ(p.reading->device, "press-7");
  EXPECT_EQ(p.reading->measurement, "temperature");
  EXPECT_EQ(p.reading->tags.at("site"), "berlin");
  EXPECT_EQ(p.reading->sensor, "plant/berlin/press-7/temperature");
  EXPECT_TRUE(p.host.empty());
  // The first layout with as many segments wins; shorter topics fall back to defaults.
  p = parse("plant/berlin/x", "1", opts);
  EXPECT_EQ(p.reading->device, "plant/berlin");
  EXPECT_TRUE(p.reading->tags.empty());
}

struct BadCase {
  const char* payload;
  PayloadFormat format;
  const char* error;
};

TEST(MqttPayload, BadPayloadsSayWhy) {
  const BadCase cases[] = {
      {"hello", PayloadFormat::kAuto, "payload is not a number or a JSON object: \"hello\""},
      {"nan", PayloadFormat::kAuto, "value is not finite: nan"},
      {"-inf", PayloadFormat::kNumber, "value is not finite: -inf"},
      {"", PayloadFormat::kNumber, "payload is not a number: \"\""},
      {"{\"value\": ", PayloadFormat::kAuto, "payload is not valid JSON"},
      {"{\"value\": NaN}", PayloadFormat::kAuto, "payload is not valid JSON"},
      {"{\"value\": 1e400}", PayloadFormat::kAuto, "payload is not valid JSON"},
      {"[1, 2]", PayloadFormat::kJson, "JSON payload is an array, expected an object"},
      {"{\"value\": \"21.5\"}", PayloadFormat::kAuto,
       "field \"value\" is a string, expected a number"},
      {"{\"value\": true}", PayloadFormat::kAuto,
       "field \"value\" is a boolean, expected a number"},
      {"{\"temp\": 3}", PayloadFormat::kAuto, "JSON payload has no field \"value\""},
      {"21.5", PayloadFormat::kJson, "JSON payload is a number, expected an object"},
  };
  for (const auto& c : cases) {
    PayloadOptions opts;
    opts.format = c.format;
    auto p = parse("a/b", c.payload, opts);
    EXPECT_FALSE(p.reading) << c.payload;
    EXPECT_NE(p.error.find(c.error), std::string::npos) << c.payload << " -> " << p.error;
  }
}

TEST(MqttPayload, CorruptedPayloadsAndTopicsAreReadingsOrSayWhy) {
  // Devices send what they send: every damaged payload or topic gives a finite reading
  // or an error, never both and never neither.
  PayloadOptions opts;
  opts.value_field = "data.temp";
  opts.time_field = "data.time";
  opts.unit_field = "data.unit";
  opts.layouts = {split_topic("_/site/device/measurement")};
  size_t readings = 0, errors = 0;
  auto check = [&](std::string_view topic, std::string_view payload) {
    auto p = parse(topic, payload, opts);
    ASSERT_NE(p.reading.has_value(), !p.error.empty())
        << test::printable(topic) << " " << test::printable(payload);
    if (p.reading) {
      ASSERT_TRUE(std::isfinite(p.reading->value)) << test::printable(payload);
      ++readings;
    } else {
      ++errors;
    }
  };
  const std::string payload =
      R"({"data": {"temp": -7.25e1, "unit": "C", "time": "2025-11-22T13:00:00.5+01:00"}})";
  for (const auto& m : test::mutations(payload, 20'000)) check("plant/berlin/press-7/temp", m);
  for (const auto& m : test::mutations("plant/berlin/press-7/temp", 2'000, 2)) check(m, payload);
  opts.time_field.clear();
  opts.format = PayloadFormat::kNumber;
  for (const auto& m : test::mutations(" 21.5e-3 ", 5'000, 3)) check("a/b", m);
  EXPECT_GT(readings, 1'000u);
  EXPECT_GT(errors, 1'000u);
}

TEST(MqttPayload, OversizedPayloadIsRejectedBeforeParsing) {
  PayloadOptions opts;
  opts.max_bytes = 16;
  auto p = parse("a/b", std::string(17, '1'), opts);
  EXPECT_FALSE(p.reading);
  EXPECT_EQ(p.error, "payload of 17 bytes exceeds max_payload_bytes (16)");
}

}  // namespace
}  // namespace ferry::sensors
