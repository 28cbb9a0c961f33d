// RAII owners for unixODBC's environment, connection and statement handles, and the
// translation of ODBC diagnostics into ferry Status values: a lost or refused
// connection is retriable, bad credentials and unknown objects are configuration
// errors, anything else is fatal.
#pragma once

#include <sql.h>
#include <sqlext.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/status.hpp"

namespace ferry::odbc {

// The first diagnostic record of a handle: SQLSTATE and message.
struct Diagnostic {
  std::string state;  // five characters, e.g. "08001"; empty when none
  std::string message;
  int32_t native = 0;
};
Diagnostic diagnose(SQLSMALLINT type, SQLHANDLE handle);

// How a failure with this SQLSTATE should be handled.
Status classify(const Diagnostic& d, std::string_view what);

class Environment {
 public:
  Environment();
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  SQLHENV get() const { return env_; }

 private:
  SQLHENV env_ = SQL_NULL_HENV;
};

// The process's one ODBC environment. It is never freed: unixODBC unloads drivers with
// their environment, and a driver unloaded while another task still connects through
// it would pull code from under that task.
std::shared_ptr<Environment> shared_environment();

// Held around every call that may run setlocale. psqlODBC runs setlocale(LC_CTYPE, "")
// in each SQLDriverConnect and then reads the name it returned, which glibc frees when
// another thread's setlocale changes the locale: connects from two tasks at once read
// freed memory.
std::mutex& locale_mutex();

class Statement;

// A parameter bound as text (or NULL) for one execution. Values are converted by the
// database, so one binding path serves every column type.
struct Param {
  std::optional<std::string> text;
  SQLSMALLINT sql_type = SQL_VARCHAR;
  bool binary = false;  // bytes (SQL_C_BINARY) rather than text
};

class Connection {
 public:
  explicit Connection(std::shared_ptr<Environment> env);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `connection` is an ODBC connection string ("DSN=x;UID=..;PWD=.." or "Driver=..").
  Status connect(const std::string& connection);
  bool connected() const { return connected_; }
  void disconnect();

  Status set_autocommit(bool on);
  Status commit();
  Status rollback();

  // Runs a statement that returns no rows we care about.
  Status execute(const std::string& sql, const std::vector<Param>& params = {});
  // Runs a query and returns the first column of the first row as text, if any.
  Status query_value(const std::string& sql, std::optional<std::string>& out,
                     const std::vector<Param>& params = {});
  // Runs a query and returns every row as text columns (NULL = nullopt). For small
  // catalog queries only.
  using Row = std::vector<std::optional<std::string>>;
  Status query_rows(const std::string& sql, std::vector<Row>& rows,
                    const std::vector<Param>& params = {});

  // The columns of a table as the driver's catalog reports them (empty: no such table).
  struct ColumnInfo {
    std::string name;
    SQLSMALLINT data_type = SQL_VARCHAR;
    std::string type_name;
  };
  Status columns(const std::string& schema, const std::string& table, std::vector<ColumnInfo>& out);

  // The driver's name for the DBMS ("PostgreSQL", "SQLite", "MariaDB"...).
  std::string dbms_name() const;

  SQLHDBC get() const { return dbc_; }
  Status failure(SQLSMALLINT type, SQLHANDLE h, std::string_view what) const;

 private:
  std::shared_ptr<Environment> env_;
  SQLHDBC dbc_ = SQL_NULL_HDBC;
  bool connected_ = false;
};

class Statement {
 public:
  explicit Statement(Connection& conn);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status prepare(const std::string& sql);
  // Binds `params` (kept alive by the statement until the next bind) and executes the
  // prepared statement, or `sql` directly when not empty.
  Status execute(const std::vector<Param>& params = {}, const std::string& sql = {});
  // Executes the prepared statement once per row of `rows` (all of the same shape) with
  // ODBC parameter arrays: one round trip where the driver supports it.
  Status execute_batch(const std::vector<std::vector<Param>>& rows);
  // Largest parameter array execute_batch binds at once.
  static constexpr size_t kMaxParamArrayBytes = 8 << 20;
  // Advances to the next row: true when there is one.
  Status fetch(bool& has_row);
  // Column `col` (1-based) of the current row as bytes; nullopt for NULL. `binary`
  // reads SQL_C_BINARY (bytea), otherwise UTF-8 text.
  Status get(SQLUSMALLINT col, std::optional<std::string>& out, bool binary = false);
  Status column_count(SQLSMALLINT& n);

  SQLHSTMT get() const { return stmt_; }

 private:
  Status bind(const std::vector<Param>& params);
  // One parameter array of `rows` (execute_batch has cut it to size).
  Status execute_array(const std::vector<std::vector<Param>>& rows);
  Connection& conn_;
  SQLHSTMT stmt_ = SQL_NULL_HSTMT;
  std::vector<Param> bound_;
  std::vector<std::string> column_buffers_;
  std::vector<std::vector<SQLLEN>> column_indicators_;
  std::vector<SQLUSMALLINT> row_status_;
  std::vector<SQLLEN> indicators_;
  std::string buffer_;
};

}  // namespace ferry::odbc
