// Which streamed transactions a snapshot already saw, so that the changes of a
// transaction committed between the slot's creation and the snapshot are emitted once
// (by the snapshot) and not a second time from the slot.
//
// The slot SQL functions cannot export a snapshot (only the replication protocol can),
// so the snapshot transaction starts a little after the slot. It records
// pg_current_snapshot() and pg_current_wal_insert_lsn() as its first statement; a
// streamed transaction was in the snapshot iff it commits before that LSN and its xid is
// visible in that snapshot (the rule of pg_visible_in_snapshot()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::odbc {

class SnapshotVisibility {
 public:
  // `snapshot` is pg_snapshot text, "xmin:xmax:xip1,xip2,..."; `until` the WAL insert
  // position read with it. nullopt when the text is not a snapshot.
  static std::optional<SnapshotVisibility> parse(std::string_view snapshot, uint64_t until);

  // Was the transaction `xid`, committing at `commit_lsn`, visible to the snapshot?
  bool saw(uint32_t xid, uint64_t commit_lsn) const;

  uint64_t until() const { return until_; }
  const std::string& text() const { return text_; }  // as parsed, for the source offset

 private:
  uint64_t xmin_ = 0, xmax_ = 0, until_ = 0;
  std::vector<uint64_t> xip_;
  std::string text_;
};

}  // namespace ferry::odbc
