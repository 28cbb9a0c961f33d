#include "debezium_envelope.hpp"

#include "ferry/json_text.hpp"
#include "pg_value_json.hpp"

namespace ferry::odbc {

void append_row(std::string& out, const pg::Relation& rel, const pg::Tuple& row, bool key_only) {
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
      pg::append_value(out, c.type, row[i].text);
  }
  out.push_back('}');
}

bool append_key(std::string& out, const pg::Relation& rel, const pg::Tuple& row) {
  bool any = false;
  for (const auto& c : rel.columns) any = any || c.key;
  if (!any) return false;
  append_row(out, rel, row, /*key_only=*/true);
  return true;
}

void append_envelope(std::string& out, char op, const pg::Relation* rel, const pg::Tuple* before,
                     const pg::Tuple* after, const EventSource& source, int64_t now_ms) {
  out.append("{\"before\":");
  if (before != nullptr && rel != nullptr)
    append_row(out, *rel, *before);
  else
    out.append("null");
  out.append(",\"after\":");
  if (after != nullptr && rel != nullptr)
    append_row(out, *rel, *after);
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

}  // namespace ferry::odbc
