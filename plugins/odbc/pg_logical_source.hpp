// odbc-cdc, mode = "logical": PostgreSQL change data capture with the built-in
// pgoutput plugin through the slot SQL functions, over psqlODBC.
//
// Delivery: changes are read with pg_logical_slot_peek_binary_changes, which leaves the
// slot where it is; the slot is advanced (pg_replication_slot_advance) only to a
// position whose every change Kafka has acknowledged and ferry has stored as its
// offset. So a crash at any point re-reads from the slot, never past it, and the stored
// offset is never behind the slot unless the slot was dropped and recreated — which
// start() detects and refuses.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/sdk.hpp"
#include "odbc_handles.hpp"
#include "pgoutput_decoder.hpp"
#include "row_prefetcher.hpp"
#include "snapshot_visibility.hpp"
#include "stream_position.hpp"

namespace ferry::odbc {

class PgLogicalSource : public SourceTask {
 public:
  PgLogicalSource(const Host& host, const Config& cfg);
  ~PgLogicalSource() override;
  Status start() override;
  Status poll(uint32_t max_records) override;
  void stop() override { stopping_ = true; }
  void committed(std::string_view partition, std::string_view offset) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Txn {
    uint64_t final_lsn = 0;
    uint32_t xid = 0;
    int64_t commit_ms = 0;
    uint64_t n = 0;     // records emitted for it so far (or skipped as delivered before)
    uint64_t skip = 0;  // records delivered before a restart: not emitted again
    bool skipping = false;
    std::string span;
  };

  Status connect(Connection& c, bool streaming);
  Status check_server();
  Status setup_publication();
  Status setup_slot(const std::optional<StreamPosition>& stored);
  Status load_tables();
  bool wanted(std::string_view schema, std::string_view table) const;
  const std::string& topic_for(std::string_view schema, std::string_view table, bool keyed,
                               Status& st);

  Status snapshot_step(uint32_t max_records, uint32_t& emitted);
  Status stream_step(uint32_t max_records, uint32_t& emitted);
  Status open_peek();
  Status handle(std::string_view data, uint32_t& emitted);
  Status emit_change(char op, const pg::Relation& rel, const pg::Tuple* before,
                     const pg::Tuple* after, uint32_t& emitted);
  Status emit_record(const std::string& topic, const std::string* key, const std::string* value,
                     bool in_span, uint32_t& emitted);
  Status emit_position(uint64_t lsn);
  StreamPosition stream_position(uint64_t lsn, uint64_t txn, uint64_t n) const;
  Status advance_slot();
  void report_lag();
  void drop_connections();
  static int64_t now_ms();

  Host host_;
  Config cfg_;
  std::string slot_;
  std::string publication_;
  std::string partition_;  // source partition of every record: "slot/<slot>"
  std::string topic_template_;
  std::string connection_;
  std::string db_;
  std::chrono::milliseconds poll_interval_;
  bool spans_ = false;
  bool connect_json_ = false;
  bool stopping_ = false;

  std::shared_ptr<Environment> env_;
  std::unique_ptr<Connection> control_;   // catalog, slot advance, lag: autocommit
  std::unique_ptr<Connection> stream_;    // the peek cursor
  std::unique_ptr<Connection> snapshot_;  // one REPEATABLE READ transaction
  std::unique_ptr<Statement> cursor_;
  std::unique_ptr<RowPrefetcher> prefetch_;  // reads the peek's rows ahead of handle()
  std::vector<std::string> chunk_;
  size_t chunk_pos_ = 0;

  enum class Phase { kSnapshot, kStream } phase_ = Phase::kStream;
  std::vector<std::pair<std::string, std::string>> snapshot_tables_;
  size_t snapshot_index_ = 0;
  pg::Relation snapshot_rel_;  // the table being snapshotted, as the catalog has it
  bool snapshot_table_open_ = false;
  std::string snapshot_span_;
  uint64_t snapshot_lsn_ = 0;
  // What the last snapshot saw, until the stream has passed every transaction it could
  // have seen: those are skipped, not emitted a second time.
  std::optional<SnapshotVisibility> seen_;

  pg::Decoder decoder_;
  pg::Message msg_;
  Txn txn_;
  bool in_txn_ = false;
  uint64_t emitted_upto_ = 0;  // every transaction ending at or before it is emitted
  uint64_t resume_txn_ = 0;    // a transaction partly delivered: skip its first resume_n_
  uint64_t resume_n_ = 0;
  uint64_t peek_upto_ = 0;
  bool peek_returned_rows_ = false;
  Clock::time_point last_peek_{};
  Clock::time_point next_lag_{};

  uint64_t confirmed_ = 0;   // the slot's confirmed_flush_lsn as last seen/set
  uint64_t advance_to_ = 0;  // committed offset not yet applied to the slot

  std::unordered_map<std::string, std::string> topics_;  // "schema.table" -> topic
  // Per relation of the stream: captured or not, its topic, keyed or not. Cleared when
  // a Relation message arrives (columns or name may have changed).
  struct RelationInfo {
    bool wanted = false;
    bool keyed = false;
    const std::string* topic = nullptr;
    // json_schemas: the start of a key and a value in Kafka Connect's JSON form, up to
    // their payload, and the whole key of a truncate.
    std::string key_prefix, value_prefix, empty_key;
  };
  std::unordered_map<const pg::Relation*, RelationInfo> relation_info_;
  const RelationInfo& info(const pg::Relation& rel, Status& st);
  std::set<std::string> ensured_;
  std::string key_buf_, value_buf_, offset_buf_;
  std::string position_text_;
};

}  // namespace ferry::odbc
