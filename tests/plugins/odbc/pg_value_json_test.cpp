#include "pg_value_json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ferry::odbc::pg {
namespace {

std::string json_of(uint32_t type, std::string_view text) {
  std::string out;
  append_value(out, type, text);
  return out;
}

TEST(PgValueJson, NumbersBoolsAndExactNumerics) {
  EXPECT_EQ(json_of(oid::kInt8, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(json_of(oid::kFloat8, "1.5e-10"), "1.5e-10");
  EXPECT_EQ(json_of(oid::kFloat8, "NaN"), "\"NaN\"");
  EXPECT_EQ(json_of(oid::kFloat4, "-Infinity"), "\"-Infinity\"");
  EXPECT_EQ(json_of(oid::kNumeric, "12345678901234567890.000001"),
            "\"12345678901234567890.000001\"");
  EXPECT_EQ(json_of(oid::kBool, "t"), "true");
  EXPECT_EQ(json_of(oid::kBool, "f"), "false");
  EXPECT_EQ(json_of(oid::kBool, "true"), "true");
}

TEST(PgValueJson, TextIsEscapedJson) {
  EXPECT_EQ(json_of(oid::kText, "a\"b\\c\n\x01 ü"), "\"a\\\"b\\\\c\\n\\u0001 ü\"");
}

TEST(PgValueJson, ByteaBecomesBase64WithPadding) {
  EXPECT_EQ(json_of(oid::kBytea, "\\x"), "\"\"");
  EXPECT_EQ(json_of(oid::kBytea, "\\x4d"), "\"TQ==\"");
  EXPECT_EQ(json_of(oid::kBytea, "\\x4d61"), "\"TWE=\"");
  EXPECT_EQ(json_of(oid::kBytea, "\\x4d616e"), "\"TWFu\"");
  EXPECT_EQ(json_of(oid::kBytea, "\\x00ff10"), "\"AP8Q\"");
}

TEST(PgValueJson, TimestampsBecomeIso8601) {
  EXPECT_EQ(json_of(oid::kTimestamptz, "2024-01-02 03:04:05+00"), "\"2024-01-02T03:04:05Z\"");
  EXPECT_EQ(json_of(oid::kTimestamptz, "2024-01-02 03:04:05.5+05:30"),
            "\"2024-01-02T03:04:05.5+05:30\"");
  EXPECT_EQ(json_of(oid::kTimestamptz, "2024-01-02 03:04:05-08"), "\"2024-01-02T03:04:05-08:00\"");
  EXPECT_EQ(json_of(oid::kTimestamp, "2024-01-02 03:04:05.123456"),
            "\"2024-01-02T03:04:05.123456\"");
  EXPECT_EQ(json_of(oid::kTimestamptz, "infinity"), "\"infinity\"");
  EXPECT_EQ(json_of(oid::kTimestamp, "0044-03-15 12:00:00 BC"), "\"0044-03-15 12:00:00 BC\"");
}

TEST(PgValueJson, ArraysNestQuoteAndHoldNulls) {
  EXPECT_EQ(json_of(1007, "{1,NULL,3}"), "[1,null,3]");
  EXPECT_EQ(json_of(1007, "{{1,2},{3,4}}"), "[[1,2],[3,4]]");
  EXPECT_EQ(json_of(1009, R"({"a b","c\"d",NULL,"NULL",e})"), R"(["a b","c\"d",null,"NULL","e"])");
  EXPECT_EQ(json_of(1007, "{}"), "[]");
  EXPECT_EQ(json_of(1007, "[0:1]={5,6}"), "[5,6]");
  EXPECT_EQ(json_of(1000, "{t,f}"), "[true,false]");
  EXPECT_EQ(json_of(3807, R"({"{\"a\": 1}"})"), R"([{"a": 1}])");
  // Not an array literal after all: kept as text rather than emitted as broken JSON.
  EXPECT_EQ(json_of(1007, "{1,2"), "\"{1,2\"");
}

}  // namespace
}  // namespace ferry::odbc::pg
