// Decodes the messages of PostgreSQL's built-in logical decoding output plugin,
// pgoutput (protocol version 1), as returned as bytea by
// pg_logical_slot_peek_binary_changes(). Keeps the Relation messages it has seen, since
// row messages refer to their table by relation id only. Pure: no database access.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ferry::odbc::pg {

struct Column {
  bool key = false;  // part of the replica identity (the primary key by default)
  std::string name;
  uint32_t type = 0;  // type OID
  int32_t typmod = -1;
};

struct Relation {
  uint32_t id = 0;
  std::string schema;
  std::string table;
  char replica_identity = 'd';  // d(efault) n(othing) f(ull) i(ndex)
  std::vector<Column> columns;
};

// One column of a row: 'n' NULL, 'u' unchanged TOAST value (not sent), 't' text.
struct Value {
  char kind = 'n';
  std::string_view text;  // points into the decoded message
};
using Tuple = std::vector<Value>;

struct Message {
  char tag = 0;           // B C R I U D T (others are skipped: O Y M)
  uint64_t lsn = 0;       // B: final (commit) LSN; C: commit LSN
  uint64_t end_lsn = 0;   // C: end of the commit record
  int64_t commit_us = 0;  // B, C: commit time, microseconds since 1970
  uint32_t xid = 0;       // B
  uint32_t relation = 0;  // I U D R
  char old_kind = 0;      // U D: 'K' (key columns only), 'O' (whole old row), 0 none
  Tuple old_tuple;
  Tuple new_tuple;
  std::vector<uint32_t> truncated;  // T: relation ids
  uint8_t truncate_options = 0;     // T: 1 cascade, 2 restart identity
};

class Decoder {
 public:
  // Decodes one message into `out` (reusing its buffers). Returns an error text for a
  // malformed message, empty on success. The values in `out` point into `data`.
  std::string decode(std::string_view data, Message& out);

  // The relation a row message refers to; nullptr when no Relation message for it
  // has been seen (which pgoutput guarantees not to happen within a session).
  const Relation* relation(uint32_t id) const;

 private:
  std::unordered_map<uint32_t, Relation> relations_;
};

// "16/B374D848" <-> 0x16B374D848. parse_lsn returns false for malformed text.
std::string format_lsn(uint64_t lsn);
void append_lsn(std::string& out, uint64_t lsn);
bool parse_lsn(std::string_view text, uint64_t& out);

}  // namespace ferry::odbc::pg
