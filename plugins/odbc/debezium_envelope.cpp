#include "debezium_envelope.hpp"

#include "ferry/json_text.hpp"
#include "pg_value_json.hpp"

namespace ferry::odbc {

void append_row(std::string& out, const pg::Relation& rel, const pg::Tuple& row, bool key_only,
                bool json_as_text) {
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < rel.columns.size(); ++i) {
    const pg::Column& c = rel.columns[i];
    if (key_only && !c.key) continue;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, c.name);
    out.push_back(':');
    if (i >= row.size() || row[i].kind == 'n')
      out.append("null");
    else if (row[i].kind == 'u')
      append_json_string(out, pg::kUnavailable);
    else
      pg::append_value(out, c.type, row[i].text, json_as_text);
  }
  out.push_back('}');
}

bool append_key(std::string& out, const pg::Relation& rel, const pg::Tuple& row,
                bool json_as_text) {
  bool any = false;
  for (const auto& c : rel.columns) any = any || c.key;
  if (!any) return false;
  append_row(out, rel, row, /*key_only=*/true, json_as_text);
  return true;
}

void append_envelope(std::string& out, char op, const pg::Relation* rel, const pg::Tuple* before,
                     const pg::Tuple* after, const EventSource& source, int64_t now_ms,
                     bool json_as_text) {
  out.append("{\"before\":");
  if (before != nullptr && rel != nullptr)
    append_row(out, *rel, *before, false, json_as_text);
  else
    out.append("null");
  out.append(",\"after\":");
  if (after != nullptr && rel != nullptr)
    append_row(out, *rel, *after, false, json_as_text);
  else
    out.append("null");
  out.append(",\"source\":{\"version\":\"ferry-0.1\",\"connector\":\"postgresql\",\"name\":");
  append_json_string(out, source.name);
  out.append(",\"ts_ms\":").append(std::to_string(source.ts_ms));
  out.append(",\"snapshot\":");
  append_json_string(out, source.snapshot);
  out.append(",\"db\":");
  append_json_string(out, source.db);
  out.append(",\"schema\":");
  append_json_string(out, source.schema);
  out.append(",\"table\":");
  append_json_string(out, source.table);
  out.append(",\"txId\":");
  if (source.xid != 0)
    out.append(std::to_string(source.xid));
  else
    out.append("null");
  out.append(",\"lsn\":");
  if (source.lsn != 0)
    out.append(std::to_string(source.lsn));
  else
    out.append("null");
  out.append("},\"op\":\"");
  out.push_back(op);
  out.append("\",\"ts_ms\":").append(std::to_string(now_ms)).append("}");
}

namespace {
void append_fields(std::string& out, const pg::Relation& rel, bool key_only) {
  out.append("\"fields\":[");
  bool first = true;
  for (const auto& c : rel.columns) {
    if (key_only && !c.key) continue;
    if (!first) out.push_back(',');
    first = false;
    std::string field;
    pg::append_connect_schema(field, c.type, !c.key);
    field.pop_back();  // reopen the object to add the field name
    out.append(field).append(",\"field\":");
    append_json_string(out, c.name);
    out.push_back('}');
  }
  out.push_back(']');
}
}  // namespace

void append_key_schema(std::string& out, const pg::Relation& rel, std::string_view prefix) {
  out.append("{\"type\":\"struct\",");
  append_fields(out, rel, true);
  out.append(",\"optional\":false,\"name\":");
  append_json_string(out, std::string(prefix) + ".Key");
  out.push_back('}');
}

void append_envelope_schema(std::string& out, const pg::Relation& rel, std::string_view prefix) {
  std::string value_name = std::string(prefix) + ".Value";
  auto row = [&](const char* field) {
    out.append("{\"type\":\"struct\",");
    append_fields(out, rel, false);
    out.append(",\"optional\":true,\"name\":");
    append_json_string(out, value_name);
    out.append(",\"field\":\"").append(field).append("\"}");
  };
  out.append("{\"type\":\"struct\",\"fields\":[");
  row("before");
  out.push_back(',');
  row("after");
  out.append(
      ",{\"type\":\"struct\",\"fields\":["
      "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
      "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
      "{\"type\":\"string\",\"optional\":true,\"field\":\"snapshot\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}],"
      "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\","
      "\"field\":\"source\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}],"
      "\"optional\":false,\"name\":");
  append_json_string(out, std::string(prefix) + ".Envelope");
  out.push_back('}');
}

}  // namespace ferry::odbc
