// What one Kafka record asks of a database table, for odbc-sink: upsert a row, delete
// by key, truncate, or nothing. Understands Debezium's envelope (op c/r/u/d/t, with
// tombstones), Kafka Connect's JSON form (schema + payload) and flat JSON objects.
// Pure: no database access.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::odbc {

struct Change {
  enum class Kind { kUpsert, kDelete, kTruncate, kSkip } kind = Kind::kSkip;
  // Key columns and their values; for upserts they are also in `row`.
  std::vector<std::pair<std::string, nlohmann::json>> key;
  nlohmann::json row;  // upsert: column -> value (an object)
};

// Parses a record. `key_columns` overrides the key taken from the record's key. On bad
// input returns false with `error` saying why.
bool parse_change(std::optional<std::string_view> key, std::optional<std::string_view> value,
                  const std::vector<std::string>& key_columns, Change& out, std::string& error);

// The table for a topic from a template: {topic} is the topic with '.' and '-' as '_',
// {table} its last '.'-separated part.
std::string table_for_topic(std::string_view tmpl, std::string_view topic);

}  // namespace ferry::odbc
