#include "table_writer.hpp"

#include <algorithm>
#include <array>

#include "ferry/base64.hpp"
#include "identifiers.hpp"
#include "pg_value_json.hpp"

namespace ferry::odbc {

namespace {

using nlohmann::json;

bool is_binary(SQLSMALLINT t) {
  return t == SQL_BINARY || t == SQL_VARBINARY || t == SQL_LONGVARBINARY;
}

// A JSON array as a PostgreSQL array literal: {1,NULL,"a \"b\""}.
void append_pg_array(std::string& out, const json& a) {
  out.push_back('{');
  bool first = true;
  for (const auto& e : a) {
    if (!first) out.push_back(',');
    first = false;
    if (e.is_null()) {
      out += "NULL";
    } else if (e.is_array()) {
      append_pg_array(out, e);
    } else {
      std::string s = e.is_string() ? e.get<std::string>() : e.dump();
      out.push_back('"');
      for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    }
  }
  out.push_back('}');
}

}  // namespace

Dialect dialect_of(const std::string& dbms) {
  if (dbms.find("PostgreSQL") != std::string::npos) return Dialect::kPostgres;
  if (dbms.find("MySQL") != std::string::npos || dbms.find("MariaDB") != std::string::npos)
    return Dialect::kMysql;
  if (dbms.find("SQLite") != std::string::npos) return Dialect::kSqlite;
  return Dialect::kOther;
}

TableWriter::TableWriter(Connection& conn, Dialect dialect, std::string schema, std::string table)
    : conn_(conn),
      dialect_(dialect),
      quote_(dialect == Dialect::kMysql ? "`" : "\""),
      schema_(std::move(schema)),
      table_(std::move(table)) {
  qualified_ = (schema_.empty() ? "" : quote_identifier(schema_, quote_) + ".") +
               quote_identifier(table_, quote_);
  display_ = schema_.empty() ? table_ : schema_ + "." + table_;
}

Status TableWriter::describe(bool& exists) {
  std::vector<Connection::ColumnInfo> cols;
  if (Status s = conn_.columns(schema_, table_, cols); !s.ok()) return s;
  columns_.clear();
  for (auto& c : cols) columns_[c.name] = Column{c.name, c.data_type, c.type_name};
  exists = !columns_.empty();
  return Status::Ok();
}

Status TableWriter::create(const Change& sample) {
  std::string sql = "CREATE TABLE " + qualified_ + " (";
  auto is_key = [&](const std::string& c) {
    return std::any_of(sample.key.begin(), sample.key.end(),
                       [&](const auto& k) { return k.first == c; });
  };
  bool first = true;
  for (auto& [name, v] : sample.row.items()) {
    std::string type;
    bool pg = dialect_ == Dialect::kPostgres, my = dialect_ == Dialect::kMysql;
    if (v.is_number_integer())
      type = dialect_ == Dialect::kSqlite ? "INTEGER" : "BIGINT";
    else if (v.is_number())
      type = pg ? "DOUBLE PRECISION" : my ? "DOUBLE" : "REAL";
    else if (v.is_boolean())
      type = pg ? "BOOLEAN" : my ? "BOOLEAN" : "INTEGER";
    else if (v.is_object() || v.is_array())
      type = pg ? "JSONB" : my ? "LONGTEXT" : "TEXT";
    else
      type = my ? (is_key(name) ? "VARCHAR(255)" : "LONGTEXT") : "TEXT";
    sql += (first ? "" : ", ") + quote_identifier(name, quote_) + " " + type;
    first = false;
  }
  if (!sample.key.empty()) {
    sql += ", PRIMARY KEY (";
    for (size_t i = 0; i < sample.key.size(); ++i)
      sql += (i ? ", " : "") + quote_identifier(sample.key[i].first, quote_);
    sql += ")";
  }
  sql += ")";
  if (Status s = conn_.execute(sql); !s.ok()) return s;
  bool exists = false;
  if (Status s = describe(exists); !s.ok()) return s;
  if (!exists) return Status::Fatal("created table " + display_ + " but cannot see its columns");
  return Status::Ok();
}

std::vector<std::string> TableWriter::columns_of(const Change& c) const {
  std::vector<std::string> cols;
  for (auto& [name, v] : c.row.items()) {
    // An unchanged TOAST value was not sent: leave the column as it is.
    if (v.is_string() && v.get_ref<const std::string&>() == pg::kUnavailable) continue;
    cols.push_back(name);
  }
  return cols;
}

Status TableWriter::check_columns(const Change& change) const {
  auto check = [&](const std::string& c) {
    if (columns_.contains(c)) return Status::Ok();
    return Status::Config("table " + display_ + " has no column \"" + c + "\"");
  };
  for (const auto& [k, v] : change.key)
    if (Status s = check(k); !s.ok()) return s;
  if (change.kind == Change::Kind::kUpsert)
    for (auto& [name, v] : change.row.items())
      if (Status s = check(name); !s.ok()) return s;
  return Status::Ok();
}

Param TableWriter::param_for(const std::string& column, const json& v) const {
  const Column& col = columns_.at(column);
  Param p;
  p.sql_type = SQL_VARCHAR;
  if (v.is_null()) return p;
  if (is_binary(col.data_type) && v.is_string()) {
    if (auto bytes = base64_decode(v.get_ref<const std::string&>())) {
      p.text = std::move(*bytes);
      p.binary = true;
      p.sql_type = SQL_LONGVARBINARY;
      return p;
    }
  }
  if (v.is_string()) {
    p.text = v.get<std::string>();
  } else if (v.is_boolean()) {
    bool b = v.get<bool>();
    p.text = dialect_ == Dialect::kPostgres ? (b ? "true" : "false") : (b ? "1" : "0");
  } else if (v.is_array() && dialect_ == Dialect::kPostgres && col.type_name.starts_with("_")) {
    p.text.emplace();
    append_pg_array(*p.text, v);
  } else {
    p.text = v.dump();
  }
  return p;
}

Statement& TableWriter::statement(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return *it->second;
  auto st = std::make_unique<Statement>(conn_);
  Statement& ref = *st;
  statements_.emplace(sql, std::move(st));
  return ref;
}

Status TableWriter::upsert(const std::vector<const Change*>& run,
                           const std::vector<std::string>& columns) {
  const Change& first = *run[0];
  std::string cols, marks, updates;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string q = quote_identifier(columns[i], quote_);
    cols += (i ? ", " : "") + q;
    marks += i ? ", ?" : "?";
    bool key = std::any_of(first.key.begin(), first.key.end(),
                           [&](const auto& k) { return k.first == columns[i]; });
    if (key) continue;
    if (!updates.empty()) updates += ", ";
    updates += q + " = " + (dialect_ == Dialect::kMysql ? "VALUES(" + q + ")" : "EXCLUDED." + q);
  }
  std::string keys;
  for (size_t i = 0; i < first.key.size(); ++i)
    keys += (i ? ", " : "") + quote_identifier(first.key[i].first, quote_);
  std::string sql = "INSERT INTO " + qualified_ + " (" + cols + ") VALUES (" + marks + ")";
  if (dialect_ == Dialect::kMysql) {
    std::string k0 = quote_identifier(first.key[0].first, quote_);
    sql += " ON DUPLICATE KEY UPDATE " + (updates.empty() ? k0 + " = " + k0 : updates);
  } else if (dialect_ == Dialect::kOther) {
    // No portable upsert: the row is replaced inside the flush's transaction.
    if (Status s = remove(run); !s.ok()) return s;
  } else {
    sql +=
        " ON CONFLICT (" + keys + ") DO " + (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
  }
  std::vector<std::vector<Param>> rows;
  rows.reserve(run.size());
  for (const Change* c : run) {
    std::vector<Param> row;
    row.reserve(columns.size());
    for (const auto& name : columns) row.push_back(param_for(name, c->row[name]));
    rows.push_back(std::move(row));
  }
  Statement& st = statement(sql);
  if (Status s = st.prepare(sql); !s.ok()) return s;
  return st.execute_batch(rows);
}

Status TableWriter::remove(const std::vector<const Change*>& run) {
  const Change& first = *run[0];
  std::string sql = "DELETE FROM " + qualified_ + " WHERE ";
  for (size_t i = 0; i < first.key.size(); ++i)
    sql += (i ? " AND " : "") + quote_identifier(first.key[i].first, quote_) + " = ?";
  std::vector<std::vector<Param>> rows;
  for (const Change* c : run) {
    std::vector<Param> row;
    for (const auto& [name, v] : c->key) row.push_back(param_for(name, v));
    rows.push_back(std::move(row));
  }
  Statement& st = statement(sql);
  if (Status s = st.prepare(sql); !s.ok()) return s;
  return st.execute_batch(rows);
}

Status TableWriter::truncate() {
  return conn_.execute("DELETE FROM " + qualified_);
}

Status TableWriter::apply(const std::vector<const Change*>& changes) {
  size_t i = 0;
  while (i < changes.size()) {
    const Change& c = *changes[i];
    if (c.kind == Change::Kind::kTruncate) {
      if (Status s = truncate(); !s.ok()) return s;
      ++i;
      continue;
    }
    if (c.kind == Change::Kind::kSkip) {
      ++i;
      continue;
    }
    // A run: same kind, same key columns, and for upserts the same columns.
    std::vector<std::string> cols =
        c.kind == Change::Kind::kUpsert ? columns_of(c) : std::vector<std::string>{};
    auto same_key = [&](const Change& o) {
      if (o.key.size() != c.key.size()) return false;
      for (size_t k = 0; k < o.key.size(); ++k)
        if (o.key[k].first != c.key[k].first) return false;
      return true;
    };
    std::vector<const Change*> run{&c};
    size_t j = i + 1;
    for (; j < changes.size() && run.size() < 1000; ++j) {
      const Change& o = *changes[j];
      if (o.kind != c.kind || !same_key(o)) break;
      if (c.kind == Change::Kind::kUpsert && columns_of(o) != cols) break;
      run.push_back(&o);
    }
    Status s = c.kind == Change::Kind::kUpsert ? upsert(run, cols) : remove(run);
    if (!s.ok()) return s;
    i = j;
  }
  return Status::Ok();
}

}  // namespace ferry::odbc
