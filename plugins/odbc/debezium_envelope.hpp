// Change events in Debezium's JSON envelope (before, after, source, op, ts_ms) and
// their keys (the replica identity / primary key columns as a JSON object), so that
// consumers written for Debezium's PostgreSQL connector read ferry's topics unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pgoutput_decoder.hpp"

namespace ferry::odbc {

struct EventSource {
  std::string_view name;  // the ferry connector, Debezium's topic.prefix
  std::string_view db;
  std::string_view schema;
  std::string_view table;
  std::string_view snapshot = "false";  // "true", "last" or "false", as Debezium writes it
  uint32_t xid = 0;
  uint64_t lsn = 0;
  int64_t ts_ms = 0;  // commit time
};

// {"col":value,...} for every column of `row`; with `key_only`, only key columns.
void append_row(std::string& out, const pg::Relation& rel, const pg::Tuple& row,
                bool key_only = false, bool json_as_text = false);

// The key of a row: its key columns as a JSON object. False (and nothing appended)
// when the table has no key columns.
bool append_key(std::string& out, const pg::Relation& rel, const pg::Tuple& row,
                bool json_as_text = false);

// One change event. `before`/`after` may be null. op: c u d r t.
void append_envelope(std::string& out, char op, const pg::Relation* rel, const pg::Tuple* before,
                     const pg::Tuple* after, const EventSource& source, int64_t now_ms,
                     bool json_as_text = false);

// Kafka Connect's JSON form (JsonConverter, schemas.enable=true) wraps each key and
// value as {"schema": ..., "payload": ...}. These write the schemas, named after
// `prefix` (the topic) as Debezium names them: <prefix>.Key, <prefix>.Value,
// <prefix>.Envelope.
void append_key_schema(std::string& out, const pg::Relation& rel, std::string_view prefix);
void append_envelope_schema(std::string& out, const pg::Relation& rel, std::string_view prefix);

}  // namespace ferry::odbc
