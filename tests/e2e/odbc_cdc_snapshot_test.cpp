// odbc-cdc in logical mode around its snapshot: rows that exist before ferry starts,
// changes committed while the snapshot is taken, and a slot recreated behind ferry's
// back. Real PostgreSQL 15 and Kafka; results read back with kcat.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "support/cdc_events.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/state_files.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;

class OdbcCdcSnapshot : public PostgresTest {};

TEST_F(OdbcCdcSnapshot, TheSnapshotTakenWhileRowsAreWrittenLeavesNoGap) {
  TempDir dir;
  std::string table = unique_sql_name("busy"), s = slot("busy"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
  pg_.sql("INSERT INTO " + table + " SELECT g, 'old' FROM generate_series(1, 20000) g");
  // Commits go on while ferry creates its slot and reads the snapshot.
  Process writer({Postgres::script(), "psql", pg_.dir().string(), "-qAt", "-c",
                  "DO $$ BEGIN FOR g IN 20001..26000 LOOP INSERT INTO " + table +
                      " VALUES (g, 'new'); UPDATE " + table +
                      " SET v = 'touched' WHERE id = g - 20000; COMMIT; END LOOP; END $$"},
                 dir / "writer.log");
  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table));
  ferry.start();
  ASSERT_EQ(writer.wait(120s), 0) << read_file(dir / "writer.log");
  // Every row, and the last state of every row, reaches Kafka: no gaps, and nothing
  // that both the snapshot and the slot hold arrives twice.
  std::string want = pg_.sql("SELECT count(*) FROM " + table + " WHERE v = 'touched'");
  std::map<int, std::string> last;
  ASSERT_TRUE(wait_until(
      [&] {
        last.clear();
        for (const auto& e : events_in(topic, end_offset(topic)))
          if (e.value) last[(*e.key)["id"].get<int>()] = (*e.value)["after"]["v"];
        size_t touched = 0;
        for (const auto& [id, v] : last) touched += v == "touched";
        return last.size() == 26000 && std::to_string(touched) == want;
      },
      180s, 500ms))
      << last.size() << " rows\n"
      << ferry.log();
  EXPECT_EQ(want, "6000");
  // Each change sets a new `v` ('old' -> 'touched', or 'new'): a value twice for one
  // row is one change emitted twice.
  std::map<int, std::vector<std::string>> seen;
  for (const auto& e : events_in(topic, end_offset(topic)))
    if (e.value) seen[(*e.key)["id"].get<int>()].push_back((*e.value)["after"]["v"]);
  size_t repeated = 0;
  for (const auto& [id, vs] : seen)
    repeated += std::set<std::string>(vs.begin(), vs.end()).size() != vs.size();
  EXPECT_EQ(repeated, 0u) << "rows with a change emitted twice";
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// The slot SQL functions cannot export a snapshot, so ferry's snapshot starts a little
// after its slot, and a transaction committed in between is both in the snapshot and in
// the slot. Here that window is made wide on purpose: it must reach Kafka once.
TEST_F(OdbcCdcSnapshot, AChangeCommittedBetweenSlotAndSnapshotIsEmittedOnce) {
  TempDir dir;
  std::string table = unique_sql_name("gap"), s = slot("gap"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY)");
  pg_.sql("INSERT INTO " + table + " VALUES (1)");
  pg_.sql("CREATE PUBLICATION " + s + " FOR TABLE " + table);
  pg_.sql("SELECT pg_create_logical_replication_slot('" + s + "', 'pgoutput')");
  pg_.sql("INSERT INTO " + table + " VALUES (2)");  // in the slot and, later, the snapshot
  pg_.sql("BEGIN; INSERT INTO " + table + " VALUES (3); UPDATE " + table +
          " SET id = 4 WHERE id = 1; COMMIT");

  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table));
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "snapshot done")) << ferry.log();
  // Committed after the snapshot, so in the slot only; every change before it in the
  // slot comes before it in Kafka.
  pg_.sql("INSERT INTO " + table + " VALUES (5)");
  std::vector<Event> events;
  ASSERT_TRUE(wait_until(
      [&] {
        events = events_in(topic, end_offset(topic));
        return !events.empty() && events.back().key && (*events.back().key)["id"] == 5;
      },
      60s))
      << ferry.log();
  std::map<int, std::vector<std::string>> ops;  // id -> ops, in order
  for (const auto& e : events) ops[(*e.key)["id"].get<int>()].push_back(op_of(e));
  std::map<int, std::vector<std::string>> want = {{2, {"r"}}, {3, {"r"}}, {4, {"r"}}, {5, {"c"}}};
  EXPECT_EQ(ops, want) << "the snapshot saw 2, 3 and 4 (1 was already 4); nothing twice";
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// What the snapshot saw is part of the stored position until the stream has read past
// the snapshot's end (`vis=...;until=...`). A kill inside that window must not make the
// restarted stream emit again what the slot and the snapshot both hold. The window is
// the stream's first read of the slot: the backlog is large enough that it takes a while.
TEST_F(OdbcCdcSnapshot, AKillBeforeTheStreamPassesTheSnapshotsEndEmitsNothingTwice) {
  TempDir dir;
  std::string table = unique_sql_name("window"), s = slot("window"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  const int kRows = 50000;
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
  pg_.sql("CREATE PUBLICATION " + s + " FOR TABLE " + table);
  pg_.sql("SELECT pg_create_logical_replication_slot('" + s + "', 'pgoutput')");
  // Committed after the slot and before the snapshot: in both.
  pg_.sql("INSERT INTO " + table + " SELECT g, 'both' FROM generate_series(1, " +
          std::to_string(kRows) + ") g");

  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table));
  ferry.start();
  auto offsets = ferry.state_dir() / "connectors/pg/offsets.json";
  auto stored_is = [&](bool until) {
    std::string o = stored_state_text(offsets);
    return o.find("lsn=") != std::string::npos && o.find("snapshot;") == std::string::npos &&
           (o.find("until=") != std::string::npos) == until;
  };
  ASSERT_TRUE(wait_until([&] { return stored_is(true) || stored_is(false); }, 180s, 5ms))
      << ferry.log();
  ferry.kill9();
  ASSERT_TRUE(stored_is(true))
      << "the kill came too late, the stream had passed the snapshot's end: " << read_file(offsets);

  pg_.sql("INSERT INTO " + table + " VALUES (" + std::to_string(kRows + 1) + ", 'slot only')");
  ferry.start();
  // Reading every event back is slow; wait for the count first.
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) > kRows; }, 180s)) << ferry.log();
  std::map<int, std::vector<std::string>> ops;  // id -> ops, in order
  ASSERT_TRUE(wait_until(
      [&] {
        ops.clear();
        for (const auto& e : events_in(topic, end_offset(topic)))
          ops[(*e.key)["id"].get<int>()].push_back(op_of(e));
        return ops.contains(kRows + 1);
      },
      60s, 2s))
      << ops.size() << " rows\n"
      << ferry.log();
  size_t twice = 0, snapshot_reads = 0;
  for (const auto& [id, o] : ops) {
    twice += o.size() != 1;
    snapshot_reads += o == std::vector<std::string>{"r"};
  }
  EXPECT_EQ(ops.size(), static_cast<size_t>(kRows + 1));
  EXPECT_EQ(twice, 0u) << "rows emitted more than once";
  EXPECT_EQ(snapshot_reads, static_cast<size_t>(kRows));
  EXPECT_EQ(ops[kRows + 1], std::vector<std::string>{"c"});
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcCdcSnapshot, RecreatedSlotIsRefusedUntilResnapshotIsAskedFor) {
  TempDir dir;
  std::string table = unique_sql_name("lost"), s = slot("lost"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY)");
  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table));
  ferry.start();
  pg_.sql("INSERT INTO " + table + " VALUES (1)");
  ASSERT_EQ(wait_for_events(topic, 1, ferry).size(), 1u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // Someone drops and recreates the slot while ferry is down: row 2 is in no slot.
  pg_.sql("SELECT pg_drop_replication_slot('" + s + "')");
  pg_.sql("INSERT INTO " + table + " VALUES (2)");
  pg_.sql("SELECT pg_create_logical_replication_slot('" + s + "', 'pgoutput')");
  pg_.sql("INSERT INTO " + table + " VALUES (3)");
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "Set resnapshot = true")) << ferry.log();
  EXPECT_NE(ferry.log().find("the slot was recreated"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(end_offset(topic), 1);  // nothing was emitted from the new slot

  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "resnapshot = true\n", table));
  ferry.start();
  // The new snapshot has rows 1-3; the new slot has 3 (a duplicate, which is allowed)
  // and then 4.
  std::set<int> snap, streamed;
  auto read = [&] {
    snap.clear();
    streamed.clear();
    auto events = events_in(topic, end_offset(topic));
    for (size_t i = 1; i < events.size(); ++i)
      (op_of(events[i]) == "r" ? snap : streamed).insert((*events[i].key)["id"].get<int>());
  };
  ASSERT_TRUE(wait_until([&] { return read(), snap.size() == 3; }, 60s)) << ferry.log();
  pg_.sql("INSERT INTO " + table + " VALUES (4)");
  ASSERT_TRUE(wait_until([&] { return read(), streamed.contains(4); }, 60s)) << ferry.log();
  EXPECT_EQ(snap, (std::set<int>{1, 2, 3}));
  streamed.erase(3);
  EXPECT_EQ(streamed, (std::set<int>{4}));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace
}  // namespace ferry::test
