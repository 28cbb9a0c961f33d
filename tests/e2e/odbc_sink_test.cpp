// odbc-sink end to end: PostgreSQL -> Kafka -> PostgreSQL and -> SQLite replicas that
// must equal their source table, bad records on the dead letter topic, redelivery,
// and a target database that goes away. Tables are read back with psql and sqlite3.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The ferry.error.reason header of each record on a dead letter topic. Read as kcat's
// JSON (-J), since reasons may hold commas that its %h format does not escape.
std::vector<std::string> dead_letter_reasons(const std::string& topic) {
  auto r = run_command({"kcat", "-C", "-b", test_bootstrap(), "-t", topic, "-J", "-e", "-q"});
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json m = json::parse(line, nullptr, false);
    if (m.is_discarded() || !m.contains("headers")) continue;
    const json& h = m["headers"];
    for (size_t i = 0; i + 1 < h.size(); i += 2)
      if (h[i] == "ferry.error.reason") out.push_back(h[i + 1]);
  }
  return out;
}

class OdbcSink : public PostgresTest {
 protected:
  std::string cdc(const std::string& prefix, const std::string& table) {
    std::string s = slot("sink");
    return "plugin = \"odbc-cdc\"\ntopic = \"" + prefix + ".{table}\"\n[config]\nconnection = \"" +
           pg_.connection() + "\"\nslot = \"" + s + "\"\npublication = \"" + s +
           "\"\ntables = [\"" + table + "\"]\npoll_interval = \"100ms\"\n";
  }
  std::string sink(const std::string& topic, const std::string& connection,
                   const std::string& extra = "", const std::string& top = "") {
    return "plugin = \"odbc-sink\"\ntopics = [\"" + topic + "\"]\n" + top +
           "[config]\nconnection = \"" + connection + "\"\n" + extra;
  }
  // A digest of a table's rows in key order, comparable across two tables.
  std::string digest(const std::string& table, const std::string& order = "id") {
    return pg_.sql("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY " +
                   order + ")), '') FROM " + table + " t");
  }
  // A record's value without its (long) Connect schema.
  static std::string payload_of(const std::optional<std::string>& value) {
    if (!value) return "(tombstone)";
    size_t at = value->find("\"payload\":");
    return at == std::string::npos ? value->substr(0, 600) : value->substr(at, 600);
  }
  // Both tables' rows and what the topic holds, for a failure message.
  std::string explain(const std::string& table, const std::string& replica,
                      const std::string& topic, const std::string& order = "id") {
    auto rows = [&](const std::string& t) {
      return pg_.sql("SELECT coalesce(string_agg(t::text, ' | ' ORDER BY " + order +
                     "), '') FROM " + t + " t");
    };
    std::string out = "source:  " + rows(table) + "\nreplica: " + rows(replica) + "\ntopic:\n";
    for (const auto& m : kcat_consume(topic, -1))
      out += "  " + m.key.value_or("(null)") + " => " + payload_of(m.value) + "\n";
    return out;
  }
  // Waits until `replica` holds exactly the rows of `table`; `want` is then the digest.
  bool replica_matches(const std::string& table, const std::string& replica, std::string& want,
                       const std::string& order = "id") {
    return wait_until(
        [&] {
          want = digest(table, order);
          return digest(replica, order) == want;
        },
        120s, 250ms);
  }
};

// A workload of every kind of change, in single- and multi-row transactions.
void churn(const Postgres& pg, const std::string& t) {
  pg.sql("INSERT INTO " + t +
         " SELECT g, 'row ' || g, g * 1.25, g % 2 = 0, ARRAY[g, g + 1], jsonb_build_object('g', "
         "g), decode(md5(g::text), 'hex'), '2024-01-01 00:00:00+00'::timestamptz + g * "
         "interval '1 minute', 'ünï ' || g FROM generate_series(1, 200) g");
  pg.sql("BEGIN; UPDATE " + t + " SET name = 'updated', n = NULL WHERE id % 10 = 0; DELETE FROM " +
         t + " WHERE id % 7 = 0; INSERT INTO " + t + " (id, name) VALUES (1000, 'late'); COMMIT;");
  pg.sql("UPDATE " + t + " SET id = id + 5000 WHERE id BETWEEN 50 AND 59");
  pg.sql("UPDATE " + t + " SET flag = NOT coalesce(flag, false) WHERE id < 20");
  pg.sql("DELETE FROM " + t + " WHERE id BETWEEN 100 AND 120");
}

constexpr const char* kColumns =
    "(id int PRIMARY KEY, name text, n numeric(12,2), flag bool, arr int[], doc jsonb, bin "
    "bytea, at timestamptz, u text)";

TEST_F(OdbcSink, PostgresToKafkaToPostgresReplicaEqualsTheSourceTable) {
  TempDir dir;
  std::string table = unique_sql_name("src"), replica = table + "_replica";
  std::string prefix = unique_topic("pg2pg");
  pg_.sql("CREATE TABLE " + table + " " + kColumns);
  pg_.sql("CREATE TABLE " + replica + " " + kColumns);
  pg_.sql("INSERT INTO " + table + " (id, name) VALUES (-1, 'before the snapshot')");
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", cdc(prefix, table));
  ferry.add_connector(
      "sink", sink(prefix + "." + table, pg_.connection(), "table = \"{table}_replica\"\n"));
  ferry.start();
  churn(pg_, table);
  std::string want;
  ASSERT_TRUE(replica_matches(table, replica, want)) << want << " vs " << digest(replica) << "\n"
                                                     << ferry.log();
  EXPECT_EQ(want.substr(0, want.find(':')), pg_.sql("SELECT count(*) FROM " + table));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, CompositeKeysAreKeysAndTheReplicaFollowsThem) {
  TempDir dir;
  std::string table = unique_sql_name("comp"), replica = table + "_replica";
  std::string prefix = unique_topic("comp");
  for (const auto& t : {table, replica})
    pg_.sql("CREATE TABLE " + t + " (region text, id int, v text, PRIMARY KEY (region, id))");
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", cdc(prefix, table));
  ferry.add_connector("sink", sink(prefix + "." + table, pg_.connection(),
                                   "table = \"{table}_replica\"\ntruncate_enabled = true\n"));
  ferry.start();
  pg_.sql("INSERT INTO " + table +
          " SELECT r, g, 'v' FROM unnest(ARRAY['eu', 'us']) r, generate_series(1, 50) g");
  pg_.sql("BEGIN; UPDATE " + table + " SET v = 'w' WHERE id < 10; DELETE FROM " + table +
          " WHERE region = 'us' AND id > 40; UPDATE " + table +
          " SET region = 'ap' WHERE region = 'eu' AND id > 45; COMMIT;");
  std::string want;
  ASSERT_TRUE(replica_matches(table, replica, want, "region, id"))
      << want << " vs " << digest(replica, "region, id") << "\n"
      << ferry.log();
  EXPECT_EQ(want.substr(0, want.find(':')), "90");
  auto first = kcat_consume(prefix + "." + table, 1);
  ASSERT_EQ(first.size(), 1u);
  json key = json::parse(*first[0].key);  // both key columns, and nothing else
  EXPECT_EQ(key.size(), 2u) << key;
  EXPECT_TRUE(key["region"].is_string() && key["id"].is_number()) << key;

  // A truncate empties the replica too (the row after it is in the same transaction).
  pg_.sql("BEGIN; TRUNCATE " + table + "; INSERT INTO " + table +
          " VALUES ('eu', 1, 'again'); COMMIT;");
  ASSERT_TRUE(replica_matches(table, replica, want, "region, id"))
      << want << " vs " << digest(replica, "region, id") << "\n"
      << ferry.log();
  EXPECT_EQ(want.substr(0, want.find(':')), "1");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// Columns whose Kafka Connect JSON form differs from their text: jsonb, numeric, bytea,
// arrays.
constexpr const char* kConnectColumns =
    " (id int PRIMARY KEY, name text, doc jsonb, amount numeric(10,2), raw bytea, tags int[])";

TEST_F(OdbcSink, KafkaConnectJsonFormCarriesSchemasAndReplicatesAsWell) {
  TempDir dir;
  std::string table = unique_sql_name("connect"), replica = table + "_replica";
  std::string prefix = unique_topic("connect"), topic = prefix + "." + table;
  for (const auto& t : {table, replica}) pg_.sql("CREATE TABLE " + t + kConnectColumns);
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", cdc(prefix, table) + "json_schemas = true\n");
  ferry.add_connector("sink", sink(topic, pg_.connection(), "table = \"{table}_replica\"\n"));
  ferry.start();
  pg_.sql("INSERT INTO " + table +
          " VALUES (1, 'one', '{\"a\": [1, 2]}', 12.5, '\\x0001', '{3,4}'), " +
          "(2, NULL, NULL, NULL, NULL, NULL)");
  pg_.sql("UPDATE " + table + " SET name = 'uno' WHERE id = 1");
  pg_.sql("DELETE FROM " + table + " WHERE id = 2");
  std::string want;
  ASSERT_TRUE(replica_matches(table, replica, want))
      << explain(table, replica, topic) << ferry.log();

  // Row 1's first record: the snapshot may carry row 2 first, depending on when it began.
  json key, value;
  for (const auto& m : kcat_consume(topic, end_offset(topic))) {
    json k = json::parse(*m.key);
    if (k["payload"]["id"] == 1 && m.value) {
      key = k;
      value = json::parse(*m.value);
      break;
    }
  }
  ASSERT_FALSE(value.is_null()) << explain(table, replica, topic);
  EXPECT_EQ(key, json::parse(R"({"schema":{"type":"struct","fields":[{"type":"int32",
      "optional":false,"field":"id"}],"optional":false,"name":")" +
                             topic + R"(.Key"},
      "payload":{"id":1}})"));
  EXPECT_EQ(value["schema"]["name"], topic + ".Envelope");
  json after_schema = value["schema"]["fields"][1];
  EXPECT_EQ(after_schema["field"], "after");
  std::map<std::string, json> fields;
  for (const auto& f : after_schema["fields"]) fields[f["field"]] = f;
  EXPECT_EQ(fields["name"], json::parse(R"({"type":"string","optional":true,"field":"name"})"));
  EXPECT_EQ(fields["doc"]["name"], "io.debezium.data.Json");
  EXPECT_EQ(fields["raw"]["type"], "bytes");
  EXPECT_EQ(fields["tags"]["type"], "array");
  EXPECT_EQ(fields["tags"]["items"]["type"], "int32");
  const json& after = value["payload"]["after"];
  EXPECT_EQ(after["doc"], "{\"a\": [1, 2]}");  // a JSON string, as the schema says
  EXPECT_EQ(after["amount"], "12.50");
  EXPECT_EQ(after["raw"], "AAE=");
  // A snapshot row or a stream insert, depending on when the snapshot began.
  EXPECT_TRUE(value["payload"]["op"] == "c" || value["payload"]["op"] == "r") << value["payload"];
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// Rows that exist before ferry starts come from the snapshot, which reads them with
// SELECT instead of decoding them from the slot: in Kafka Connect's JSON form they
// must replicate to the same values as streamed ones. The update moves row 1 behind
// the all-NULL row 2, so the snapshot sends row 2 first and the sink gets both in one
// batch: the batch once took each column's type from its first row, bound bytea as
// text after a NULL, and stored 0x0001 as empty bytes (caught by the suite twice).
TEST_F(OdbcSink, KafkaConnectJsonFormSnapshotRowsReplicateAsWell) {
  TempDir dir;
  std::string table = unique_sql_name("connsnap"), replica = table + "_replica";
  std::string prefix = unique_topic("connsnap"), topic = prefix + "." + table;
  for (const auto& t : {table, replica}) pg_.sql("CREATE TABLE " + t + kConnectColumns);
  pg_.sql("INSERT INTO " + table +
          " VALUES (1, 'one', '{\"a\": [1, 2]}', 12.5, '\\x0001', '{3,4}'), (2, NULL, NULL, NULL, "
          "NULL, NULL)");
  pg_.sql("UPDATE " + table + " SET name = 'uno' WHERE id = 1");
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", cdc(prefix, table) + "json_schemas = true\n");
  ferry.add_connector("sink", sink(topic, pg_.connection(), "table = \"{table}_replica\"\n"));
  ferry.start();
  std::string want;
  ASSERT_TRUE(replica_matches(table, replica, want))
      << explain(table, replica, topic) << ferry.log();
  EXPECT_EQ(want.substr(0, want.find(':')), "2");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

// A transaction committed between the slot's creation and the snapshot is in both; the
// snapshot emits it and the stream must not, while later changes to the same rows come
// from the stream, after the snapshot's records, and win in the replica.
TEST_F(OdbcSink, ChangesAcrossTheSnapshotBoundaryReplicateInOrder) {
  TempDir dir;
  std::string table = unique_sql_name("edge"), replica = table + "_replica";
  std::string prefix = unique_topic("edge"), topic = prefix + "." + table, s = slot("edge");
  for (const auto& t : {table, replica})
    pg_.sql("CREATE TABLE " + t + " (id int PRIMARY KEY, name text, amount numeric(10,2))");
  pg_.sql("CREATE PUBLICATION " + s + " FOR TABLE " + table);
  pg_.sql("SELECT pg_create_logical_replication_slot('" + s + "', 'pgoutput')");
  pg_.sql("INSERT INTO " + table + " VALUES (1, 'one', 1.5), (2, NULL, NULL), (3, 'three', 3)");
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", "plugin = \"odbc-cdc\"\ntopic = \"" + prefix +
                                 ".{table}\"\n[config]\nconnection = \"" + pg_.connection() +
                                 "\"\nslot = \"" + s + "\"\npublication = \"" + s +
                                 "\"\ntables = [\"" + table +
                                 "\"]\npoll_interval = \"100ms\"\njson_schemas = true\n");
  ferry.add_connector("sink", sink(topic, pg_.connection(), "table = \"{table}_replica\"\n"));
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("snapshot done") != std::string::npos; }, 60s))
      << ferry.log();
  pg_.sql("UPDATE " + table + " SET name = 'uno', amount = 11 WHERE id = 1");
  pg_.sql("DELETE FROM " + table + " WHERE id = 2");
  std::string want;
  ASSERT_TRUE(replica_matches(table, replica, want))
      << explain(table, replica, topic) << ferry.log();
  EXPECT_EQ(want.substr(0, want.find(':')), "2");
  EXPECT_EQ(end_offset(topic), 6) << "3 snapshot rows, an update, a delete and its tombstone\n"
                                  << explain(table, replica, topic);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, PostgresToKafkaToSqliteCreatesTheTableAndMatchesTheSource) {
  TempDir dir;
  std::string table = unique_sql_name("lite"), prefix = unique_topic("pg2lite");
  std::string db = (dir / "replica.db").string();
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, name text, qty bigint, ok bool)");
  pg_.sql("INSERT INTO " + table +
          " SELECT g, 'n' || g, g * 10, g % 3 = 0 FROM "
          "generate_series(1, 50) g");
  FerryInstance ferry(dir);
  // With spans, so that SQLite also holds the staging table of atomic spans.
  ferry.add_connector("cdc", cdc(prefix, table) + "[span]\nenabled = true\n");
  ferry.add_connector(
      "sink", sink(prefix + "." + table, "Driver=SQLite3;Database=" + db, "create_table = true\n"));
  ferry.start();
  pg_.sql("BEGIN; UPDATE " + table +
          " SET name = 'ünïcödé ' || id, ok = NULL WHERE id < 5; "
          "DELETE FROM " +
          table + " WHERE id > 45; INSERT INTO " + table +
          " VALUES (100, NULL, NULL, true); COMMIT;");
  pg_.sql("UPDATE " + table + " SET id = 200 WHERE id = 10");

  auto source = [&] {
    std::string s = pg_.sql(
        "SELECT id || '|' || coalesce(name, '') || '|' || coalesce(qty::text, "
        "'') || '|' || coalesce((ok::int)::text, '') FROM " +
        table + " ORDER BY id");
    return s;
  };
  auto replica = [&] {
    auto r = run_command({"sqlite3", db,
                          "SELECT id || '|' || coalesce(name, '') || '|' || coalesce(qty, '') || "
                          "'|' || coalesce(ok, '') FROM \"" +
                              table + "\" ORDER BY id"});
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  };
  std::string want;
  ASSERT_TRUE(wait_until(
      [&] {
        want = source();
        return replica() == want;
      },
      120s, 250ms))
      << "source:\n"
      << want << "\nreplica:\n"
      << replica() << "\n"
      << ferry.log();
  EXPECT_NE(want.find("ünïcödé 1|10|"), std::string::npos);
  auto staged = run_command({"sqlite3", db, "SELECT count(*) FROM ferry_span_staging"});
  EXPECT_EQ(staged.out, "0\n") << staged.err;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, EachSourceTransactionIsAppliedToTheReplicaAtomically) {
  TempDir dir;
  std::string table = unique_sql_name("atomic"), replica = table + "_replica";
  std::string staging = unique_sql_name("staging"), prefix = unique_topic("atomic");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
  pg_.sql("CREATE TABLE " + replica + " (id int PRIMARY KEY, v text)");
  FerryInstance ferry(dir, "[spans]\ntopic = \"" + unique_topic("atomic-spans") + "\"\n");
  ferry.add_connector("cdc", cdc(prefix, table) + "snapshot = \"never\"\n[span]\nenabled = true\n");
  ferry.add_connector("sink",
                      sink(prefix + "." + table, pg_.connection(),
                           "table = \"{table}_replica\"\nstaging_table = \"" + staging + "\"\n"));
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("streaming from slot") != std::string::npos; }, 60s))
      << ferry.log();

  // Whoever reads the replica sees a transaction whole or not at all, although it
  // reaches the sink over many batches and flushes.
  auto observe = [&](const std::string& want) {
    std::set<std::string> seen;
    bool done = wait_until(
        [&] {
          seen.insert(
              pg_.sql("SELECT count(*) || '/' || coalesce(sum(length(v)), 0) FROM " + replica));
          return seen.contains(want);
        },
        120s, 10ms);
    EXPECT_TRUE(done) << ferry.log();
    return seen;
  };
  // 12,000 changes: more than two of the sink's 5,000-record batches per transaction.
  pg_.sql("INSERT INTO " + table + " SELECT g, 'v' FROM generate_series(1, 12000) g");
  EXPECT_EQ(observe("12000/12000"), (std::set<std::string>{"0/0", "12000/12000"}));
  pg_.sql("BEGIN; DELETE FROM " + table + " WHERE id <= 4000; UPDATE " + table +
          " SET v = 'vv' WHERE id > 4000; COMMIT;");
  EXPECT_EQ(observe("8000/16000"), (std::set<std::string>{"12000/12000", "8000/16000"}));
  // Nothing is left waiting once the spans are applied.
  EXPECT_TRUE(wait_until([&] { return pg_.sql("SELECT count(*) FROM " + staging) == "0"; }, 60s));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, BadRecordsGoToTheDeadLetterTopicWithTheReasonAndRedeliveryChangesNothing) {
  TempDir dir;
  std::string table = unique_sql_name("flat"), topic = unique_topic("flat");
  std::string dlq = unique_topic("flat-dlq");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, name text, qty int)");
  create_topic(topic, 1);
  std::ofstream(dir / "in.txt") << "{\"id\": 1, \"name\": \"a\", \"qty\": 1}\n"
                                   "not json at all\n"
                                   "{\"id\": 2, \"name\": \"b\", \"nope\": 3}\n"
                                   "{\"id\": 3, \"name\": \"c\", \"qty\": \"many\"}\n"
                                   "{\"name\": \"no key\"}\n"
                                   "{\"id\": 4, \"name\": \"d\", \"qty\": 4}\n"
                                   "{\"id\": 1, \"name\": \"a2\", \"qty\": 11}\n";
  kcat_produce_lines(topic, (dir / "in.txt").string());
  FerryInstance ferry(dir);
  std::string errors = "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" + dlq + "\"\n";
  ferry.add_connector("sink", sink(topic, pg_.connection(),
                                   "table = \"" + table + "\"\nkey_columns = [\"id\"]\n" + errors));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(dlq) >= 4; }, 60s)) << ferry.log();
  ASSERT_TRUE(wait_until(
      [&] {
        return pg_.sql("SELECT string_agg(id || name || qty, ',' ORDER BY id) FROM " + table) ==
               "1a211,4d4";
      },
      60s))
      << ferry.log();
  std::vector<std::string> reasons = dead_letter_reasons(dlq);
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_NE(reasons[0].find("not JSON"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("no column \"nope\""), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("key column \"id\""), std::string::npos) << reasons[2];
  EXPECT_NE(reasons[3].find("many"), std::string::npos) << reasons[3];
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // Everything again under another consumer group: the table stays as it is.
  std::string before =
      pg_.sql("SELECT string_agg(id || name || qty, ',' ORDER BY id) FROM " + table);
  std::filesystem::remove(dir / "connectors.d/sink.toml");
  ferry.add_connector("again",
                      sink(topic, pg_.connection(),
                           "table = \"" + table + "\"\nkey_columns = [\"id\"]\n" + errors));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(dlq) >= 8; }, 60s)) << ferry.log();
  EXPECT_EQ(pg_.sql("SELECT string_agg(id || name || qty, ',' ORDER BY id) FROM " + table), before);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, TruncatesAndDeletesAreAppliedOnlyWhenEnabled) {
  // A truncate on the topic (anyone who can write it can send one) used to empty the
  // target table whatever the settings said.
  TempDir dir;
  std::string topic = unique_topic("ops");
  std::string base = unique_sql_name("ops");
  for (const auto& suffix : {"_default", "_nodelete", "_truncate"})
    pg_.sql("CREATE TABLE " + base + suffix + " (id int PRIMARY KEY, name text)");
  create_topic(topic, 1);
  std::ofstream(dir / "in.txt") << "{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"name\": "
                                   "\"b\"}\n{\"id\": 3, \"name\": \"c\"}\n"
                                   "{\"op\": \"d\", \"before\": {\"id\": 2}, \"after\": null}\n"
                                   "{\"op\": \"t\", \"before\": null, \"after\": null}\n"
                                   "{\"id\": 4, \"name\": \"d\"}\n";
  kcat_produce_lines(topic, (dir / "in.txt").string());
  FerryInstance ferry(dir);
  auto to = [&](const std::string& table, const std::string& extra) {
    return sink(topic, pg_.connection(),
                "table = \"" + table + "\"\nkey_columns = [\"id\"]\n" + extra);
  };
  ferry.add_connector("by-default", to(base + "_default", ""));
  ferry.add_connector("no-deletes", to(base + "_nodelete", "delete_enabled = false\n"));
  ferry.add_connector("truncates", to(base + "_truncate", "truncate_enabled = true\n"));
  ferry.start();
  auto ids = [&](const std::string& table) {
    return pg_.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM " + table);
  };
  EXPECT_TRUE(wait_until([&] { return ids(base + "_default") == "1,3,4"; }, 60s))
      << ids(base + "_default") << ferry.log();
  EXPECT_TRUE(wait_until([&] { return ids(base + "_nodelete") == "1,2,3,4"; }, 60s))
      << ids(base + "_nodelete") << ferry.log();
  EXPECT_TRUE(wait_until([&] { return ids(base + "_truncate") == "4"; }, 60s))
      << ids(base + "_truncate") << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, OneLargeValueDoesNotMakeEveryRowOfABatchThatLarge) {
  // Parameter arrays are rows x the widest value: 400 rows with one 900 KB value took
  // 360 MB for a single batch.
  TempDir dir;
  std::string topic = unique_topic("wide"), table = unique_sql_name("wide");
  pg_.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, name text)");
  create_topic(topic, 1);
  FerryInstance ferry(dir);
  ferry.add_connector(
      "sink", sink(topic, pg_.connection(), "table = \"" + table + "\"\nkey_columns = [\"id\"]\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
  RestClient rest(ferry.rest_address());
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = rest.get("/connectors/sink/tasks/0/status");
        return r.status == 200 && r.body.value("state", "") == "RUNNING";
      },
      60s))
      << ferry.log();
  auto peak_mib = [&] {
    std::ifstream in("/proc/" + std::to_string(ferry.pid()) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return -1L;
  };
  long before = peak_mib();
  std::ofstream in(dir / "in.txt");
  in << "{\"id\": 0, \"name\": \"" << std::string(900'000, 'w') << "\"}\n";
  for (int i = 1; i < 400; ++i) in << "{\"id\": " << i << ", \"name\": \"n" << i << "\"}\n";
  in.close();
  kcat_produce_lines(topic, (dir / "in.txt").string());
  ASSERT_TRUE(wait_until(
      [&] {
        return pg_.sql("SELECT count(*) || ':' || max(length(name)) FROM " + table) == "400:900000";
      },
      120s))
      << ferry.log();
  EXPECT_LT(peak_mib() - before, 100) << "peak before: " << before << " MiB";
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, WithoutToleranceABadRecordFailsTheTaskVisiblyAndAMissingTableIsNamed) {
  TempDir dir;
  std::string topic = unique_topic("strict"), missing = unique_sql_name("missing");
  create_topic(topic, 1);
  std::ofstream(dir / "in.txt") << "{\"id\": 1}\n";
  kcat_produce_lines(topic, (dir / "in.txt").string());
  FerryInstance ferry(dir);
  ferry.add_connector("sink", sink(topic, pg_.connection(),
                                   "table = \"" + missing + "\"\nkey_columns = [\"id\"]\n"));
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("table " + missing + " does not exist") != std::string::npos; },
      60s))
      << ferry.log();
  EXPECT_NE(ferry.log().find("task failed"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcSink, TargetDatabaseDownAtStartAndMidStreamLosesNothing) {
  TempDir dir;
  OwnPostgres target(dir / "target");
  std::string topic = unique_topic("outage-sink");
  target.sql("CREATE TABLE rows (id int PRIMARY KEY, v text)");
  create_topic(topic, 1);
  auto produce = [&](int from, int to) {
    std::ofstream out(dir / "batch.txt");
    for (int i = from; i < to; ++i) out << "{\"id\": " << i << ", \"v\": \"x\"}\n";
    out.close();
    kcat_produce_lines(topic, (dir / "batch.txt").string());
  };
  produce(0, 100);
  target.pause();
  FerryInstance ferry(dir);
  std::string conn = "Driver=PostgreSQL Unicode;Servername=127.0.0.1;Port=" + target.port() +
                     ";Database=ferry;UID=ferry;PWD=" + target.password();
  ferry.add_connector("sink", sink(topic, conn, "table = \"rows\"\nkey_columns = [\"id\"]\n"));
  ferry.start();
  auto trace = [&] {
    RestClient rest(ferry.rest_address());
    json status = json::parse(rest.get("/connectors/sink/status").text, nullptr, false);
    return status.is_object() ? status["tasks"][0].value("trace", "") : "";
  };
  ASSERT_TRUE(wait_until([&] { return trace().find("cannot connect") != std::string::npos; }, 60s))
      << trace() << "\n"
      << ferry.log();
  target.resume();
  ASSERT_TRUE(wait_until([&] { return target.sql("SELECT count(*) FROM rows") == "100"; }, 60s))
      << ferry.log();
  target.pause();
  produce(100, 300);
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("flush failed (retriable)") != std::string::npos; }, 60s))
      << ferry.log();
  EXPECT_TRUE(wait_until([&] { return trace().starts_with("retrying: flush"); }, 30s)) << trace();
  target.resume();
  ASSERT_TRUE(wait_until([&] { return target.sql("SELECT count(*) FROM rows") == "300"; }, 120s))
      << ferry.log();
  EXPECT_EQ(target.sql("SELECT min(id) || '-' || max(id) FROM rows"), "0-299");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace
}  // namespace ferry::test
