// PostgreSQL stopped and started again, fast and as by a power cut (immediate, crash
// recovery at the next start), while odbc-cdc captures a steady write load and
// odbc-sink applies it to a replica table of the same server: no change is lost, and
// the replica ends equal to the source (md5 over every row).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/cdc_events.hpp"
#include "support/env_int.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;

}  // namespace

TEST(DatabaseFaults, PostgresStoppedFastAndImmediatelyDuringCaptureAndApplyLosesNoChange) {
  const int restarts = env_int("FERRY_CHAOS_PG_RESTARTS", 5);
  TempDir dir;
  OwnPostgres pg(dir / "pg");
  std::string prefix = unique_topic("pgfaults"), topic = prefix + ".src";
  pg.sql("CREATE TABLE src (id int PRIMARY KEY, v int NOT NULL, note text)");
  pg.sql("CREATE TABLE src_replica (id int PRIMARY KEY, v int NOT NULL, note text)");
  std::string conn = "Driver=PostgreSQL Unicode;Servername=127.0.0.1;Port=" + pg.port() +
                     ";Database=ferry;UID=ferry;PWD=" + pg.password();
  FerryInstance ferry(dir);
  ferry.add_connector("cdc", "plugin = \"odbc-cdc\"\ntopic = \"" + prefix +
                                 ".{table}\"\n[config]\nconnection = \"" + conn +
                                 "\"\nslot = \"faults\"\npublication = \"faults\"\ntables = "
                                 "[\"src\"]\npoll_interval = \"100ms\"\n");
  ferry.add_connector("sink", "plugin = \"odbc-sink\"\ntopics = [\"" + topic +
                                  "\"]\n[config]\nconnection = \"" + conn +
                                  "\"\ntable = \"{table}_replica\"\n");
  ferry.start();
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("streaming from slot") != std::string::npos; }, 60s))
      << ferry.log();

  // Rounds of 200 transactions (20 new rows each, and an update of earlier rows), each
  // cut short by a stop of the server once some of it is in Kafka.
  auto round = [&](int r) {
    std::string base = std::to_string(r * 100000);
    return std::vector<std::string>{
        Postgres::script(),
        "psql",
        pg.dir().string(),
        "-qAt",
        "-c",
        "DO $$ BEGIN FOR t IN 0..199 LOOP INSERT INTO src SELECT " + base +
            " + t * 20 + g, g, 'round " + std::to_string(r) +
            "' FROM generate_series(1, 20) g; UPDATE src SET v = v + 1 WHERE id % 97 = t % 97; "
            "COMMIT; END LOOP; END $$"};
  };
  int64_t seen = 0;
  for (int r = 0; r < restarts; ++r) {
    Process writer(round(r), dir / ("writer-" + std::to_string(r) + ".log"));
    ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= seen + 200; }, 120s))
        << "round " << r << "\n"
        << ferry.log();
    if (r % 2 == 0)
      pg.pause();
    else
      pg.crash();
    writer.wait(60s);  // cut off mid-loop: its open transaction is rolled back
    seen = end_offset(topic);
    pg.resume();
  }
  // A last round that runs to its end, then everything must arrive.
  Process last(round(restarts), dir / "writer-last.log");
  ASSERT_EQ(last.wait(120s), 0) << read_file(dir / "writer-last.log");

  auto digest = [&](const std::string& t) {
    return pg.sql(
        "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), "
        "'') FROM " +
        t + " t");
  };
  std::string want;
  ASSERT_TRUE(wait_until(
      [&] {
        want = digest("src");
        return digest("src_replica") == want;
      },
      180s, 500ms))
      << "source " << want << ", replica " << digest("src_replica") << "\n"
      << ferry.log();

  // Every row the source committed has its insert in Kafka.
  std::set<int> committed;
  std::istringstream ids(pg.sql("SELECT id FROM src ORDER BY id"));
  for (std::string id; std::getline(ids, id);) committed.insert(std::stoi(id));
  std::set<int> captured;
  size_t events = 0;
  for (const auto& e : events_in(topic, end_offset(topic))) {
    ++events;
    if (e.key) captured.insert((*e.key)["id"].get<int>());
  }
  size_t lost = 0;
  for (int id : committed) lost += captured.contains(id) ? 0 : 1;
  std::cout << "database faults: restarts=" << restarts << " rows=" << committed.size()
            << " events=" << events << " lost=" << lost << " replica=" << want << "\n";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

}  // namespace ferry::test
