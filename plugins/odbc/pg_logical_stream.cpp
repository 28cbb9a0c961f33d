// PgLogicalSource, streaming: reading the slot with peek, decoding pgoutput, and
// turning each change into records (setup, snapshot and slot upkeep are in
// pg_logical_source.cpp).
#include <algorithm>

#include "debezium_envelope.hpp"
#include "pg_logical_source.hpp"

namespace ferry::odbc {

int64_t PgLogicalSource::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status PgLogicalSource::open_peek() {
  std::optional<std::string> flush;
  if (Status s = control_->query_value("SELECT pg_current_wal_flush_lsn()::text", flush); !s.ok())
    return s;
  uint64_t upto = 0;
  if (!flush || !pg::parse_lsn(*flush, upto))
    return Status::Fatal("cannot read pg_current_wal_flush_lsn()");
  if (upto <= emitted_upto_) return Status::Ok();  // nothing was written since
  if (!stream_) {
    stream_ = std::make_unique<Connection>(env_);
    if (Status s = connect(*stream_, true); !s.ok()) {
      stream_.reset();
      return s;
    }
  }
  cursor_ = std::make_unique<Statement>(*stream_);
  // Decoding reads the WAL up to upto: every transaction that committed before it
  // is in this result, so afterwards the position may move to upto.
  if (Status s = cursor_->execute(
          {{slot_}, {pg::format_lsn(upto)}, {publication_}},
          "SELECT data FROM pg_logical_slot_peek_binary_changes(?, ?::pg_lsn, NULL, "
          "'proto_version', '1', 'publication_names', ?)");
      !s.ok()) {
    cursor_.reset();
    return s;
  }
  peek_upto_ = upto;
  peek_returned_rows_ = false;
  last_peek_ = Clock::now();
  return Status::Ok();
}

Status PgLogicalSource::stream_step(uint32_t max_records, uint32_t& emitted) {
  if (!cursor_) {
    auto now = Clock::now();
    // A new peek decodes from the slot's position again. Wait until the previous
    // peek's records are acknowledged and the slot moved past them (so nothing is
    // decoded twice), or for poll_interval when there is little traffic.
    bool caught_up = confirmed_ >= peek_upto_;
    if (!caught_up && now - last_peek_ < std::max(poll_interval_, std::chrono::milliseconds(5000)))
      return Status::Ok();
    if (caught_up && now - last_peek_ < poll_interval_ && !peek_returned_rows_) return Status::Ok();
    if (Status s = open_peek(); !s.ok()) return s;
    if (!cursor_) {
      last_peek_ = now;
      return Status::Ok();
    }
  }
  if (!prefetch_) prefetch_ = std::make_unique<RowPrefetcher>(*cursor_);
  while (emitted < max_records && !stopping_) {
    if (chunk_pos_ >= chunk_.size()) {
      Status error;
      chunk_pos_ = 0;
      chunk_.clear();
      auto took = prefetch_->take(chunk_, std::chrono::milliseconds(20), error);
      if (took == RowPrefetcher::Take::kNotYet) return Status::Ok();
      if (took == RowPrefetcher::Take::kRows) continue;
      if (!error.ok()) return error;
      prefetch_.reset();
      cursor_.reset();
      stream_->disconnect();  // ends psqlODBC's cursor transaction
      stream_.reset();
      in_txn_ = false;
      // Everything that committed before peek_upto_ has been emitted: the position
      // (and, once stored, the slot) moves there even when no published table
      // changed, so an idle capture never pins the server's WAL.
      if (peek_upto_ > emitted_upto_) return emit_position(peek_upto_);
      return Status::Ok();
    }
    peek_returned_rows_ = true;
    if (Status s = handle(chunk_[chunk_pos_++], emitted); !s.ok()) return s;
  }
  return Status::Ok();
}

Status PgLogicalSource::handle(std::string_view data, uint32_t& emitted) {
  if (std::string err = decoder_.decode(data, msg_); !err.empty())
    return Status::Fatal("cannot decode a change from slot " + slot_ + ": " + err);
  switch (msg_.tag) {
    case 'B': {
      in_txn_ = true;
      txn_ = Txn{};
      txn_.final_lsn = msg_.lsn;
      txn_.xid = msg_.xid;
      txn_.commit_ms = msg_.commit_us / 1000;
      txn_.skipping = msg_.lsn < emitted_upto_ || (seen_ && seen_->saw(msg_.xid, msg_.lsn));
      if (txn_.skipping) return Status::Ok();
      if (msg_.lsn == resume_txn_) txn_.skip = resume_n_;
      if (spans_) {
        txn_.span = slot_ + ":" + pg::format_lsn(msg_.lsn);
        std::string xid = std::to_string(msg_.xid), lsn = pg::format_lsn(msg_.lsn);
        return host_.span_open(txn_.span, {{"xid", xid}, {"lsn", lsn}});
      }
      return Status::Ok();
    }
    case 'C': {
      if (!in_txn_ || txn_.skipping) {
        in_txn_ = false;
        return Status::Ok();
      }
      in_txn_ = false;
      resume_txn_ = resume_n_ = 0;
      if (spans_)
        if (Status s = host_.span_close(txn_.span); !s.ok()) return s;
      return emit_position(msg_.end_lsn);
    }
    case 'I':
    case 'U':
    case 'D': {
      if (!in_txn_ || txn_.skipping) return Status::Ok();
      const pg::Relation* rel = decoder_.relation(msg_.relation);
      Status st;
      if (!info(*rel, st).wanted) return st;
      if (msg_.tag == 'I') return emit_change('c', *rel, nullptr, &msg_.new_tuple, emitted);
      if (msg_.tag == 'D') return emit_change('d', *rel, &msg_.old_tuple, nullptr, emitted);
      // An update that changes the key is, for a keyed topic, the old key's delete
      // (and tombstone) and the new key's create, as Debezium emits it.
      if (msg_.old_kind == 'K') {
        if (Status s = emit_change('d', *rel, &msg_.old_tuple, nullptr, emitted); !s.ok()) return s;
        return emit_change('c', *rel, nullptr, &msg_.new_tuple, emitted);
      }
      return emit_change('u', *rel, msg_.old_kind == 'O' ? &msg_.old_tuple : nullptr,
                         &msg_.new_tuple, emitted);
    }
    case 'T': {
      if (!in_txn_ || txn_.skipping) return Status::Ok();
      for (uint32_t id : msg_.truncated) {
        const pg::Relation* rel = decoder_.relation(id);
        Status st;
        if (rel == nullptr || !info(*rel, st).wanted) {
          if (!st.ok()) return st;
          continue;
        }
        if (Status s = emit_change('t', *rel, nullptr, nullptr, emitted); !s.ok()) return s;
      }
      return Status::Ok();
    }
    case 'R':
      relation_info_.clear();  // kept by the decoder; what we derived from it is stale
      return Status::Ok();
    default:
      return Status::Ok();  // O Y M carry nothing to emit
  }
}

Status PgLogicalSource::emit_change(char op, const pg::Relation& rel, const pg::Tuple* before,
                                    const pg::Tuple* after, uint32_t& emitted) {
  Status st;
  const RelationInfo& ri = info(rel, st);
  if (!st.ok()) return st;
  const std::string& topic = *ri.topic;
  // Kafka Connect's JSON form: {"schema": <cached per relation>, "payload": <as below>}.
  key_buf_ = connect_json_ ? ri.key_prefix : std::string_view{};
  const pg::Tuple* keyed_row = after != nullptr ? after : before;
  bool has_key = false;
  if (op == 't') {
    // Compacted topics refuse keyless records; a truncate has no row.
    key_buf_ = connect_json_ ? ri.empty_key : "{}";
    has_key = true;
  } else if (keyed_row != nullptr) {
    has_key = append_key(key_buf_, rel, *keyed_row, connect_json_);
    if (connect_json_) key_buf_.push_back('}');
  }

  EventSource src;
  src.name = host_.connector();
  src.db = db_;
  src.schema = rel.schema;
  src.table = rel.table;
  src.snapshot = op == 'r' ? "true" : "false";
  src.xid = txn_.xid;
  src.lsn = txn_.final_lsn;
  src.ts_ms = txn_.commit_ms;
  value_buf_ = connect_json_ ? ri.value_prefix : std::string_view{};
  // A key-only old row (REPLICA IDENTITY DEFAULT) has only its key columns; the others
  // are NULL in `before`, as in Debezium.
  append_envelope(value_buf_, op, &rel, before, after, src, now_ms(), connect_json_);
  if (connect_json_) value_buf_.push_back('}');
  if (Status s = emit_record(topic, has_key ? &key_buf_ : nullptr, &value_buf_, true, emitted);
      !s.ok())
    return s;
  if (op == 'd' && has_key)  // the tombstone lets compaction forget the row
    return emit_record(topic, &key_buf_, nullptr, false, emitted);
  return Status::Ok();
}

Status PgLogicalSource::emit_record(const std::string& topic, const std::string* key,
                                    const std::string* value, bool in_span, uint32_t& emitted) {
  ++txn_.n;
  if (txn_.n <= txn_.skip) return Status::Ok();  // delivered before a restart
  SourceRecord r;
  if (key) r.key = *key;
  if (value) r.value = *value;
  r.topic = topic.c_str();
  r.timestamp_ms = txn_.commit_ms;
  r.source_partition = partition_;
  if (phase_ == Phase::kStream) {
    format_position(stream_position(emitted_upto_, txn_.final_lsn, txn_.n), position_text_);
  }
  r.source_offset = position_text_;
  if (spans_ && in_span) r.span = txn_.span;
  ++emitted;
  return host_.emit(r);
}

StreamPosition PgLogicalSource::stream_position(uint64_t lsn, uint64_t txn, uint64_t n) const {
  StreamPosition p;
  p.lsn = lsn;
  p.txn = txn;
  p.n = n;
  if (seen_ && lsn < seen_->until()) {
    p.vis = seen_->text();
    p.until = seen_->until();
  }
  return p;
}

Status PgLogicalSource::emit_position(uint64_t lsn) {
  emitted_upto_ = lsn;
  position_text_ = format_position(stream_position(lsn, 0, 0));
  if (seen_ && lsn >= seen_->until()) seen_.reset();  // past all the snapshot could see
  SourceRecord r;
  r.offset_only = true;
  r.source_partition = partition_;
  r.source_offset = position_text_;
  return host_.emit(r);
}

}  // namespace ferry::odbc
