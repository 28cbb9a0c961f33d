// Writes changes into one database table for odbc-sink: learns the table's columns
// from the driver's catalog (or creates the table), and runs upserts, deletes and
// truncates as prepared statements with bound parameters, batched as parameter arrays.
// Identifiers come from configuration and the catalog and are always quoted; record
// data only ever becomes parameter values.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/status.hpp"
#include "odbc_handles.hpp"
#include "sink_change.hpp"

namespace ferry::odbc {

enum class Dialect { kPostgres, kMysql, kSqlite, kOther };
Dialect dialect_of(const std::string& dbms_name);

class TableWriter {
 public:
  TableWriter(Connection& conn, Dialect dialect, std::string schema, std::string table);

  // Reads the table's columns; `exists` is false when the catalog has none.
  Status describe(bool& exists);
  // CREATE TABLE from a first change: column types guessed from its JSON values, the
  // key columns as primary key.
  Status create(const Change& sample);

  // Applies a run of changes of one kind, in order. Consecutive upserts with the same
  // columns go to the database as one parameter array.
  Status apply(const std::vector<const Change*>& changes);

  // Checks that every column a change names exists; the error names the column.
  Status check_columns(const Change& change) const;

  const std::string& name() const { return display_; }

 private:
  struct Column {
    std::string name;
    SQLSMALLINT data_type;
    std::string type_name;
  };
  Status upsert(const std::vector<const Change*>& run, const std::vector<std::string>& columns);
  Status remove(const std::vector<const Change*>& run);
  Status truncate();
  Param param_for(const std::string& column, const nlohmann::json& value) const;
  Statement& statement(const std::string& sql);
  std::vector<std::string> columns_of(const Change& c) const;

  Connection& conn_;
  Dialect dialect_;
  std::string quote_;
  std::string schema_, table_, qualified_, display_;
  std::map<std::string, Column> columns_;
  std::map<std::string, std::unique_ptr<Statement>> statements_;  // by SQL text
};

}  // namespace ferry::odbc
