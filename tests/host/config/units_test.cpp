#include "config/units.hpp"

#include <gtest/gtest.h>

namespace ferry::config {

TEST(Units, ParsesDurationsWithUnits) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("5s"), 5000);
  EXPECT_EQ(parse_duration_ms("15m"), 900000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("2d"), 172800000);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1500);
  EXPECT_EQ(parse_duration_ms(" 3 s "), 3000);
}

TEST(Units, RejectsAmbiguousOrBrokenDurations) {
  EXPECT_FALSE(parse_duration_ms("5"));  // seconds or milliseconds? refuse to guess
  EXPECT_FALSE(parse_duration_ms("5x"));
  EXPECT_FALSE(parse_duration_ms("-5s"));
  EXPECT_FALSE(parse_duration_ms(""));
  EXPECT_FALSE(parse_duration_ms("s"));
}

TEST(Units, ParsesSizes) {
  EXPECT_EQ(parse_size_bytes("512"), 512u);
  EXPECT_EQ(parse_size_bytes("64KiB"), 65536u);
  EXPECT_EQ(parse_size_bytes("1MiB"), 1048576u);
  EXPECT_EQ(parse_size_bytes("1MB"), 1000000u);
  EXPECT_EQ(parse_size_bytes("2GiB"), 2147483648u);
  EXPECT_FALSE(parse_size_bytes("1 parsec"));
  EXPECT_FALSE(parse_size_bytes("MiB"));
}

}  // namespace ferry::config
