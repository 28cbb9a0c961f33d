#include "reading.hpp"

#include <gtest/gtest.h>

namespace ferry::sensors {
namespace {

TEST(Reading, JsonHasTheDesignFieldsAndShortExactNumbers) {
  Reading r;
  r.ts_ms = 1'763'812'800'123;
  r.measurement = "temperature";
  r.sensor = "coretemp/temp2";
  r.device = "coretemp";
  r.label = "Core \"0\"";
  r.value = 45.1;
  r.unit = "C";
  r.max = 100;
  r.crit = 0.1 + 0.2;
  r.tags["site"] = "berlin";
  EXPECT_EQ(reading_json(r, "vm1"),
            R"({"ts":"2025-11-22T12:00:00.123Z","measurement":"temperature",)"
            R"("sensor":"coretemp/temp2","device":"coretemp","host":"vm1",)"
            R"("label":"Core \"0\"","value":45.1,"unit":"C","max":100,)"
            R"("crit":0.30000000000000004,"status":"ok","tags":{"site":"berlin"}})");
  EXPECT_EQ(reading_key(r, "vm1"), "vm1/coretemp/temp2");
}

TEST(Reading, ControlCharactersAreEscaped) {
  std::string out;
  append_json_string(out, std::string("a\nb\x01", 4));
  EXPECT_EQ(out, R"("a\nb\u0001")");
}

TEST(Reading, IsoTimeBeforeTheEpoch) {
  EXPECT_EQ(iso_time(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace ferry::sensors
