// The position of a logical-decoding stream as ferry stores it in its source offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::odbc {

// Where the stream stands, as stored in the source offset:
//   "lsn=0/16B3748"                       every transaction ending before it is in Kafka
//   "lsn=0/16B3748;txn=0/16B9000;n=42"    ... and the first 42 records of the one
//                                         committing at 0/16B9000
//   "snapshot;lsn=0/16B3748"              a snapshot is under way; the slot was there
//   "lsn=...;vis=740:745:741;until=0/16C0000"
//                                         after a snapshot, until the stream passes
//                                         `until`: what the snapshot saw
//                                         (SnapshotVisibility), not to be emitted again
struct StreamPosition {
  uint64_t lsn = 0;
  uint64_t txn = 0;
  uint64_t n = 0;
  bool snapshot = false;
  std::string vis;  // pg_snapshot text, empty when there is nothing to filter
  uint64_t until = 0;
};
std::string format_position(const StreamPosition& p);
void format_position(const StreamPosition& p, std::string& out);  // reuses `out`
bool parse_position(std::string_view text, StreamPosition& out);

}  // namespace ferry::odbc
