// odbc-cdc: changes of database tables as Debezium-style change events. mode =
// "logical" reads PostgreSQL's write-ahead log through a replication slot (every
// insert, update, delete and truncate, one span per transaction); mode = "query" polls
// any ODBC database for new or changed rows (deletes are not seen).
#include <memory>

#include "ferry/sdk.hpp"
#include "pg_logical_source.hpp"
#include "query_poller.hpp"

namespace ferry::odbc {
namespace {

constexpr ferry_option kOptions[] = {
    opt::string("connection", nullptr,
                "ODBC connection string, e.g. \"DSN=pg;UID=ferry;PWD=${file:/etc/ferry/pw}\" or "
                "\"Driver=PostgreSQL Unicode;Servername=...\"",
                opt::kRequired | opt::kSecret),
    opt::one_of("mode", "logical|query", "logical",
                "logical: PostgreSQL logical decoding (pgoutput); query: poll tables of any "
                "ODBC database"),
    opt::list("tables", nullptr,
              "Tables to capture, as \"schema.table\" or \"table\" (default: every table of "
              "the publication in logical mode; required in query mode)"),
    opt::string("slot", "", "logical: replication slot (default: ferry_<connector>)"),
    opt::string("publication", "", "logical: publication (default: ferry_<connector>)"),
    opt::boolean("create_slot", "true", "logical: create the slot when it does not exist"),
    opt::boolean("create_publication", "true",
                 "logical: create the publication (for `tables`, or all tables) when it does "
                 "not exist"),
    opt::one_of("snapshot", "initial|never", "initial",
                "initial: emit every existing row (op r) before streaming changes; never: "
                "changes from the slot's position on"),
    opt::boolean("resnapshot", "false",
                 "logical: when the slot was dropped or recreated behind ferry's back, take a "
                 "new snapshot instead of refusing to start"),
    opt::boolean("json_schemas", "false",
                 "logical: write key and value in Kafka Connect's JSON form (schema + "
                 "payload, as JsonConverter with schemas.enable=true), for Connect sinks"),
    opt::duration("poll_interval", "500ms", "How often to look for new changes when idle", 10,
                  3'600'000),
    opt::integer("fetch_size", "10000", "Rows fetched per round trip", 1, 1'000'000),
    opt::string("incrementing_column", "",
                "query: a column that grows with every new row (e.g. an auto-increment id); "
                "also the record key"),
    opt::string("timestamp_column", "",
                "query: a column set to the time of every insert and update; with it, "
                "updated rows are read again"),
    opt::duration("delay", "5s",
                  "query: rows are read only once this old (by timestamp, or by id: up to "
                  "the highest id seen this long ago), so that transactions committing late "
                  "are not skipped",
                  0, 86'400'000),
};

class OdbcCdcSource : public SourceTask {
 public:
  OdbcCdcSource(const Host& host, const Config& cfg) {
    if (cfg.str("mode") == "logical")
      impl_ = std::make_unique<PgLogicalSource>(host, cfg);
    else
      impl_ = std::make_unique<QueryPoller>(host, cfg);
  }
  Status start() override { return impl_->start(); }
  Status poll(uint32_t max_records) override { return impl_->poll(max_records); }
  void stop() override { impl_->stop(); }
  void committed(std::string_view partition, std::string_view offset) override {
    impl_->committed(partition, offset);
  }

 private:
  std::unique_ptr<SourceTask> impl_;
};

}  // namespace
}  // namespace ferry::odbc

FERRY_PLUGIN(ferry::odbc::OdbcCdcSource, "odbc-cdc", "0.1.0",
             "Database changes as Debezium-style events: PostgreSQL logical decoding, or "
             "polling any ODBC database",
             ferry::odbc::kOptions)
