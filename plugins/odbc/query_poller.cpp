#include "query_poller.hpp"

#include <nlohmann/json.hpp>

#include "ferry/base64.hpp"
#include "ferry/json_text.hpp"
#include "identifiers.hpp"
#include "pg_value_json.hpp"

namespace ferry::odbc {

namespace {

bool is_binary(SQLSMALLINT t) {
  return t == SQL_BINARY || t == SQL_VARBINARY || t == SQL_LONGVARBINARY;
}

// One column value as JSON, by the ODBC type the driver reports.
void append_column(std::string& out, SQLSMALLINT type, const std::string& v) {
  switch (type) {
    case SQL_INTEGER:
    case SQL_SMALLINT:
    case SQL_TINYINT:
    case SQL_BIGINT:
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE:
      if (pg::is_json_number(v)) {
        out += v;
        return;
      }
      break;
    case SQL_BIT:
      out += (v == "1" || v == "t" || v == "true") ? "true" : "false";
      return;
    case SQL_TYPE_TIMESTAMP:
      if (v.size() >= 19 && v[10] == ' ') {
        append_json_string(out, v.substr(0, 10) + "T" + v.substr(11));
        return;
      }
      break;
    default:
      if (is_binary(type)) {
        out.push_back('"');
        base64_append(out, v);
        out.push_back('"');
        return;
      }
  }
  append_json_string(out, v);  // decimals stay exact strings
}

// The last incrementing/timestamp value in the stored offset, byte for byte: a value
// that is not UTF-8 (a latin1 column) cannot be a JSON string, so it goes as base64.
void put_offset_text(nlohmann::json& off, const std::string& name, const std::string& v) {
  if (is_utf8(v)) {
    off[name] = v;
    return;
  }
  std::string b64;
  base64_append(b64, v);
  off[name + "_base64"] = b64;
}

std::optional<std::string> offset_text(const nlohmann::json& off, const std::string& name) {
  if (auto it = off.find(name); it != off.end() && it->is_string()) return it->get<std::string>();
  if (auto it = off.find(name + "_base64"); it != off.end() && it->is_string())
    return base64_decode(it->get<std::string>());
  return std::nullopt;
}

}  // namespace

QueryPoller::QueryPoller(const Host& host, const Config& cfg)
    : host_(host),
      cfg_(cfg),
      connection_(cfg.str("connection")),
      incrementing_(cfg.str("incrementing_column")),
      timestamp_(cfg.str("timestamp_column")),
      delay_(cfg.duration("delay")),
      poll_interval_(cfg.duration("poll_interval")),
      spans_(cfg.boolean("span.enabled")) {}

QueryPoller::~QueryPoller() = default;

Status QueryPoller::connect() {
  conn_ = std::make_unique<Connection>(shared_environment());
  if (Status s = conn_->connect(connection_); !s.ok()) {
    conn_.reset();
    return s;
  }
  dialect_ = dialect_of(conn_->dbms_name());
  quote_ = dialect_ == Dialect::kMysql ? "`" : "\"";
  return Status::Ok();
}

Status QueryPoller::start() {
  if (cfg_.list("tables").empty())
    return Status::Config("mode = \"query\" needs tables = [\"...\"]");
  if (incrementing_.empty())
    return Status::Config(
        "mode = \"query\" needs incrementing_column (a column that grows with every new row, "
        "e.g. an auto-increment id)");
  if (Status s = connect(); !s.ok()) return s;
  std::string tmpl = cfg_.has("connector.topic") ? cfg_.str("connector.topic") : "{table}";
  for (const auto& name : cfg_.list("tables")) {
    Table t;
    auto [schema, table] = split_qualified(name, "");
    t.schema = schema;
    t.name = table;
    t.display = name;
    t.quoted = (schema.empty() ? "" : quote_identifier(schema, quote_) + ".") +
               quote_identifier(table, quote_);
    t.topic = expand_template(tmpl, {{"{schema}", schema}, {"{table}", table}});
    t.partition = "table/" + name;
    if (Status s = describe(t); !s.ok()) return s;
    tables_.push_back(std::move(t));
  }
  host_.committed_offsets([&](std::string_view partition, std::string_view offset) {
    for (auto& t : tables_) {
      if (partition != t.partition) continue;
      auto j = nlohmann::json::parse(offset, nullptr, false);
      if (!j.is_object()) continue;
      if (auto v = offset_text(j, "inc")) t.last_inc = std::move(*v);
      if (auto v = offset_text(j, "ts")) t.last_ts = std::move(*v);
    }
  });
  for (const auto& t : tables_)
    host_.info("polling " + t.display + " by " + (t.ts ? timestamp_ + ", " : "") + incrementing_ +
               (t.last_inc ? " from " + *t.last_inc : " from the first row"));
  return Status::Ok();
}

Status QueryPoller::describe(Table& t) {
  std::vector<Connection::ColumnInfo> cols;
  if (Status s = conn_->columns(t.schema, t.name, cols); !s.ok()) return s;
  if (cols.empty()) return Status::Config("table " + t.display + " does not exist");
  bool have_inc = false;
  for (size_t i = 0; i < cols.size(); ++i) {
    t.columns.push_back({cols[i].name, cols[i].data_type});
    if (cols[i].name == incrementing_) {
      t.inc = i;
      have_inc = true;
    }
    if (!timestamp_.empty() && cols[i].name == timestamp_) t.ts = i;
  }
  if (!have_inc)
    return Status::Config("table " + t.display + " has no column \"" + incrementing_ +
                          "\" (incrementing_column)");
  if (!timestamp_.empty() && !t.ts)
    return Status::Config("table " + t.display + " has no column \"" + timestamp_ +
                          "\" (timestamp_column)");
  return Status::Ok();
}

std::string QueryPoller::now_minus_delay() const {
  auto ms = std::to_string(delay_.count());
  switch (dialect_) {
    case Dialect::kPostgres:
      return "(now() - interval '" + ms + " milliseconds')";
    case Dialect::kMysql:
      return "(NOW(6) - INTERVAL " + std::to_string(delay_.count() * 1000) + " MICROSECOND)";
    case Dialect::kSqlite:
      return "strftime('%Y-%m-%d %H:%M:%f', 'now', '-" +
             std::to_string(static_cast<double>(delay_.count()) / 1000.0) + " seconds')";
    default:
      return "CURRENT_TIMESTAMP";
  }
}

std::optional<std::string> QueryPoller::upper_id(Table& t, Status& st) {
  // Ids are handed out before commit: a row with a lower id can still appear. So read
  // only up to the highest id seen `delay` ago.
  std::optional<std::string> max;
  st = conn_->query_value(
      "SELECT MAX(" + quote_identifier(incrementing_, quote_) + ") FROM " + t.quoted, max);
  if (!st.ok()) return std::nullopt;
  auto now = Clock::now();
  if (max) t.seen_max.emplace_back(now, *max);
  std::optional<std::string> bound;
  while (!t.seen_max.empty() && now - t.seen_max.front().first >= delay_) {
    bound = t.seen_max.front().second;
    if (t.seen_max.size() == 1) break;
    t.seen_max.pop_front();
  }
  return bound;
}

Status QueryPoller::poll(uint32_t max_records) {
  if (stopping_) return Status::Ok();
  if (!conn_) {
    if (Status s = connect(); !s.ok()) return s;
  }
  uint32_t emitted = 0;
  auto now = Clock::now();
  for (size_t n = 0; n < tables_.size() && emitted < max_records; ++n) {
    Table& t = tables_[(next_table_ + n) % tables_.size()];
    if (now < t.next_poll) continue;
    bool caught_up = false;
    if (Status s = poll_table(t, max_records - emitted, emitted, caught_up); !s.ok()) {
      conn_.reset();
      return s;
    }
    if (caught_up) t.next_poll = now + poll_interval_;
  }
  next_table_ = (next_table_ + 1) % tables_.size();
  return Status::Ok();
}

Status QueryPoller::poll_table(Table& t, uint32_t max_records, uint32_t& emitted, bool& caught_up) {
  if (!t.topic_ready) {
    if (Status s = host_.ensure_topic(t.topic); !s.ok()) return s;
    t.topic_ready = true;
  }
  std::string inc = quote_identifier(incrementing_, quote_);
  std::string sql = "SELECT ";
  for (size_t i = 0; i < t.columns.size(); ++i)
    sql += (i ? ", " : "") + quote_identifier(t.columns[i].name, quote_);
  sql += " FROM " + t.quoted + " WHERE ";
  std::vector<Param> params;
  if (t.ts) {
    std::string ts = quote_identifier(timestamp_, quote_);
    if (t.last_ts) {
      sql += "(" + ts + " > ? OR (" + ts + " = ? AND " + inc + " > ?)) AND ";
      params = {{t.last_ts}, {t.last_ts}, {t.last_inc}};
    }
    sql += ts + " < " + now_minus_delay() + " ORDER BY " + ts + ", " + inc;
  } else {
    Status st;
    std::optional<std::string> upper = upper_id(t, st);
    if (!st.ok()) return st;
    if (!upper) {
      caught_up = true;  // empty table, or nothing old enough yet
      return Status::Ok();
    }
    if (t.last_inc) {
      sql += inc + " > ? AND ";
      params.push_back({t.last_inc, SQL_BIGINT});
    }
    sql += inc + " <= ? ORDER BY " + inc;
    params.push_back({upper, SQL_BIGINT});
  }
  uint32_t limit =
      std::min<uint32_t>(max_records, static_cast<uint32_t>(cfg_.integer("fetch_size")));
  sql += " LIMIT " + std::to_string(limit);

  Statement st(*conn_);
  if (Status s = st.execute(params, sql); !s.ok()) return s;
  std::vector<std::optional<std::string>> row(t.columns.size());
  uint32_t got = 0;
  std::string span;
  for (;;) {
    bool has = false;
    if (Status s = st.fetch(has); !s.ok()) return s;
    if (!has) break;
    for (size_t i = 0; i < row.size(); ++i)
      if (Status s = st.get(static_cast<SQLUSMALLINT>(i + 1), row[i], is_binary(t.columns[i].type));
          !s.ok())
        return s;
    if (!row[t.inc]) continue;  // a NULL id cannot be a position
    value_buf_ = "{";
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) value_buf_ += ',';
      append_json_string(value_buf_, t.columns[i].name);
      value_buf_ += ':';
      if (row[i])
        append_column(value_buf_, t.columns[i].type, *row[i]);
      else
        value_buf_ += "null";
    }
    value_buf_ += '}';
    key_buf_ = "{";
    append_json_string(key_buf_, incrementing_);
    key_buf_ += ':';
    append_column(key_buf_, t.columns[t.inc].type, *row[t.inc]);
    key_buf_ += '}';
    t.last_inc = row[t.inc];
    if (t.ts) t.last_ts = row[*t.ts];
    nlohmann::json off = nlohmann::json::object();
    put_offset_text(off, "inc", *t.last_inc);
    if (t.last_ts) put_offset_text(off, "ts", *t.last_ts);
    offset_buf_ = off.dump();

    if (spans_ && span.empty()) {
      span = t.partition + "#" + std::to_string(++t.polls) + "@" + *t.last_inc;
      if (Status s = host_.span_open(span, {{"table", t.display}}); !s.ok()) return s;
    }
    SourceRecord r;
    r.key = key_buf_;
    r.value = value_buf_;
    r.topic = t.topic.c_str();
    r.source_partition = t.partition;
    r.source_offset = offset_buf_;
    r.span = span;
    if (Status s = host_.emit(r); !s.ok()) return s;
    ++emitted;
    ++got;
  }
  if (!span.empty())
    if (Status s = host_.span_close(span); !s.ok()) return s;
  caught_up = got < limit;
  return Status::Ok();
}

}  // namespace ferry::odbc
