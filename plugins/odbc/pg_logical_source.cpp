#include "pg_logical_source.hpp"

#include <algorithm>
#include <cctype>

#include "debezium_envelope.hpp"
#include "identifiers.hpp"
#include "pg_value_json.hpp"

namespace ferry::odbc {

namespace {

// Settings every session needs for values to come out in one predictable text form,
// whatever the server's or the role's defaults.
constexpr const char* kSessionSetup =
    "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'";

std::string default_name(std::string_view connector) {
  std::string s = "ferry_";
  for (char c : connector)
    s.push_back(std::isalnum(static_cast<unsigned char>(c))
                    ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                    : '_');
  return s.substr(0, 63);
}

}  // namespace

PgLogicalSource::PgLogicalSource(const Host& host, const Config& cfg)
    : host_(host),
      cfg_(cfg),
      slot_(cfg.str("slot").empty() ? default_name(host.connector()) : cfg.str("slot")),
      publication_(cfg.str("publication").empty() ? default_name(host.connector())
                                                  : cfg.str("publication")),
      partition_("slot/" + slot_),
      topic_template_(cfg.has("connector.topic") ? cfg.str("connector.topic") : "{schema}.{table}"),
      connection_(cfg.str("connection")),
      poll_interval_(cfg.duration("poll_interval")),
      spans_(cfg.boolean("span.enabled")),
      connect_json_(cfg.boolean("json_schemas")) {}

PgLogicalSource::~PgLogicalSource() {
  drop_connections();
}

void PgLogicalSource::drop_connections() {
  prefetch_.reset();  // first: it reads through cursor_
  chunk_.clear();
  chunk_pos_ = 0;
  cursor_.reset();
  snapshot_.reset();
  stream_.reset();
  control_.reset();
}

Status PgLogicalSource::connect(Connection& c, bool streaming) {
  std::string conn = connection_;
  // psqlODBC reads a whole result set into memory unless told to use a cursor.
  if (streaming) conn += ";UseDeclareFetch=1;Fetch=" + std::to_string(cfg_.integer("fetch_size"));
  if (Status s = c.connect(conn); !s.ok()) return s;
  return c.execute(kSessionSetup);
}

Status PgLogicalSource::start() {
  env_ = shared_environment();
  control_ = std::make_unique<Connection>(env_);
  if (Status s = connect(*control_, false); !s.ok()) return s;
  if (std::string dbms = control_->dbms_name(); dbms != "PostgreSQL")
    return Status::Config("mode = \"logical\" needs PostgreSQL; this connection is to " + dbms +
                          " (use mode = \"query\")");
  if (Status s = check_server(); !s.ok()) return s;
  if (Status s = setup_publication(); !s.ok()) return s;

  std::optional<StreamPosition> stored;
  std::string bad_offset;
  host_.committed_offsets([&](std::string_view partition, std::string_view offset) {
    if (partition != partition_) return;
    StreamPosition p;
    if (parse_position(offset, p))
      stored = p;
    else
      bad_offset = offset;
  });
  if (!bad_offset.empty())
    return Status::Fatal("stored offset \"" + bad_offset + "\" of " + partition_ +
                         " is not a position ferry wrote; remove the connector's offsets to "
                         "start over");
  if (Status s = setup_slot(stored); !s.ok()) return s;
  if (Status s = load_tables(); !s.ok()) return s;
  return Status::Ok();
}

Status PgLogicalSource::check_server() {
  std::optional<std::string> v;
  if (Status s = control_->query_value("SHOW wal_level", v); !s.ok()) return s;
  if (v.value_or("") != "logical")
    return Status::Config("PostgreSQL runs with wal_level = " + v.value_or("?") +
                          "; logical decoding needs wal_level = logical in postgresql.conf "
                          "(and a server restart)");
  if (Status s = control_->query_value(
          "SELECT (rolsuper OR rolreplication)::text FROM pg_roles WHERE rolname = current_user",
          v);
      !s.ok())
    return s;
  if (v.value_or("") != "true")
    return Status::Config(
        "the database user may not use replication slots; grant it with ALTER ROLE <user> "
        "REPLICATION (and SELECT on the captured tables)");
  if (Status s = control_->query_value("SELECT current_database()", v); !s.ok()) return s;
  db_ = v.value_or("");
  return Status::Ok();
}

Status PgLogicalSource::setup_publication() {
  std::optional<std::string> v;
  if (Status s = control_->query_value("SELECT pubname FROM pg_publication WHERE pubname = ?", v,
                                       {{publication_}});
      !s.ok())
    return s;
  if (v) return Status::Ok();
  if (!cfg_.boolean("create_publication"))
    return Status::Config("publication \"" + publication_ +
                          "\" does not exist; create it (CREATE PUBLICATION ... FOR TABLE ...) "
                          "or set create_publication = true");
  std::string sql = "CREATE PUBLICATION " + quote_identifier(publication_, "\"");
  const auto& tables = cfg_.list("tables");
  if (tables.empty()) {
    sql += " FOR ALL TABLES";
  } else {
    sql += " FOR TABLE ";
    for (size_t i = 0; i < tables.size(); ++i) {
      if (i) sql += ", ";
      sql += quote_qualified(tables[i], "\"");
    }
  }
  if (Status s = control_->execute(sql); !s.ok()) return s;
  host_.info("created publication " + publication_);
  return Status::Ok();
}

Status PgLogicalSource::setup_slot(const std::optional<StreamPosition>& stored) {
  std::vector<Connection::Row> rows;
  if (Status s = control_->query_rows(
          "SELECT plugin, confirmed_flush_lsn::text, database FROM pg_replication_slots "
          "WHERE slot_name = ?",
          rows, {{slot_}});
      !s.ok())
    return s;
  bool exists = !rows.empty();
  if (exists) {
    if (rows[0][0].value_or("") != "pgoutput")
      return Status::Config("replication slot \"" + slot_ + "\" uses output plugin " +
                            rows[0][0].value_or("?") + "; ferry needs a pgoutput slot");
    if (rows[0][2].value_or("") != db_)
      return Status::Config("replication slot \"" + slot_ + "\" belongs to database " +
                            rows[0][2].value_or("?") + ", not " + db_);
    if (!pg::parse_lsn(rows[0][1].value_or(""), confirmed_))
      return Status::Fatal("cannot read the confirmed position of slot " + slot_);
  }

  const bool resnapshot = cfg_.boolean("resnapshot");
  bool lost = false;
  std::string why;
  if (stored && !exists) {
    lost = true;
    why = "replication slot \"" + slot_ + "\" no longer exists, but ferry had read it up to " +
          pg::format_lsn(stored->lsn);
  } else if (stored && confirmed_ > stored->lsn) {
    lost = true;
    why = "replication slot \"" + slot_ + "\" starts at " + pg::format_lsn(confirmed_) +
          ", after ferry's stored position " + pg::format_lsn(stored->lsn) +
          ": the slot was recreated or advanced by someone else, and the changes in between "
          "are lost";
  }
  if (lost && !resnapshot)
    return Status::Config(why + ". Set resnapshot = true to take a new snapshot and go on.");
  if (lost) host_.warn(why + "; taking a new snapshot (resnapshot = true)");

  if (!exists) {
    if (!cfg_.boolean("create_slot"))
      return Status::Config("replication slot \"" + slot_ +
                            "\" does not exist; create it with "
                            "pg_create_logical_replication_slot('" +
                            slot_ + "', 'pgoutput') or set create_slot = true");
    std::optional<std::string> lsn;
    if (Status s = control_->query_value(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')", lsn,
            {{slot_}});
        !s.ok())
      return s;
    if (!lsn || !pg::parse_lsn(*lsn, confirmed_))
      return Status::Fatal("pg_create_logical_replication_slot returned no position");
    host_.info("created replication slot " + slot_ + " at " + *lsn);
  }

  bool snapshot = false;
  if (lost || (!stored && cfg_.str("snapshot") == "initial") || (stored && stored->snapshot))
    snapshot = true;
  if (snapshot) {
    phase_ = Phase::kSnapshot;
    // The snapshot transaction starts after the slot exists, so every change it misses
    // is in the slot; what both have is skipped in the stream (seen_).
    snapshot_lsn_ = confirmed_;
    emitted_upto_ = confirmed_;
  } else {
    phase_ = Phase::kStream;
    emitted_upto_ = stored ? stored->lsn : confirmed_;
    if (stored && !stored->vis.empty())
      seen_ = SnapshotVisibility::parse(stored->vis, stored->until);
    if (stored && stored->txn != 0) {
      resume_txn_ = stored->txn;
      resume_n_ = stored->n;
    }
  }
  host_.info(std::string(snapshot ? "snapshot, then streaming" : "streaming") + " from slot " +
             slot_ + " at " + pg::format_lsn(emitted_upto_) + " (publication " + publication_ +
             ")");
  return Status::Ok();
}

bool PgLogicalSource::wanted(std::string_view schema, std::string_view table) const {
  const auto& tables = cfg_.list("tables");
  if (tables.empty()) return true;
  for (const auto& t : tables) {
    auto [s, n] = split_qualified(t, "public");
    if (s == schema && n == table) return true;
  }
  return false;
}

Status PgLogicalSource::load_tables() {
  if (phase_ != Phase::kSnapshot) return Status::Ok();
  std::vector<Connection::Row> rows;
  if (Status s = control_->query_rows(
          "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ? "
          "ORDER BY 1, 2",
          rows, {{publication_}});
      !s.ok())
    return s;
  snapshot_tables_.clear();
  for (auto& r : rows)
    if (wanted(r[0].value_or(""), r[1].value_or("")))
      snapshot_tables_.emplace_back(r[0].value_or(""), r[1].value_or(""));
  for (const auto& t : cfg_.list("tables")) {
    // A pair, not a structured binding: clang 14 (the fuzz build) cannot capture those.
    const auto wanted_table = split_qualified(t, "public");
    bool found = std::find(snapshot_tables_.begin(), snapshot_tables_.end(), wanted_table) !=
                 snapshot_tables_.end();
    if (!found)
      return Status::Config("table " + t + " is not in publication " + publication_ +
                            " (or does not exist)");
  }
  return Status::Ok();
}

const std::string& PgLogicalSource::topic_for(std::string_view schema, std::string_view table,
                                              bool keyed, Status& st) {
  std::string name = std::string(schema) + "." + std::string(table);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_
             .emplace(name,
                      expand_template(topic_template_, {{"{schema}", schema}, {"{table}", table}}))
             .first;
  }
  if (!ensured_.contains(it->second)) {
    // Compaction keeps the latest row per key; a table without a key cannot be
    // compacted (Kafka refuses keyless records on a compacted topic).
    Host::Attrs cfg;
    if (keyed) cfg.emplace_back("cleanup.policy", "compact");
    st = host_.ensure_topic(it->second, cfg);
    if (st.ok()) ensured_.insert(it->second);
  }
  return it->second;
}

const PgLogicalSource::RelationInfo& PgLogicalSource::info(const pg::Relation& rel, Status& st) {
  auto it = relation_info_.find(&rel);
  if (it != relation_info_.end() && it->second.topic != nullptr) return it->second;
  RelationInfo& ri = relation_info_[&rel];
  ri.wanted = wanted(rel.schema, rel.table);
  ri.keyed = std::any_of(rel.columns.begin(), rel.columns.end(),
                         [](const pg::Column& c) { return c.key; });
  if (ri.wanted) {
    const std::string& topic = topic_for(rel.schema, rel.table, ri.keyed, st);
    if (st.ok()) ri.topic = &topic;
    if (st.ok() && connect_json_) {
      ri.key_prefix = "{\"schema\":";
      append_key_schema(ri.key_prefix, rel, topic);
      ri.key_prefix += ",\"payload\":";
      pg::Relation none;
      ri.empty_key = "{\"schema\":";
      append_key_schema(ri.empty_key, none, topic);
      ri.empty_key += ",\"payload\":{}}";
      ri.value_prefix = "{\"schema\":";
      append_envelope_schema(ri.value_prefix, rel, topic);
      ri.value_prefix += ",\"payload\":";
    }
  } else {
    static const std::string kNone;
    ri.topic = &kNone;
  }
  return ri;
}

Status PgLogicalSource::poll(uint32_t max_records) {
  if (stopping_) return Status::Ok();
  if (!control_) {
    control_ = std::make_unique<Connection>(env_);
    if (Status s = connect(*control_, false); !s.ok()) {
      control_.reset();
      return s;
    }
  }
  if (Status s = advance_slot(); !s.ok()) {
    drop_connections();
    return s;
  }
  report_lag();
  uint32_t emitted = 0;
  Status s = phase_ == Phase::kSnapshot ? snapshot_step(max_records, emitted)
                                        : stream_step(max_records, emitted);
  if (!s.ok()) {
    // Resume where the records handed to the host end: the next read starts over from
    // the slot and skips what was already emitted.
    if (in_txn_ && !txn_.skipping) {
      resume_txn_ = txn_.final_lsn;
      resume_n_ = txn_.n;
    }
    in_txn_ = false;
    if (phase_ == Phase::kSnapshot) {
      snapshot_table_open_ = false;
      snapshot_index_ = 0;  // a new snapshot transaction: start the tables over
    }
    drop_connections();
  }
  return s;
}

// ---- snapshot ----

Status PgLogicalSource::snapshot_step(uint32_t max_records, uint32_t& emitted) {
  if (!snapshot_) {
    snapshot_ = std::make_unique<Connection>(env_);
    if (Status s = connect(*snapshot_, true); !s.ok()) return s;
    if (Status s = snapshot_->set_autocommit(false); !s.ok()) return s;
    if (Status s = snapshot_->execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        !s.ok())
      return s;
    // The transaction's first statement fixes its snapshot; the insert position read
    // with it is past the commit of every transaction the snapshot can see.
    std::vector<Connection::Row> rows;
    if (Status s = snapshot_->query_rows(
            "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text", rows);
        !s.ok())
      return s;
    uint64_t until = 0;
    if (rows.empty() || !pg::parse_lsn(rows[0][1].value_or(""), until) ||
        !(seen_ = SnapshotVisibility::parse(rows[0][0].value_or(""), until)))
      return Status::Fatal("cannot read the snapshot's visibility (pg_current_snapshot)");
    snapshot_index_ = 0;
    host_.info("snapshot of " + std::to_string(snapshot_tables_.size()) + " table(s) begins");
  }
  StreamPosition pos;
  pos.lsn = snapshot_lsn_;
  pos.snapshot = true;
  position_text_ = format_position(pos);
  while (emitted < max_records && !stopping_) {
    if (!snapshot_table_open_) {
      if (snapshot_index_ >= snapshot_tables_.size()) {
        (void)snapshot_->commit();
        snapshot_.reset();
        cursor_.reset();
        phase_ = Phase::kStream;
        host_.info("snapshot done; streaming from " + pg::format_lsn(snapshot_lsn_));
        return emit_position(snapshot_lsn_);
      }
      const auto& [schema, table] = snapshot_tables_[snapshot_index_];
      std::vector<Connection::Row> cols;
      if (Status s = snapshot_->query_rows(
              "SELECT a.attname, a.atttypid::int8::text, "
              "COALESCE(a.attnum = ANY(i.indkey), false)::text "
              "FROM pg_attribute a LEFT JOIN pg_index i "
              "ON i.indrelid = a.attrelid AND i.indisprimary "
              "WHERE a.attrelid = (quote_ident(?) || '.' || quote_ident(?))::regclass "
              "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
              cols, {{schema}, {table}});
          !s.ok())
        return s;
      snapshot_rel_ = pg::Relation{};
      relation_info_.clear();  // same object, another table
      snapshot_rel_.schema = schema;
      snapshot_rel_.table = table;
      std::string select = "SELECT ";
      for (size_t i = 0; i < cols.size(); ++i) {
        pg::Column c;
        c.name = cols[i][0].value_or("");
        c.type = static_cast<uint32_t>(std::stoul(cols[i][1].value_or("0")));
        c.key = cols[i][2].value_or("") == "true";
        // The text pgoutput sends is the type's output function; a cast to text is the
        // same except that it trims char(n)'s padding.
        select += (i ? ", " : "") + quote_identifier(c.name, "\"") +
                  (c.type == pg::oid::kBpchar ? "" : "::text");
        snapshot_rel_.columns.push_back(std::move(c));
      }
      select += " FROM " + quote_identifier(schema, "\"") + "." + quote_identifier(table, "\"");
      cursor_ = std::make_unique<Statement>(*snapshot_);
      if (Status s = cursor_->execute({}, select); !s.ok()) return s;
      snapshot_table_open_ = true;
      snapshot_span_ = "snapshot:" + schema + "." + table;
      if (spans_)
        if (Status s = host_.span_open(snapshot_span_,
                                       {{"table", schema + "." + table}, {"snapshot", "true"}});
            !s.ok())
          return s;
    }
    const pg::Relation& rel = snapshot_rel_;
    std::vector<std::optional<std::string>> values(rel.columns.size());
    pg::Tuple tuple(rel.columns.size());
    while (emitted < max_records) {
      bool row = false;
      if (Status s = cursor_->fetch(row); !s.ok()) return s;
      if (!row) {
        cursor_.reset();
        snapshot_table_open_ = false;
        if (spans_)
          if (Status s = host_.span_close(snapshot_span_); !s.ok()) return s;
        ++snapshot_index_;
        break;
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (Status s = cursor_->get(static_cast<SQLUSMALLINT>(i + 1), values[i]); !s.ok()) return s;
        tuple[i] = values[i] ? pg::Value{'t', *values[i]} : pg::Value{'n', {}};
      }
      txn_ = Txn{};
      txn_.commit_ms = now_ms();
      txn_.span = snapshot_span_;
      txn_.final_lsn = snapshot_lsn_;
      if (Status s = emit_change('r', rel, nullptr, &tuple, emitted); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

void PgLogicalSource::committed(std::string_view partition, std::string_view offset) {
  if (partition != partition_) return;
  StreamPosition p;
  if (!parse_position(offset, p) || p.snapshot) return;
  advance_to_ = std::max(advance_to_, p.lsn);
}

Status PgLogicalSource::advance_slot() {
  if (advance_to_ <= confirmed_) return Status::Ok();
  std::optional<std::string> v;
  if (Status s = control_->query_value(
          "SELECT end_lsn::text FROM pg_replication_slot_advance(?, ?::pg_lsn)", v,
          {{slot_}, {pg::format_lsn(advance_to_)}});
      !s.ok())
    return s;
  confirmed_ = advance_to_;
  host_.debug("advanced slot " + slot_ + " to " + pg::format_lsn(confirmed_));
  return Status::Ok();
}

void PgLogicalSource::report_lag() {
  auto now = Clock::now();
  if (now < next_lag_) return;
  next_lag_ = now + std::chrono::seconds(5);
  std::optional<std::string> v;
  if (control_
          ->query_value("SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), "
                        "confirmed_flush_lsn)::bigint::text FROM pg_replication_slots "
                        "WHERE slot_name = ?",
                        v, {{slot_}})
          .ok() &&
      v)
    host_.gauge("slot_lag_bytes", std::strtod(v->c_str(), nullptr));
}

}  // namespace ferry::odbc
