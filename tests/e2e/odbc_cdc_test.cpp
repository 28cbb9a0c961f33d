// odbc-cdc in logical mode end to end: a real PostgreSQL 15 (scripts/postgres.sh)
// through psqlODBC, the real Kafka broker, results read back with kcat and checked
// against what psql wrote.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <set>

#include "support/cdc_events.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/rest_client.hpp"
#include "support/span_events.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class OdbcCdc : public PostgresTest {};

TEST_F(OdbcCdc, SnapshotThenInsertsUpdatesDeletesWithOneSpanPerTransaction) {
  TempDir dir;
  std::string table = unique_sql_name("mix"), s = slot("mix"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table, span_topic = unique_topic("cdc-spans");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, name text)");
  pg_.sql("INSERT INTO " + table + " VALUES (1, 'one'), (2, 'two'), (3, 'three')");

  FerryInstance ferry(dir, "[spans]\ntopic = \"" + span_topic + "\"\n");
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table) + "[span]\nenabled = true\n");
  ferry.start();
  auto events = wait_for_events(topic, 3, ferry);
  ASSERT_EQ(events.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(op_of(events[i]), "r");
    EXPECT_EQ((*events[i].key)["id"], i + 1);
    EXPECT_EQ((*events[i].value)["source"]["snapshot"], "true");
  }
  EXPECT_EQ((*events[0].value)["after"]["name"], "one");

  // One transaction with four changes; a key change (delete + create); a lone insert.
  pg_.sql("BEGIN; INSERT INTO " + table + " VALUES (4, 'four'), (5, 'five'); UPDATE " + table +
          " SET name = 'uno' WHERE id = 1; DELETE FROM " + table + " WHERE id = 2; COMMIT;");
  pg_.sql("UPDATE " + table + " SET id = 30 WHERE id = 3");
  pg_.sql("INSERT INTO " + table + " VALUES (6, 'six')");

  // 3 snapshot + (4 + tombstone) + (delete + tombstone + create) + 1
  events = wait_for_events(topic, 12, ferry);
  ASSERT_EQ(events.size(), 12u);
  std::vector<std::string> ops;
  std::vector<int> keys;
  for (const auto& e : events) {
    ops.push_back(op_of(e));
    keys.push_back((*e.key)["id"].get<int>());
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"r", "r", "r", "c", "c", "u", "d", "tombstone", "d",
                                           "tombstone", "c", "c"}));
  EXPECT_EQ(keys, (std::vector<int>{1, 2, 3, 4, 5, 1, 2, 2, 3, 3, 30, 6}));
  const json& update = *events[5].value;
  EXPECT_EQ(update["after"], json({{"id", 1}, {"name", "uno"}}));
  EXPECT_TRUE(update["before"].is_null());  // REPLICA IDENTITY DEFAULT sends no old row
  const json& del = *events[6].value;
  EXPECT_EQ(del["before"]["id"], 2);
  EXPECT_TRUE(del["after"].is_null());
  EXPECT_EQ(del["source"]["table"], table);
  EXPECT_EQ(del["source"]["schema"], "public");
  EXPECT_TRUE(del["source"]["txId"].is_number());
  EXPECT_TRUE(del["source"]["lsn"].is_number());
  // The four changes of the first transaction share one span and one txId.
  for (int i = 4; i <= 6; ++i) {
    EXPECT_EQ(events[i].span, events[3].span);
    EXPECT_EQ((*events[i].value)["source"]["txId"], (*events[3].value)["source"]["txId"]);
  }
  EXPECT_NE(events[8].span, events[3].span);
  EXPECT_TRUE(events[7].span.empty());  // tombstones are not change events

  // span.closed counts the change events of each transaction.
  std::vector<json> spans;
  ASSERT_TRUE(wait_until(
      [&] {
        spans = span_events(span_topic);
        return of_type(spans, "span.delivered").size() >= 4;
      },
      60s))
      << ferry.log();
  std::map<std::string, int64_t> closed;
  for (const auto& e : of_type(spans, "span.closed")) closed[e["span"]] = e["count"];
  EXPECT_EQ(closed[events[0].span], 3);  // the snapshot of the table
  EXPECT_EQ(closed[events[3].span], 4);
  EXPECT_EQ(closed[events[8].span], 2);
  EXPECT_EQ(closed[events[11].span], 1);
  auto opened = of_type(spans, "span.opened", events[3].span);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]["attrs"]["xid"],
            std::to_string((*events[3].value)["source"]["txId"].get<int64_t>()));

  // The table's topic was created compacted, so it keeps the latest row per key.
  EXPECT_EQ(topic_config(topic, "cleanup.policy"), "compact");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // The slot moved with what Kafka acknowledged: nothing of ours is left in it.
  EXPECT_EQ(pg_.sql("SELECT count(*) FROM pg_logical_slot_peek_binary_changes('" + s +
                    "', NULL, NULL, 'proto_version', '1', 'publication_names', '" + s +
                    "') WHERE get_byte(data, 0) = ascii('I')"),
            "0");
}

TEST_F(OdbcCdc, EveryTypeNullsUnicodeAndUnchangedToastAreMappedTheSameInSnapshotAndStream) {
  TempDir dir;
  std::string table = unique_sql_name("types"), s = slot("types"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  pg_.sql("CREATE TABLE " + table +
          " (id int PRIMARY KEY, i2 smallint, i8 bigint, num numeric(30,6), f4 real, f8 double "
          "precision, b bool, t text, vc varchar(20), ch char(3), ts timestamp, tstz timestamptz, "
          "d date, by bytea, js json, jb jsonb, ia int[], ta text[], u uuid, big text)");
  const std::string values =
      "7, -32768, 9223372036854775807, 12345678901234567.123456, 1.5, -2.25e-10, true, "
      "'zwölf \"quoted\" \\ back 🚀', 'vc', 'ab', '2024-02-29 23:59:59.123456', "
      "'2024-02-29 23:59:59.5+02', '1999-12-31', '\\x00ff10', '{\"a\": [1, 2]}', "
      "'{\"k\": null}', '{1,NULL,3}', '{\"x y\",\"q\\\"z\",NULL}', "
      "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
      "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)";
  pg_.sql("INSERT INTO " + table + " VALUES (1, " + values.substr(3) + ")");
  pg_.sql("INSERT INTO " + table + " (id) VALUES (2)");

  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "", table));
  ferry.start();
  ASSERT_EQ(wait_for_events(topic, 2, ferry).size(), 2u);
  pg_.sql("INSERT INTO " + table + " VALUES (3, " + values.substr(3) + ")");
  pg_.sql("INSERT INTO " + table + " (id) VALUES (4)");
  // Leaves `big` (stored out of line) alone: pgoutput does not send it again.
  pg_.sql("UPDATE " + table + " SET t = 'changed' WHERE id = 3");
  auto events = wait_for_events(topic, 5, ferry);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  json snap = (*events[0].value)["after"], streamed = (*events[2].value)["after"];
  EXPECT_EQ((*events[0].value)["op"], "r");
  EXPECT_EQ((*events[2].value)["op"], "c");
  json expected = {
      {"i2", -32768},
      {"i8", 9223372036854775807LL},
      {"num", "12345678901234567.123456"},
      {"f4", 1.5},
      {"f8", -2.25e-10},
      {"b", true},
      {"t", "zwölf \"quoted\" \\ back 🚀"},
      {"vc", "vc"},
      {"ch", "ab "},
      {"ts", "2024-02-29T23:59:59.123456"},
      {"tstz", "2024-02-29T21:59:59.5Z"},
      {"d", "1999-12-31"},
      {"by", "AP8Q"},
      {"js", {{"a", {1, 2}}}},
      {"jb", {{"k", nullptr}}},
      {"ia", {1, nullptr, 3}},
      {"ta", {"x y", "q\"z", nullptr}},
      {"u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
  };
  for (auto& [k, v] : expected.items()) {
    EXPECT_EQ(streamed[k], v) << k;
    EXPECT_EQ(snap[k], v) << k << " (snapshot)";
  }
  EXPECT_EQ(streamed["big"].get<std::string>().size(), 400u * 32);
  EXPECT_EQ(snap["big"], streamed["big"]);
  EXPECT_EQ(streamed["id"], 3);
  // The row of NULLs: every column present, null.
  for (const json* row : {&(*events[1].value)["after"], &(*events[3].value)["after"]}) {
    EXPECT_EQ(row->size(), 20u);
    for (auto& [k, v] : row->items()) {
      if (k != "id") {
        EXPECT_TRUE(v.is_null()) << k;
      }
    }
  }
  // The update: `big` was not sent, and says so with Debezium's placeholder.
  const json& upd = (*events[4].value)["after"];
  EXPECT_EQ(upd["t"], "changed");
  EXPECT_EQ(upd["big"], "__debezium_unavailable_value");
  EXPECT_EQ(upd["i8"], 9223372036854775807LL);
}

TEST_F(OdbcCdc, HundredThousandRowTransactionIsOneSpanAndStreamsThrough) {
  TempDir dir;
  std::string table = unique_sql_name("bulk"), s = slot("bulk"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table, span_topic = unique_topic("cdc-spans");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
  FerryInstance ferry(dir, "[spans]\ntopic = \"" + span_topic + "\"\n");
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "snapshot = \"never\"\n", table) +
                                "[span]\nenabled = true\n");
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "streaming from slot")) << ferry.log();
  pg_.sql("INSERT INTO " + table +
          " SELECT g, repeat('x', 50) || g FROM generate_series(1, 100000) g");
  auto events = wait_for_events(topic, 100000, ferry, 300s);
  ASSERT_EQ(events.size(), 100000u);
  std::set<int> ids;
  for (const auto& e : events) {
    ids.insert((*e.key)["id"].get<int>());
    EXPECT_EQ(e.span, events[0].span);
  }
  EXPECT_EQ(ids.size(), 100000u);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), 100000);
  std::vector<json> spans;
  ASSERT_TRUE(wait_until(
      [&] {
        spans = span_events(span_topic);
        return !of_type(spans, "span.delivered", events[0].span).empty();
      },
      60s));
  auto closed = of_type(spans, "span.closed", events[0].span);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]["count"], 100000);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcCdc, AnIdleCaptureDoesNotPinWalAndTheSlotLagIsAMetric) {
  TempDir dir;
  std::string table = unique_sql_name("idle"), noise = unique_sql_name("noise");
  std::string s = slot("idle"), prefix = unique_topic("cdc");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY)");
  pg_.sql("CREATE TABLE " + noise + " (id int, pad text)");
  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "snapshot = \"never\"\n", table));
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "streaming from slot")) << ferry.log();
  // Writes to a table ferry does not capture: WAL grows, nothing is emitted.
  pg_.sql("INSERT INTO " + noise + " SELECT g, repeat('n', 200) FROM generate_series(1, 20000) g");
  std::string after_noise = pg_.sql("SELECT pg_current_wal_flush_lsn()");
  auto slot_lag = [&] {
    return std::stoll(pg_.sql("SELECT pg_wal_lsn_diff('" + after_noise +
                              "', confirmed_flush_lsn) FROM pg_replication_slots WHERE "
                              "slot_name = '" +
                              s + "'"));
  };
  EXPECT_GT(std::stoll(pg_.sql("SELECT pg_wal_lsn_diff('" + after_noise + "', '0/0')")), 4'000'000);
  ASSERT_TRUE(wait_until([&] { return slot_lag() <= 0; }, 60s))
      << "the slot stays behind by " << slot_lag() << " bytes\n"
      << ferry.log();
  EXPECT_EQ(end_offset(prefix + "." + table), 0);

  RestClient rest(ferry.rest_address());
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        metrics = rest.get("/metrics").text;
        return metrics.find("ferry_plugin_slot_lag_bytes{connector=\"pg\"") != std::string::npos;
      },
      30s))
      << metrics;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// Ids that test_decoding sees in the slot from its confirmed position on: what a
// restarted ferry would still read.
std::set<int> ids_left_in_slot(const Postgres& pg, const std::string& slot) {
  std::string copy = slot + "_chk";
  pg.sql("SELECT pg_copy_logical_replication_slot('" + slot + "', '" + copy +
         "', false, 'test_decoding')");
  std::string out = pg.sql("SELECT data FROM pg_logical_slot_peek_changes('" + copy +
                           "', NULL, NULL) WHERE data LIKE 'table %INSERT%'");
  pg.sql("SELECT pg_drop_replication_slot('" + copy + "')");
  std::set<int> ids;
  std::regex id_re(R"(id\[integer\]:(\d+))");
  for (std::sregex_iterator it(out.begin(), out.end(), id_re), end; it != end; ++it)
    ids.insert(std::stoi((*it)[1]));
  return ids;
}

TEST_F(OdbcCdc, SigkillMidStreamLosesNothingAndTheSlotNeverGetsAheadOfKafka) {
  TempDir dir;
  std::string table = unique_sql_name("kill"), s = slot("kill"), prefix = unique_topic("cdc");
  std::string topic = prefix + "." + table;
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
  FerryInstance ferry(dir);
  ferry.add_connector("pg", cdc_connector(pg_, prefix, s, "snapshot = \"never\"\n", table));
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "streaming from slot")) << ferry.log();

  // 400 transactions of 50 rows, committed one by one while ferry reads them.
  const int kTxns = 400, kRows = 50;
  Process writer({Postgres::script(), "psql", pg_.dir().string(), "-qAt", "-c",
                  "DO $$ BEGIN FOR t IN 0.." + std::to_string(kTxns - 1) + " LOOP INSERT INTO " +
                      table + " SELECT t * " + std::to_string(kRows) +
                      " + g, 'v' FROM "
                      "generate_series(1, " +
                      std::to_string(kRows) +
                      ") g; COMMIT; END LOOP; "
                      "END $$"},
                 dir / "writer.log");
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 2000; }, 120s)) << ferry.log();
  ferry.kill9();
  ASSERT_EQ(writer.wait(120s), 0) << read_file(dir / "writer.log");

  std::set<int> in_kafka;
  for (const auto& e : events_in(topic)) in_kafka.insert((*e.key)["id"].get<int>());
  ASSERT_LT(in_kafka.size(), static_cast<size_t>(kTxns * kRows)) << "the kill came too late";
  std::set<int> reachable = ids_left_in_slot(pg_, s);
  reachable.insert(in_kafka.begin(), in_kafka.end());
  EXPECT_EQ(reachable.size(), static_cast<size_t>(kTxns * kRows))
      << "rows neither in Kafka nor in the slot: the slot moved past unacknowledged changes";

  ferry.start();
  std::set<int> ids;
  ASSERT_TRUE(wait_until(
      [&] {
        ids.clear();
        for (const auto& e : events_in(topic, end_offset(topic)))
          ids.insert((*e.key)["id"].get<int>());
        return ids.size() == static_cast<size_t>(kTxns * kRows);
      },
      180s, 500ms))
      << ids.size() << "\n"
      << ferry.log();
  EXPECT_EQ(*ids.rbegin(), kTxns * kRows);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcCdc, ClearErrorsForCredentialsPrivilegesPublicationAndWalLevel) {
  TempDir dir;
  OwnPostgres replica_only(dir / "pg-replica", "replica");
  std::string s = slot("errs");
  std::string limited = unique_sql_name("limited");
  pg_.sql("CREATE ROLE " + limited + " LOGIN PASSWORD 'secret-1'");
  FerryInstance ferry(dir);
  auto with_connection = [&](const std::string& conn, const std::string& extra) {
    return "plugin = \"odbc-cdc\"\ntopic = \"" + unique_topic("cdc") +
           ".{table}\"\n[config]\nconnection = \"" + conn + "\"\nslot = \"" + s +
           "\"\npublication = \"" + s + "\"\n" + extra;
  };
  ferry.add_connector("wrong-password",
                      with_connection("DSN=ferry_pg;UID=ferry;PWD=not-the-password", ""));
  ferry.add_connector("no-replication",
                      with_connection("DSN=ferry_pg;UID=" + limited + ";PWD=secret-1", ""));
  ferry.add_connector("no-publication",
                      with_connection(pg_.connection(), "create_publication = false\n"));
  std::string replica_conn =
      "Driver=PostgreSQL Unicode;Servername=127.0.0.1;Port=" + replica_only.port() +
      ";Database=ferry;UID=ferry;PWD=" + replica_only.password();
  ferry.add_connector("wal-level", with_connection(replica_conn, ""));
  ferry.start();
  auto logged = [&](const std::string& connector, const std::string& text) {
    return wait_until(
        [&] {
          std::string log = ferry.log();
          for (size_t at = log.find("[" + connector + "/0]"); at != std::string::npos;
               at = log.find("[" + connector + "/0]", at + 1)) {
            size_t eol = log.find('\n', at);
            if (log.substr(at, eol - at).find(text) != std::string::npos) return true;
          }
          return false;
        },
        60s);
  };
  EXPECT_TRUE(logged("wrong-password", "password authentication failed")) << ferry.log();
  EXPECT_TRUE(logged("no-replication", "ALTER ROLE <user> REPLICATION")) << ferry.log();
  EXPECT_TRUE(logged("no-publication", "publication \"" + s + "\" does not exist")) << ferry.log();
  EXPECT_TRUE(logged("wal-level", "wal_level = replica")) << ferry.log();
  // The connection string's password never reaches the log.
  EXPECT_EQ(ferry.log().find("not-the-password"), std::string::npos);
  EXPECT_EQ(ferry.log().find(pg_.password()), std::string::npos);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  pg_.sql("DROP ROLE " + limited);
}

TEST_F(OdbcCdc, DatabaseDownAtStartAndMidStreamResumesWithoutLoss) {
  TempDir dir;
  OwnPostgres pg(dir / "pg");
  std::string s = "outage", prefix = unique_topic("cdc");
  std::string topic = prefix + ".rows";
  pg.sql("CREATE TABLE rows (id int PRIMARY KEY)");
  pg.sql("INSERT INTO rows SELECT generate_series(1, 100)");
  pg.pause();
  FerryInstance ferry(dir);
  std::string conn = "Driver=PostgreSQL Unicode;Servername=127.0.0.1;Port=" + pg.port() +
                     ";Database=ferry;UID=ferry;PWD=" + pg.password();
  ferry.add_connector("pg", "plugin = \"odbc-cdc\"\ntopic = \"" + prefix +
                                ".{table}\"\n[config]\nconnection = \"" + conn + "\"\nslot = \"" +
                                s + "\"\npoll_interval = \"100ms\"\n");
  ferry.start();
  ASSERT_TRUE(log_says(ferry, "cannot connect")) << ferry.log();
  // The task's status says why nothing moves.
  auto trace = [&] {
    RestClient rest(ferry.rest_address());
    json status = json::parse(rest.get("/connectors/pg/status").text, nullptr, false);
    return status.is_object() ? status["tasks"][0].value("trace", "") : "";
  };
  ASSERT_TRUE(wait_until([&] { return trace().find("cannot connect") != std::string::npos; }, 30s))
      << trace();
  pg.resume();
  ASSERT_EQ(wait_for_events(topic, 100, ferry, 120s).size(), 100u);

  pg.sql("INSERT INTO rows SELECT generate_series(101, 150)");
  ASSERT_EQ(wait_for_events(topic, 150, ferry, 120s).size(), 150u);
  size_t errors_before = 0;
  for (size_t at = ferry.log().find("retriable error"); at != std::string::npos;
       at = ferry.log().find("retriable error", at + 1))
    ++errors_before;
  pg.pause();
  ASSERT_TRUE(wait_until(
      [&] {
        size_t n = 0;
        std::string log = ferry.log();
        for (size_t at = log.find("retriable error"); at != std::string::npos;
             at = log.find("retriable error", at + 1))
          ++n;
        return n > errors_before;
      },
      60s))
      << ferry.log();
  EXPECT_TRUE(wait_until([&] { return trace().starts_with("retrying: "); }, 30s)) << trace();
  pg.resume();
  pg.sql("INSERT INTO rows SELECT generate_series(151, 200)");
  auto events = wait_for_events(topic, 200, ferry, 120s);
  EXPECT_TRUE(wait_until([&] { return trace().empty(); }, 30s)) << trace();
  std::set<int> ids;
  for (const auto& e : events) ids.insert((*e.key)["id"].get<int>());
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace
}  // namespace ferry::test
