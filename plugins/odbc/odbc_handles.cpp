#include "odbc_handles.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace ferry::odbc {

namespace {
bool ok(SQLRETURN r) {
  return r == SQL_SUCCESS || r == SQL_SUCCESS_WITH_INFO;
}
bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}
}  // namespace

Diagnostic diagnose(SQLSMALLINT type, SQLHANDLE handle) {
  Diagnostic d;
  std::array<SQLCHAR, 6> state{};
  std::array<SQLCHAR, 2048> text{};
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  for (SQLSMALLINT i = 1;; ++i) {
    SQLRETURN r = SQLGetDiagRec(type, handle, i, state.data(), &native, text.data(),
                                static_cast<SQLSMALLINT>(text.size()), &len);
    if (!ok(r)) break;
    std::string msg(reinterpret_cast<const char*>(text.data()),
                    std::min<size_t>(static_cast<size_t>(len), text.size() - 1));
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (i == 1) {
      d.state = reinterpret_cast<const char*>(state.data());
      d.native = native;
      d.message = msg;
    } else if (!msg.empty() && !contains(d.message, msg)) {
      d.message += "; " + msg;
    }
    if (i >= 4) break;
  }
  return d;
}

Status classify(const Diagnostic& d, std::string_view what) {
  std::string msg = std::string(what) + ": " +
                    (d.message.empty() ? "unknown ODBC error" : d.message) +
                    (d.state.empty() ? "" : " (SQLSTATE " + d.state + ")");
  std::string_view s = d.state;
  std::string_view m = d.message;
  // Drivers report refused logins under 08001 as well as 28000: the text decides.
  if (s.starts_with("28") || contains(m, "password authentication failed") ||
      contains(m, "Access denied for user") || contains(m, "no pg_hba.conf entry"))
    return Status::Config(msg);
  if (s.starts_with("08") || s == "HYT00" || s == "HYT01" || s.starts_with("57P") || s == "40001" ||
      s == "40P01" || s == "53300" || contains(m, "server closed the connection") ||
      contains(m, "Could not connect") || contains(m, "connection to server") ||
      contains(m, "Lost connection") || contains(m, "gone away"))
    return Status::Retriable(msg);
  if (s == "IM002" || s == "IM003" || s.starts_with("42") || s == "3D000" || s == "3F000" ||
      s == "55000")
    return Status::Config(msg);
  return Status::Fatal(msg);
}

std::mutex& locale_mutex() {
  static std::mutex m;
  return m;
}

Environment::Environment() {
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_);
  SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
}

std::shared_ptr<Environment> shared_environment() {
  static auto* env = new std::shared_ptr<Environment>(std::make_shared<Environment>());
  return *env;
}

Environment::~Environment() {
  if (env_ != SQL_NULL_HENV) SQLFreeHandle(SQL_HANDLE_ENV, env_);
}

Connection::Connection(std::shared_ptr<Environment> env) : env_(std::move(env)) {
  SQLAllocHandle(SQL_HANDLE_DBC, env_->get(), &dbc_);
}

Connection::~Connection() {
  disconnect();
  if (dbc_ != SQL_NULL_HDBC) SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
}

Status Connection::failure(SQLSMALLINT type, SQLHANDLE h, std::string_view what) const {
  return classify(diagnose(type, h), what);
}

Status Connection::connect(const std::string& connection) {
  disconnect();
  SQLSetConnectAttr(dbc_, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(10), 0);
  std::array<SQLCHAR, 1024> out{};
  SQLSMALLINT out_len = 0;
  std::string in = connection;
  std::unique_lock locale_lock(locale_mutex());
  SQLRETURN r = SQLDriverConnect(
      dbc_, nullptr, reinterpret_cast<SQLCHAR*>(in.data()), static_cast<SQLSMALLINT>(in.size()),
      out.data(), static_cast<SQLSMALLINT>(out.size()), &out_len, SQL_DRIVER_NOPROMPT);
  locale_lock.unlock();
  if (!ok(r)) return failure(SQL_HANDLE_DBC, dbc_, "cannot connect to the database");
  connected_ = true;
  return Status::Ok();
}

void Connection::disconnect() {
  if (!connected_) return;
  SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK);
  SQLDisconnect(dbc_);
  connected_ = false;
}

Status Connection::set_autocommit(bool on) {
  SQLRETURN r = SQLSetConnectAttr(dbc_, SQL_ATTR_AUTOCOMMIT,
                                  reinterpret_cast<SQLPOINTER>(static_cast<uintptr_t>(
                                      on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF)),
                                  0);
  if (!ok(r)) return failure(SQL_HANDLE_DBC, dbc_, "cannot set autocommit");
  return Status::Ok();
}

Status Connection::commit() {
  if (!ok(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_COMMIT)))
    return failure(SQL_HANDLE_DBC, dbc_, "commit failed");
  return Status::Ok();
}

Status Connection::rollback() {
  if (!ok(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK)))
    return failure(SQL_HANDLE_DBC, dbc_, "rollback failed");
  return Status::Ok();
}

Status Connection::execute(const std::string& sql, const std::vector<Param>& params) {
  Statement st(*this);
  return st.execute(params, sql);
}

Status Connection::query_value(const std::string& sql, std::optional<std::string>& out,
                               const std::vector<Param>& params) {
  out.reset();
  Statement st(*this);
  if (Status s = st.execute(params, sql); !s.ok()) return s;
  bool row = false;
  if (Status s = st.fetch(row); !s.ok()) return s;
  if (row) return st.get(1, out);
  return Status::Ok();
}

Status Connection::query_rows(const std::string& sql, std::vector<Row>& rows,
                              const std::vector<Param>& params) {
  rows.clear();
  Statement st(*this);
  if (Status s = st.execute(params, sql); !s.ok()) return s;
  SQLSMALLINT n = 0;
  if (Status s = st.column_count(n); !s.ok()) return s;
  for (;;) {
    bool row = false;
    if (Status s = st.fetch(row); !s.ok()) return s;
    if (!row) break;
    Row r(static_cast<size_t>(n));
    for (SQLSMALLINT c = 1; c <= n; ++c)
      if (Status s = st.get(static_cast<SQLUSMALLINT>(c), r[static_cast<size_t>(c - 1)]); !s.ok())
        return s;
    rows.push_back(std::move(r));
  }
  return Status::Ok();
}

Status Connection::columns(const std::string& schema, const std::string& table,
                           std::vector<ColumnInfo>& out) {
  out.clear();
  Statement st(*this);
  std::string s = schema, t = table;
  SQLRETURN r = SQLColumns(
      st.get(), nullptr, 0, schema.empty() ? nullptr : reinterpret_cast<SQLCHAR*>(s.data()),
      schema.empty() ? 0 : static_cast<SQLSMALLINT>(s.size()), reinterpret_cast<SQLCHAR*>(t.data()),
      static_cast<SQLSMALLINT>(t.size()), nullptr, 0);
  if (!ok(r)) return failure(SQL_HANDLE_STMT, st.get(), "cannot list the columns of " + table);
  for (;;) {
    bool row = false;
    if (Status x = st.fetch(row); !x.ok()) return x;
    if (!row) break;
    std::optional<std::string> tname, name, type, type_name;
    if (Status x = st.get(3, tname); !x.ok()) return x;
    if (tname.value_or("") != table) continue;  // '_' in the name is a pattern wildcard
    if (Status x = st.get(4, name); !x.ok()) return x;
    if (Status x = st.get(5, type); !x.ok()) return x;
    if (Status x = st.get(6, type_name); !x.ok()) return x;
    out.push_back({name.value_or(""),
                   static_cast<SQLSMALLINT>(std::atoi(type.value_or("12").c_str())),
                   type_name.value_or("")});
  }
  return Status::Ok();
}

std::string Connection::dbms_name() const {
  std::array<SQLCHAR, 128> name{};
  SQLSMALLINT len = 0;
  SQLGetInfo(dbc_, SQL_DBMS_NAME, name.data(), static_cast<SQLSMALLINT>(name.size()), &len);
  return reinterpret_cast<const char*>(name.data());
}

Statement::Statement(Connection& conn) : conn_(conn) {
  SQLAllocHandle(SQL_HANDLE_STMT, conn_.get(), &stmt_);
}

Statement::~Statement() {
  if (stmt_ != SQL_NULL_HSTMT) SQLFreeHandle(SQL_HANDLE_STMT, stmt_);
}

Status Statement::prepare(const std::string& sql) {
  std::string text = sql;
  SQLRETURN r = SQLPrepare(stmt_, reinterpret_cast<SQLCHAR*>(text.data()),
                           static_cast<SQLINTEGER>(text.size()));
  if (!ok(r)) return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot prepare " + sql);
  return Status::Ok();
}

Status Statement::bind(const std::vector<Param>& params) {
  bound_ = params;
  indicators_.assign(bound_.size(), 0);
  SQLFreeStmt(stmt_, SQL_RESET_PARAMS);
  for (size_t i = 0; i < bound_.size(); ++i) {
    Param& p = bound_[i];
    SQLLEN len = p.text ? static_cast<SQLLEN>(p.text->size()) : 0;
    indicators_[i] = p.text ? len : SQL_NULL_DATA;
    SQLRETURN r = SQLBindParameter(
        stmt_, static_cast<SQLUSMALLINT>(i + 1), SQL_PARAM_INPUT,
        p.binary ? SQL_C_BINARY : SQL_C_CHAR, p.sql_type, static_cast<SQLULEN>(len > 0 ? len : 1),
        0, p.text ? static_cast<SQLPOINTER>(p.text->data()) : nullptr, len, &indicators_[i]);
    if (!ok(r)) return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot bind a parameter");
  }
  return Status::Ok();
}

Status Statement::execute(const std::vector<Param>& params, const std::string& sql) {
  SQLFreeStmt(stmt_, SQL_CLOSE);
  if (Status s = bind(params); !s.ok()) return s;
  SQLRETURN r;
  if (sql.empty()) {
    r = SQLExecute(stmt_);
  } else {
    std::string text = sql;
    r = SQLExecDirect(stmt_, reinterpret_cast<SQLCHAR*>(text.data()),
                      static_cast<SQLINTEGER>(text.size()));
  }
  if (r == SQL_NO_DATA) return Status::Ok();  // e.g. an UPDATE that matched no row
  if (!ok(r))
    return conn_.failure(SQL_HANDLE_STMT, stmt_,
                         sql.empty() ? std::string("statement failed") : "cannot run " + sql);
  return Status::Ok();
}

Status Statement::execute_batch(const std::vector<std::vector<Param>>& rows) {
  if (rows.empty()) return Status::Ok();
  if (rows.size() == 1) return execute(rows[0]);
  // A parameter array is rows x the widest value of each column: one large value in a
  // batch of small ones would make every row that wide. Batches are cut where the
  // array would pass kMaxParamArrayBytes.
  const size_t cols = rows[0].size();
  std::vector<size_t> widest(cols, 1);
  size_t start = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<size_t> with = widest;
    size_t row_bytes = 0;
    for (size_t c = 0; c < cols; ++c) {
      if (rows[r][c].text) with[c] = std::max(with[c], rows[r][c].text->size() + 1);
      row_bytes += with[c];
    }
    if (r > start && row_bytes * (r - start + 1) > kMaxParamArrayBytes) {
      std::vector<std::vector<Param>> part(rows.begin() + static_cast<ptrdiff_t>(start),
                                           rows.begin() + static_cast<ptrdiff_t>(r));
      if (Status s = execute_array(part); !s.ok()) return s;
      start = r;
      widest.assign(cols, 1);
      for (size_t c = 0; c < cols; ++c)
        if (rows[r][c].text) widest[c] = rows[r][c].text->size() + 1;
      continue;
    }
    widest = std::move(with);
  }
  if (start == 0) return execute_array(rows);
  std::vector<std::vector<Param>> rest(rows.begin() + static_cast<ptrdiff_t>(start), rows.end());
  return execute_array(rest);
}

Status Statement::execute_array(const std::vector<std::vector<Param>>& rows) {
  if (rows.size() == 1) return execute(rows[0]);
  const size_t n = rows.size(), cols = rows[0].size();
  // A parameter array has one C and SQL type per column, taken from the column's
  // first non-NULL value (a NULL says nothing: it is bound as text, and bytes bound
  // as text stop at their first zero byte). Rows that disagree go one by one.
  std::vector<const Param*> typed(cols, nullptr);
  for (size_t c = 0; c < cols; ++c)
    for (const auto& row : rows) {
      if (!row[c].text) continue;
      if (!typed[c]) {
        typed[c] = &row[c];
      } else if (typed[c]->binary != row[c].binary || typed[c]->sql_type != row[c].sql_type) {
        for (const auto& each : rows)
          if (Status s = execute(each); !s.ok()) return s;
        return Status::Ok();
      }
    }
  SQLFreeStmt(stmt_, SQL_CLOSE);
  SQLFreeStmt(stmt_, SQL_RESET_PARAMS);
  column_buffers_.assign(cols, {});
  column_indicators_.assign(cols, std::vector<SQLLEN>(n));
  row_status_.assign(n, 0);
  SQLSetStmtAttr(stmt_, SQL_ATTR_PARAM_BIND_TYPE,
                 reinterpret_cast<SQLPOINTER>(static_cast<uintptr_t>(SQL_PARAM_BIND_BY_COLUMN)), 0);
  SQLSetStmtAttr(stmt_, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(n), 0);
  SQLSetStmtAttr(stmt_, SQL_ATTR_PARAM_STATUS_PTR, row_status_.data(), 0);
  for (size_t c = 0; c < cols; ++c) {
    size_t width = 1;
    for (const auto& row : rows)
      if (row[c].text) width = std::max(width, row[c].text->size() + 1);
    std::string& buf = column_buffers_[c];
    buf.assign(n * width, '\0');
    for (size_t r = 0; r < n; ++r) {
      const auto& t = rows[r][c].text;
      column_indicators_[c][r] = t ? static_cast<SQLLEN>(t->size()) : SQL_NULL_DATA;
      if (t) std::memcpy(buf.data() + r * width, t->data(), t->size());
    }
    const Param& p = typed[c] ? *typed[c] : rows[0][c];
    SQLRETURN rc =
        SQLBindParameter(stmt_, static_cast<SQLUSMALLINT>(c + 1), SQL_PARAM_INPUT,
                         p.binary ? SQL_C_BINARY : SQL_C_CHAR, p.sql_type, width, 0, buf.data(),
                         static_cast<SQLLEN>(width), column_indicators_[c].data());
    if (!ok(rc)) return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot bind a parameter array");
  }
  SQLRETURN r = SQLExecute(stmt_);
  Status result = Status::Ok();
  if (r != SQL_NO_DATA && !ok(r))
    result = conn_.failure(SQL_HANDLE_STMT, stmt_, "statement failed");
  SQLSetStmtAttr(stmt_, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(1), 0);
  SQLSetStmtAttr(stmt_, SQL_ATTR_PARAM_STATUS_PTR, nullptr, 0);
  SQLFreeStmt(stmt_, SQL_RESET_PARAMS);
  // Unbound now: give the memory back rather than keep the largest batch's arrays.
  column_buffers_ = {};
  column_indicators_ = {};
  if (result.ok())
    for (SQLUSMALLINT st : row_status_)
      if (st == SQL_PARAM_ERROR) return Status::Fatal("a row of a parameter array failed");
  return result;
}

Status Statement::fetch(bool& has_row) {
  SQLRETURN r = SQLFetch(stmt_);
  has_row = ok(r);
  if (r == SQL_NO_DATA || has_row) return Status::Ok();
  return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot read a row");
}

Status Statement::get(SQLUSMALLINT col, std::optional<std::string>& out, bool binary) {
  // `out` keeps its allocation from row to row: this runs once per column per row.
  bool first = true;
  if (buffer_.size() < 65536) buffer_.resize(65536);
  const SQLSMALLINT ctype = binary ? SQL_C_BINARY : SQL_C_CHAR;
  // Text comes back NUL-terminated, so each chunk holds one byte less than the buffer.
  const size_t chunk = binary ? buffer_.size() : buffer_.size() - 1;
  for (;;) {
    SQLLEN ind = 0;
    SQLRETURN r =
        SQLGetData(stmt_, col, ctype, buffer_.data(), static_cast<SQLLEN>(buffer_.size()), &ind);
    if (r == SQL_NO_DATA) break;
    if (!ok(r)) return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot read a column");
    if (ind == SQL_NULL_DATA) {
      out.reset();
      return Status::Ok();
    }
    if (first) {
      if (out)
        out->clear();
      else
        out.emplace();
      first = false;
    }
    size_t got = (ind == SQL_NO_TOTAL || static_cast<size_t>(ind) > chunk)
                     ? chunk
                     : static_cast<size_t>(ind);
    out->append(buffer_.data(), got);
    if (r == SQL_SUCCESS) break;
  }
  if (first) out.reset();  // no data at all
  return Status::Ok();
}

Status Statement::column_count(SQLSMALLINT& n) {
  if (!ok(SQLNumResultCols(stmt_, &n)))
    return conn_.failure(SQL_HANDLE_STMT, stmt_, "cannot count columns");
  return Status::Ok();
}

}  // namespace ferry::odbc
