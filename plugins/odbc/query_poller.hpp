// odbc-cdc, mode = "query": polls tables of any ODBC database for rows past the last
// position, by an incrementing column, or by a timestamp column and the incrementing
// column together (which also sees updated rows). Like Kafka Connect's JDBC source it
// cannot see deletes, and it reads only committed rows that are old enough:
//   - incrementing: only ids up to the highest id seen `delay` ago, so that a
//     transaction that took an id earlier but commits later is not skipped;
//   - timestamp: only rows whose timestamp is older than the database's clock - delay.
// Records are the rows as flat JSON objects, keyed by the incrementing column.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/sdk.hpp"
#include "odbc_handles.hpp"
#include "table_writer.hpp"

namespace ferry::odbc {

class QueryPoller : public SourceTask {
 public:
  QueryPoller(const Host& host, const Config& cfg);
  ~QueryPoller() override;
  Status start() override;
  Status poll(uint32_t max_records) override;
  void stop() override { stopping_ = true; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Column {
    std::string name;
    SQLSMALLINT type = SQL_VARCHAR;
  };
  struct Table {
    std::string schema, name, display, quoted, topic, partition;
    std::vector<Column> columns;
    size_t inc = 0;  // index of the incrementing column
    std::optional<size_t> ts;
    // Position: the last row emitted.
    std::optional<std::string> last_inc, last_ts;
    // Incrementing mode: (when, highest id) observations, for the delay.
    std::deque<std::pair<Clock::time_point, std::string>> seen_max;
    Clock::time_point next_poll{};
    uint64_t polls = 0;
    bool topic_ready = false;
  };

  Status connect();
  Status describe(Table& t);
  Status poll_table(Table& t, uint32_t max_records, uint32_t& emitted, bool& caught_up);
  std::optional<std::string> upper_id(Table& t, Status& st);
  std::string now_minus_delay() const;

  Host host_;
  Config cfg_;
  std::string connection_;
  std::string incrementing_;
  std::string timestamp_;
  std::chrono::milliseconds delay_, poll_interval_;
  bool spans_ = false;
  bool stopping_ = false;
  Dialect dialect_ = Dialect::kOther;
  std::string quote_;
  std::unique_ptr<Connection> conn_;
  std::vector<Table> tables_;
  size_t next_table_ = 0;
  std::string key_buf_, value_buf_, offset_buf_;
};

}  // namespace ferry::odbc
