// PostgreSQL values, in the text form both pgoutput and a ::text cast produce, as
// JSON: integers as numbers, numeric as an exact string, bool, text, timestamps in
// ISO-8601, bytea as base64, json/jsonb as JSON, arrays as JSON arrays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::odbc::pg {

// Type OIDs ferry maps specially (pg_type.dat).
namespace oid {
inline constexpr uint32_t kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
                          kOid = 26, kJson = 114, kFloat4 = 700, kFloat8 = 701, kBpchar = 1042,
                          kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114,
                          kTimestamptz = 1184, kInterval = 1186, kTimetz = 1266, kNumeric = 1700,
                          kUuid = 2950, kJsonb = 3802;
}

// True when `text` is a number as JSON writes one (no NaN, Infinity, leading zeros).
bool is_json_number(std::string_view text);

// The element type of an array type; 0 when `type` is not an array ferry knows.
uint32_t array_element(uint32_t type);

// Appends the JSON for one non-NULL value of type `type`. `json_as_text` writes json
// and jsonb values as JSON strings (what a Kafka Connect schema of type string wants).
void append_value(std::string& out, uint32_t type, std::string_view text,
                  bool json_as_text = false);

// The Kafka Connect schema (JsonConverter's form) of a column of `type`, without the
// field name: {"type":"int32","optional":true}.
void append_connect_schema(std::string& out, uint32_t type, bool optional);

// Debezium's placeholder for an unchanged TOAST value that pgoutput did not send.
inline constexpr std::string_view kUnavailable = "__debezium_unavailable_value";

}  // namespace ferry::odbc::pg
