// odbc-sink: applies records to database tables over ODBC — upsert by key, delete by
// key (Debezium deletes and tombstones), truncate — so that a table fed from odbc-cdc
// (or any JSON topic) converges to its source. Each flush is one database transaction;
// redelivered records are harmless, since every statement is keyed.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/sdk.hpp"
#include "identifiers.hpp"
#include "odbc_handles.hpp"
#include "sink_change.hpp"
#include "table_writer.hpp"

namespace ferry::odbc {
namespace {

constexpr ferry_option kOptions[] = {
    opt::string("connection", nullptr,
                "ODBC connection string, e.g. \"DSN=replica;UID=ferry;PWD=${file:/etc/ferry/pw}\"",
                opt::kRequired | opt::kSecret),
    opt::string("table", "{table}",
                "Target table: {table} is the last part of the topic name, {topic} the whole "
                "name with . and - as _; \"schema.name\" qualifies it"),
    opt::list("key_columns", nullptr,
              "Key columns (default: the fields of the record key, a JSON object)"),
    opt::boolean("create_table", "false",
                 "Create a missing table from the first record (types guessed from JSON)"),
    opt::boolean("delete_enabled", "true",
                 "Apply deletes (Debezium op d and tombstones); false ignores them"),
};

struct Pending {
  TableWriter* table = nullptr;
  Change change;
  // The record as it came, for the dead letter topic.
  std::string topic;
  std::optional<std::string> key, value;
};

class OdbcSink : public SinkTask {
 public:
  OdbcSink(const Host& host, const Config& cfg)
      : host_(host),
        connection_(cfg.str("connection")),
        table_template_(cfg.str("table")),
        key_columns_(cfg.list("key_columns")),
        create_table_(cfg.boolean("create_table")),
        deletes_(cfg.boolean("delete_enabled")) {}

  Status start() override { return connect(); }

  Status put(std::span<const RecordView> records) override {
    if (!conn_) {
      if (Status s = connect(); !s.ok()) return s;
    }
    for (const RecordView& r : records) {
      Pending p;
      std::string error;
      if (!parse_change(r.key(), r.value(), key_columns_, p.change, error)) {
        if (Status s = host_.reject(r.raw(), error); !s.ok()) return s;
        continue;
      }
      if (p.change.kind == Change::Kind::kDelete && !deletes_) continue;
      Status st;
      p.table = writer(r.topic(), p.change, st);
      if (!st.ok()) {
        if (st.retriable()) return drop(st);
        if (Status s = host_.reject(r.raw(), st.message()); !s.ok()) return s;
        continue;
      }
      if (p.table == nullptr) continue;  // a delete for a table that does not exist
      if (Status s = p.table->check_columns(p.change); !s.ok()) {
        if (Status x = host_.reject(r.raw(), s.message()); !x.ok()) return x;
        continue;
      }
      p.topic = r.topic();
      if (auto k = r.key()) p.key = std::string(*k);
      if (auto v = r.value()) p.value = std::string(*v);
      pending_.push_back(std::move(p));
    }
    return Status::Ok();
  }

  Status flush() override {
    if (pending_.empty()) return Status::Ok();
    if (!conn_) {
      if (Status s = connect(); !s.ok()) return s;
    }
    Status s = apply(0, pending_.size());
    if (!s.ok()) {
      (void)conn_->rollback();
      if (s.retriable()) return drop(s);
      // One of them cannot be applied: find it row by row, each in a savepoint.
      if (Status x = apply_one_by_one(); !x.ok()) {
        (void)conn_->rollback();
        return x.retriable() ? drop(x) : x;
      }
    }
    if (Status c = conn_->commit(); !c.ok()) return drop(c);
    pending_.clear();
    return Status::Ok();
  }

 private:
  Status connect() {
    writers_.clear();
    conn_ = std::make_unique<Connection>(shared_environment());
    if (Status s = conn_->connect(connection_); !s.ok()) {
      conn_.reset();
      return s;
    }
    dialect_ = dialect_of(conn_->dbms_name());
    if (Status s = conn_->set_autocommit(false); !s.ok()) return drop(s);
    return Status::Ok();
  }

  // Forgets the connection so that the next call reconnects; keeps `pending_`.
  Status drop(Status s) {
    for (auto& p : pending_) p.table = nullptr;
    writers_.clear();
    conn_.reset();
    return s;
  }

  TableWriter* writer(std::string_view topic, const Change& change, Status& st) {
    std::string name = table_for_topic(table_template_, topic);
    auto it = writers_.find(name);
    if (it != writers_.end()) return it->second.get();
    auto [schema, table] = split_qualified(name, "");
    auto w = std::make_unique<TableWriter>(*conn_, dialect_, schema, table);
    bool exists = false;
    if (st = w->describe(exists); !st.ok()) return nullptr;
    if (!exists) {
      if (change.kind != Change::Kind::kUpsert) return nullptr;  // nothing to delete
      if (!create_table_) {
        st = Status::Config("table " + name +
                            " does not exist (create it, or set create_table = true)");
        return nullptr;
      }
      if (st = w->create(change); !st.ok()) return nullptr;
      if (st = conn_->commit(); !st.ok()) return nullptr;
      host_.info("created table " + name);
    }
    return writers_.emplace(name, std::move(w)).first->second.get();
  }

  // Re-resolves tables after a reconnect.
  Status bind_tables() {
    for (auto& p : pending_) {
      if (p.table != nullptr) continue;
      Status st;
      p.table = writer(p.topic, p.change, st);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

  Status apply(size_t from, size_t to) {
    if (Status s = bind_tables(); !s.ok()) return s;
    std::vector<const Change*> run;
    TableWriter* table = nullptr;
    for (size_t i = from; i < to; ++i) {
      Pending& p = pending_[i];
      if (p.table != table && !run.empty()) {
        if (Status s = table->apply(run); !s.ok()) return s;
        run.clear();
      }
      table = p.table;
      if (table != nullptr) run.push_back(&p.change);
    }
    if (!run.empty()) return table->apply(run);
    return Status::Ok();
  }

  Status apply_one_by_one() {
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (Status s = conn_->execute("SAVEPOINT ferry_row"); !s.ok()) return s;
      Status s = apply(i, i + 1);
      if (s.ok()) {
        if (Status x = conn_->execute("RELEASE SAVEPOINT ferry_row"); !x.ok()) return x;
        continue;
      }
      if (s.retriable()) return s;
      if (Status x = conn_->execute("ROLLBACK TO SAVEPOINT ferry_row"); !x.ok()) return x;
      const Pending& p = pending_[i];
      SourceRecord r;
      if (p.key) r.key = *p.key;
      if (p.value) r.value = *p.value;
      r.topic = p.topic.c_str();
      if (Status x = host_.reject(r, s.message()); !x.ok()) return x;
    }
    return Status::Ok();
  }

  Host host_;
  std::string connection_;
  std::string table_template_;
  std::vector<std::string> key_columns_;
  bool create_table_;
  bool deletes_;
  Dialect dialect_ = Dialect::kOther;
  std::unique_ptr<Connection> conn_;
  std::map<std::string, std::unique_ptr<TableWriter>> writers_;
  std::vector<Pending> pending_;
};

}  // namespace
}  // namespace ferry::odbc

FERRY_PLUGIN(ferry::odbc::OdbcSink, "odbc-sink", "0.1.0",
             "Upserts and deletes by key into database tables over ODBC (Debezium change "
             "events, tombstones or flat JSON)",
             ferry::odbc::kOptions)
