// odbc-cdc in query mode end to end, through the real SQLite and MariaDB ODBC drivers:
// every row once across restarts, updated rows by timestamp, and a transaction that
// commits late is not skipped thanks to the delay.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

void sqlite(const std::string& db, const std::string& sql) {
  auto r = run_command({"sqlite3", db, sql});
  if (r.exit_code != 0) throw std::runtime_error("sqlite3: " + r.err);
}

std::string mariadb_dir() {
  if (const char* d = std::getenv("FERRY_TEST_MARIADB"); d && *d) return d;
  std::string dir = test_service_dir("mariadb");
  if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / "connection"))
    throw std::runtime_error(
        "no test MariaDB: run the suite with scripts/test.sh, or set FERRY_TEST_MARIADB=DIR of "
        "scripts/mariadb.sh start DIR");
  return dir;
}

std::string mariadb(const std::string& sql) {
  auto r = run_command({source_dir() + "/scripts/mariadb.sh", "sql", mariadb_dir(), sql});
  if (r.exit_code != 0) throw std::runtime_error("mariadb: " + r.err + "\nSQL: " + sql);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string query_connector(const std::string& topic, const std::string& connection,
                            const std::string& table, const std::string& extra) {
  return "plugin = \"odbc-cdc\"\ntopic = \"" + topic + "\"\n[config]\nmode = \"query\"\n" +
         "connection = \"" + connection + "\"\ntables = [\"" + table +
         "\"]\nincrementing_column = \"id\"\npoll_interval = \"100ms\"\n" + extra;
}

// Values by id, checking that no id arrived twice.
std::map<int64_t, json> rows_in(const std::string& topic, size_t& duplicates) {
  std::map<int64_t, json> rows;
  duplicates = 0;
  for (const auto& m : kcat_consume(topic, end_offset(topic))) {
    json v = json::parse(m.value.value_or("null"));
    auto [it, fresh] = rows.insert_or_assign(v["id"].get<int64_t>(), v);
    if (!fresh) ++duplicates;
  }
  return rows;
}

class OdbcQuery : public PostgresTest {};  // for the ODBC driver configuration

TEST_F(OdbcQuery, SqliteIncrementingEveryRowOnceAcrossRestarts) {
  TempDir dir;
  std::string db = (dir / "shop.db").string(), topic = unique_topic("lite-q");
  sqlite(db,
         "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, qty INTEGER, price REAL, "
         "note TEXT, blob BLOB);"
         "INSERT INTO orders (item, qty, price, note, blob) VALUES ('tea', 2, 3.5, NULL, "
         "x'00ff'), ('café ☕', 1, 2.25, 'with \"quotes\"', NULL);");
  FerryInstance ferry(dir);
  ferry.add_connector(
      "q", query_connector(topic, "Driver=SQLite3;Database=" + db, "orders", "delay = \"0s\"\n"));
  ferry.start();
  size_t dups = 0;
  std::map<int64_t, json> rows;
  ASSERT_TRUE(wait_until([&] { return (rows = rows_in(topic, dups)).size() == 2; }, 60s))
      << ferry.log();
  EXPECT_EQ(rows[1], json::parse(R"({"id":1,"item":"tea","qty":2,"price":3.5,"note":null,
                                     "blob":"AP8="})"));
  EXPECT_EQ(rows[2]["item"], "café ☕");
  EXPECT_EQ(rows[2]["note"], "with \"quotes\"");

  sqlite(db, "INSERT INTO orders (item, qty) SELECT 'bulk', value FROM generate_series(1, 500)");
  ASSERT_TRUE(wait_until([&] { return rows_in(topic, dups).size() == 502; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  sqlite(db, "INSERT INTO orders (item, qty) VALUES ('while down', 9)");
  ferry.start();
  sqlite(db, "INSERT INTO orders (item, qty) VALUES ('after restart', 10)");
  ASSERT_TRUE(wait_until([&] { return (rows = rows_in(topic, dups)).size() == 504; }, 60s))
      << ferry.log();
  EXPECT_EQ(dups, 0u) << "rows read again after the restart";
  EXPECT_EQ(rows[503]["item"], "while down");
  EXPECT_EQ(rows[504]["item"], "after restart");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcQuery, AnIncrementingValueThatIsNotUtf8IsKeptExactlyInTheOffset) {
  // A latin1 text key: JSON cannot hold its bytes, so saving the offset used to throw and
  // the task failed on that row after every restart.
  TempDir dir;
  std::string db = (dir / "l1.db").string(), topic = unique_topic("lite-latin1");
  sqlite(db,
         "CREATE TABLE names (id TEXT PRIMARY KEY, v TEXT);"
         "INSERT INTO names VALUES ('a1', 'first'), (CAST(x'62e9' AS TEXT), 'latin1');");
  FerryInstance ferry(dir);
  ferry.add_connector(
      "q", query_connector(topic, "Driver=SQLite3;Database=" + db, "names", "delay = \"0s\"\n"));
  ferry.start();
  auto values = [&] {
    std::vector<std::string> out;
    for (const auto& m : kcat_consume(topic, end_offset(topic)))
      out.push_back(json::parse(m.value.value_or("null"))["v"].get<std::string>());
    return out;
  };
  ASSERT_TRUE(wait_until([&] { return values().size() == 2; }, 60s)) << ferry.log();
  EXPECT_EQ(json::parse(*kcat_consume(topic, 2).back().value)["id"], "b\xef\xbf\xbd");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  // Restarted from the saved value (b, then byte E9): only the new row comes.
  sqlite(db, "INSERT INTO names VALUES ('c1', 'after restart');");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return values().size() >= 3; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(values(), (std::vector<std::string>{"first", "latin1", "after restart"}));
}

TEST_F(OdbcQuery, SqliteTimestampAndIncrementingSeesUpdatedRows) {
  TempDir dir;
  std::string db = (dir / "t.db").string(), topic = unique_topic("lite-ts");
  sqlite(db,
         "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL "
         "DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')));"
         "INSERT INTO items (name) VALUES ('a'), ('b'), ('c');");
  FerryInstance ferry(dir);
  ferry.add_connector("q", query_connector(topic, "Driver=SQLite3;Database=" + db, "items",
                                           "timestamp_column = \"updated_at\"\ndelay = "
                                           "\"100ms\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 3; }, 60s)) << ferry.log();
  sqlite(db,
         "UPDATE items SET name = 'b2', updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE "
         "id = 2");
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 4; }, 60s)) << ferry.log();
  auto last = kcat_consume(topic, 4).back();
  EXPECT_EQ(json::parse(*last.value)["name"], "b2");
  EXPECT_EQ(json::parse(*last.key), json({{"id", 2}}));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(OdbcQuery, MariadbLateCommitIsNotSkippedWithADelay) {
  TempDir dir;
  std::string table = unique_sql_name("late"), topic = unique_topic("maria-q");
  mariadb("CREATE TABLE " + table +
          " (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20), amount DECIMAL(12,3), "
          "ok BOOLEAN, at DATETIME(3))");
  mariadb("INSERT INTO " + table +
          " (v, amount, ok, at) VALUES ('first', 12.5, TRUE, "
          "'2024-05-06 07:08:09.123')");
  std::string conn = read_line_file(std::filesystem::path(mariadb_dir()) / "connection");
  FerryInstance ferry(dir);
  ferry.add_connector("q", query_connector(topic, conn, table, "delay = \"3s\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 1; }, 60s)) << ferry.log();
  json first = json::parse(*kcat_consume(topic, 1)[0].value);
  EXPECT_EQ(first["amount"], "12.500");  // exact, as text
  EXPECT_EQ(first["v"], "first");
  EXPECT_EQ(first["at"], "2024-05-06T07:08:09.123");

  // A transaction takes id 2 and commits a second later; id 3 commits at once.
  Process slow({source_dir() + "/scripts/mariadb.sh", "sql", mariadb_dir(),
                "BEGIN; INSERT INTO " + table + " (v) VALUES ('slow'); SELECT SLEEP(1.5); COMMIT;"},
               dir / "slow.log");
  ASSERT_TRUE(wait_until(
      [&] {
        return mariadb(
                   "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
                   "'SELECT SLEEP%'") != "0";
      },
      30s));
  mariadb("INSERT INTO " + table + " (v) VALUES ('fast')");
  ASSERT_EQ(slow.wait(30s), 0) << read_file(dir / "slow.log");
  size_t dups = 0;
  std::map<int64_t, json> rows;
  ASSERT_TRUE(wait_until([&] { return (rows = rows_in(topic, dups)).size() == 3; }, 60s))
      << ferry.log();
  EXPECT_EQ(rows[2]["v"], "slow");
  EXPECT_EQ(rows[3]["v"], "fast");
  EXPECT_EQ(dups, 0u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace
}  // namespace ferry::test
