// odbc-sink: applies records to database tables over ODBC — upsert by key, delete by
// key (Debezium deletes and tombstones), truncate — so that a table fed from odbc-cdc
// (or any JSON topic) converges to its source. Each flush is one database transaction;
// redelivered records are harmless, since every statement is keyed.
#include <map>
#include <memory>
#include <optional>
#include <set>
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
    opt::boolean("truncate_enabled", "false",
                 "Apply truncates (Debezium op t) as DELETE FROM the table; false ignores them, "
                 "as Debezium's JDBC sink does by default"),
    opt::string("staging_table", "ferry_span_staging",
                "Where records of a span wait, durably, until the whole span has arrived "
                "and is applied in one transaction (created when spans are used)"),
};

struct Pending {
  TableWriter* table = nullptr;
  Change change;
  std::string span;  // a span's record waits in the staging table for the span's end
  uint64_t seq = 0;
  uint64_t sub = 0;  // records outside spans that follow a span's record (tombstones)
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
        deletes_(cfg.boolean("delete_enabled")),
        truncates_(cfg.boolean("truncate_enabled")),
        staging_name_(cfg.str("staging_table")) {}

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
      // A truncate empties the whole table: applied only when the operator asked.
      if (p.change.kind == Change::Kind::kTruncate && !truncates_) {
        host_.count("truncates_ignored");
        continue;
      }
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
      // A span's record waits for the span's end. So does a record outside any span
      // that follows one in the same partition (a tombstone after its delete), so
      // that the partition's order holds.
      Follow& f = follows_[{std::string(r.topic()), r.partition()}];
      if (!r.span().empty() && open_spans_.contains(r.span())) {
        f = Follow{std::string(r.span()), r.span_seq(), 0};
      } else if (r.span().empty() && !f.span.empty() && open_spans_.contains(f.span)) {
        ++f.sub;
      } else {
        pending_.push_back(std::move(p));
        continue;
      }
      p.span = f.span;
      p.seq = f.seq;
      p.sub = f.sub;
      staged_.push_back(std::move(p));
    }
    return Status::Ok();
  }

  // Applies the records outside spans and stages the records of unfinished spans, in
  // one transaction.
  Status flush() override {
    if (pending_.empty() && staged_.empty()) return Status::Ok();
    if (!conn_) {
      if (Status s = connect(); !s.ok()) return s;
    }
    return commit_pending([&] { return stage(); });
  }

  // A span: the records written on this task's partitions are staged; before the first
  // one arrives, make sure there is a staging table.
  Status span_begin(std::string_view span_id) override {
    if (!conn_) {
      if (Status s = connect(); !s.ok()) return s;
    }
    if (!staging_) {
      if (Status s = open_staging(); !s.ok()) return drop(s);
    }
    open_spans_.insert(std::string(span_id));
    return Status::Ok();
  }

  // Every record of the span is staged: apply them all, and forget them, in one
  // transaction, so that readers of the table see the whole span or none of it.
  Status span_end(std::string_view span_id) override {
    if (Status s = flush(); !s.ok()) return s;
    std::string span(span_id);
    Status s = apply_staged(span);
    pending_.clear();
    if (!s.ok()) {
      // Nothing of the span was committed; it is still staged for a retry.
      (void)conn_->rollback();
      return s.retriable() ? drop(s) : s;
    }
    open_spans_.erase(span);  // follows_ entries of it now lead nowhere
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
    for (auto& p : staged_) p.table = nullptr;
    writers_.clear();
    staging_.reset();
    conn_.reset();
    return s;
  }

  // Applies `pending_`, runs `also`, commits. A record the database refuses is found
  // row by row in savepoints and goes to the dead letter path; the rest is applied.
  template <typename F>
  Status commit_pending(F also) {
    Status s = apply(0, pending_.size());
    if (!s.ok()) {
      (void)conn_->rollback();
      if (s.retriable()) return drop(s);
      if (Status x = apply_one_by_one(); !x.ok()) {
        (void)conn_->rollback();
        return x.retriable() ? drop(x) : x;
      }
    }
    if (Status x = also(); !x.ok()) {
      (void)conn_->rollback();
      return x.retriable() ? drop(x) : x;
    }
    if (Status c = conn_->commit(); !c.ok()) return drop(c);
    pending_.clear();
    return Status::Ok();
  }

  Status open_staging() {
    auto [schema, table] = split_qualified(staging_name_, "");
    std::string q = dialect_ == Dialect::kMysql ? "`" : "\"";
    staging_quoted_ =
        (schema.empty() ? "" : quote_identifier(schema, q) + ".") + quote_identifier(table, q);
    std::string text = dialect_ == Dialect::kMysql ? "LONGTEXT" : "TEXT";
    if (Status s = conn_->execute("CREATE TABLE IF NOT EXISTS " + staging_quoted_ +
                                  " (span VARCHAR(100) NOT NULL, seq BIGINT NOT NULL, sub "
                                  "BIGINT NOT NULL, topic VARCHAR(255) NOT NULL, rkey " +
                                  text + ", rvalue " + text + ", PRIMARY KEY (span, seq, sub))");
        !s.ok())
      return s;
    if (Status s = conn_->commit(); !s.ok()) return s;
    staging_ = std::make_unique<TableWriter>(*conn_, dialect_, schema, table);
    bool exists = false;
    if (Status s = staging_->describe(exists); !s.ok()) return s;
    if (!exists) return Status::Fatal("cannot see staging table " + staging_name_);
    return Status::Ok();
  }

  // Writes `staged_` to the staging table (keyed by span and sequence: a record
  // delivered again overwrites itself).
  Status stage() {
    if (staged_.empty()) return Status::Ok();
    if (!staging_) {
      if (Status s = open_staging(); !s.ok()) return s;
    }
    std::vector<Change> rows(staged_.size());
    std::vector<const Change*> run;
    for (size_t i = 0; i < staged_.size(); ++i) {
      const Pending& p = staged_[i];
      Change& c = rows[i];
      c.kind = Change::Kind::kUpsert;
      c.key = {{"span", p.span}, {"seq", p.seq}, {"sub", p.sub}};
      c.row = {{"span", p.span},
               {"seq", p.seq},
               {"sub", p.sub},
               {"topic", p.topic},
               {"rkey", p.key ? nlohmann::json(*p.key) : nlohmann::json()},
               {"rvalue", p.value ? nlohmann::json(*p.value) : nlohmann::json()}};
      run.push_back(&c);
    }
    if (Status s = staging_->apply(run); !s.ok()) return s;
    staged_.clear();
    return Status::Ok();
  }

  // Applies a span's staged records in order, a page at a time (a span may be larger
  // than memory), then removes them and commits: one transaction for all of it.
  Status apply_staged(const std::string& span) {
    if (!staging_) {
      if (Status s = open_staging(); !s.ok()) return s;
    }
    std::string after_seq = "-1", after_sub = "-1";
    for (bool more = true; more;) {
      pending_.clear();
      if (Status s = load_staged_page(span, after_seq, after_sub, more); !s.ok()) return s;
      if (pending_.empty()) continue;
      if (Status s = conn_->execute("SAVEPOINT ferry_page"); !s.ok()) return s;
      if (Status s = apply(0, pending_.size()); !s.ok()) {
        if (s.retriable()) return s;
        // A row the database refuses: this page again, row by row.
        if (Status x = conn_->execute("ROLLBACK TO SAVEPOINT ferry_page"); !x.ok()) return x;
        if (Status x = apply_one_by_one(); !x.ok()) return x;
      }
      if (Status s = conn_->execute("RELEASE SAVEPOINT ferry_page"); !s.ok()) return s;
    }
    if (Status s = conn_->execute("DELETE FROM " + staging_quoted_ + " WHERE span = ?", {{span}});
        !s.ok())
      return s;
    return conn_->commit();
  }

  // The next page of a span's staged records after (seq, sub) into `pending_`.
  Status load_staged_page(const std::string& span, std::string& after_seq, std::string& after_sub,
                          bool& more) {
    constexpr int kPage = 5000;
    Statement st(*conn_);
    if (Status s = st.execute(
            {{span}, {after_seq, SQL_BIGINT}, {after_seq, SQL_BIGINT}, {after_sub, SQL_BIGINT}},
            "SELECT seq, sub, topic, rkey, rvalue FROM " + staging_quoted_ +
                " WHERE span = ? AND (seq > ? OR (seq = ? AND sub > ?)) "
                "ORDER BY seq, sub LIMIT " +
                std::to_string(kPage));
        !s.ok())
      return s;
    int rows = 0;
    for (;; ++rows) {
      bool row = false;
      if (Status s = st.fetch(row); !s.ok()) return s;
      if (!row) break;
      Pending p;
      std::optional<std::string> seq, sub, topic;
      if (Status s = st.get(1, seq); !s.ok()) return s;
      if (Status s = st.get(2, sub); !s.ok()) return s;
      if (Status s = st.get(3, topic); !s.ok()) return s;
      if (Status s = st.get(4, p.key); !s.ok()) return s;
      if (Status s = st.get(5, p.value); !s.ok()) return s;
      after_seq = seq.value_or("0");
      after_sub = sub.value_or("0");
      p.topic = topic.value_or("");
      std::string error;
      // Checked when staged; a failure now means the table changed since.
      if (!parse_change(p.key, p.value, key_columns_, p.change, error)) continue;
      if (p.change.kind == Change::Kind::kDelete && !deletes_) continue;
      if (p.change.kind == Change::Kind::kTruncate && !truncates_) continue;  // never staged
      pending_.push_back(std::move(p));
    }
    more = rows == kPage;
    return Status::Ok();
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
  bool truncates_;
  Dialect dialect_ = Dialect::kOther;
  std::unique_ptr<Connection> conn_;
  std::map<std::string, std::unique_ptr<TableWriter>> writers_;
  std::vector<Pending> pending_;
  std::vector<Pending> staged_;  // records of unfinished spans, staged at the next flush
  std::set<std::string, std::less<>> open_spans_;
  struct Follow {
    std::string span;
    uint64_t seq = 0, sub = 0;
  };
  std::map<std::pair<std::string, int32_t>, Follow> follows_;  // last span record per partition
  std::string staging_name_, staging_quoted_;
  std::unique_ptr<TableWriter> staging_;
};

}  // namespace
}  // namespace ferry::odbc

FERRY_PLUGIN(ferry::odbc::OdbcSink, "odbc-sink", "0.1.0",
             "Upserts and deletes by key into database tables over ODBC (Debezium change "
             "events, tombstones or flat JSON)",
             ferry::odbc::kOptions)
