// The REST API driven the way Kafka Connect's tooling drives it: the same paths,
// JSON shapes and status codes, against a ferry moving real records.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string file_source(const std::string& topic, const std::filesystem::path& glob) {
  return "plugin = \"file-source\"\ntopic = \"" + topic + "\"\n[config]\npaths = [\"" +
         glob.string() + "\"]\nscan_interval = \"100ms\"\n";
}

void append(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::app);
  out << text;
}

// Waits for the REST API of a started ferry and for every connector to be listed.
RestClient connect(FerryInstance& ferry) {
  EXPECT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
  RestClient rest(ferry.rest_address());
  EXPECT_TRUE(wait_until([&] { return rest.get("/health").status == 200; }, 30s)) << ferry.log();
  return rest;
}

std::string task_state(RestClient& rest, const std::string& connector, int task = 0) {
  auto r = rest.get("/connectors/" + connector + "/tasks/" + std::to_string(task) + "/status");
  return r.status == 200 ? r.body.value("state", "") : "";
}

}  // namespace

TEST(RestApi, AnswersWithConnectsShapesAndStatusCodes) {
  TempDir dir;
  std::string in = unique_topic("rest-in");
  dir.write("in/a.log", "a1\na2\n");
  FerryInstance ferry(dir);
  ferry.add_connector("lines-in", file_source(in, dir / "in/*.log"));
  ferry.add_connector("lines-out", test_sink_toml(in, dir / "out.txt"));
  ferry.add_connector("secretive", "plugin = \"test-source\"\ntopic = \"" + in +
                                       "-gen\"\n[config]\ncount = 0\npassword = \"hunter2\"\n");
  ferry.start();
  RestClient rest = connect(ferry);
  ASSERT_TRUE(wait_until([&] { return read_file(dir / "out.txt") == "a1\na2\n"; }, 60s))
      << ferry.log();

  auto root = rest.get("/");
  EXPECT_EQ(root.status, 200);
  EXPECT_TRUE(root.body.contains("version")) << root.text;

  auto list = rest.get("/connectors");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, json::parse(R"(["lines-in","lines-out","secretive"])")) << list.text;

  auto expanded = rest.get("/connectors?expand=status&expand=info");
  ASSERT_EQ(expanded.status, 200) << expanded.text;
  EXPECT_EQ(expanded.body["lines-in"]["status"]["connector"]["state"], "RUNNING");
  EXPECT_EQ(expanded.body["lines-out"]["info"]["type"], "sink");
  EXPECT_EQ(expanded.body["lines-out"]["info"]["config"]["connector.class"], "test-sink");

  auto info = rest.get("/connectors/lines-in");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.body["name"], "lines-in");
  EXPECT_EQ(info.body["type"], "source");
  EXPECT_EQ(info.body["tasks"], json::parse(R"([{"connector":"lines-in","task":0}])"));
  EXPECT_EQ(info.body["config"]["topic"], in);

  auto config = rest.get("/connectors/lines-out/config");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.body["topics"], in);
  EXPECT_EQ(config.body["tasks.max"], "1");
  // Secrets stay out of REST output.
  auto secretive = rest.get("/connectors/secretive/config");
  EXPECT_EQ(secretive.body["password"], "********") << secretive.text;
  for (const char* path :
       {"/connectors/secretive", "/connectors/secretive/tasks", "/connectors?expand=info"})
    EXPECT_EQ(rest.get(path).text.find("hunter2"), std::string::npos) << path;

  auto tasks = rest.get("/connectors/lines-out/tasks");
  ASSERT_EQ(tasks.status, 200);
  ASSERT_EQ(tasks.body.size(), 1u);
  EXPECT_EQ(tasks.body[0]["id"], json::parse(R"({"connector":"lines-out","task":0})"));

  auto status = rest.get("/connectors/lines-in/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.body["connector"]["state"], "RUNNING");
  EXPECT_EQ(status.body["connector"]["worker_id"], ferry.rest_address());
  EXPECT_EQ(status.body["tasks"][0]["state"], "RUNNING");
  EXPECT_EQ(task_state(rest, "lines-in"), "RUNNING");

  auto missing = rest.get("/connectors/nope/status");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], 404);
  EXPECT_EQ(missing.body["message"], "Connector nope not found");
  EXPECT_EQ(rest.get("/connectors/lines-in/tasks/7/status").status, 404);
  EXPECT_EQ(rest.get("/no/such/path").body["error_code"], 404);

  // Configurations are files here: creating one over REST is refused with a pointer.
  auto create = rest.post("/connectors", R"({"name":"x","config":{}})");
  EXPECT_EQ(create.status, 405);
  EXPECT_NE(create.body["message"].get<std::string>().find("connectors_dir"), std::string::npos);

  auto plugins = rest.get("/connector-plugins");
  ASSERT_EQ(plugins.status, 200);
  bool found = false;
  for (const auto& p : plugins.body)
    if (p["class"] == "file-source" && p["type"] == "source") found = true;
  EXPECT_TRUE(found) << plugins.text;

  auto good = rest.put("/connector-plugins/test-sink/config/validate",
                       R"({"connector.class":"test-sink","name":"v","topics":"t",
                           "output":"/tmp/x","retriable_flushes":"2"})");
  ASSERT_EQ(good.status, 200) << good.text;
  EXPECT_EQ(good.body["error_count"], 0) << good.text;
  auto bad = rest.put("/connector-plugins/test-sink/config/validate",
                      R"({"connector.class":"test-sink","retriable_flushes":"many",
                          "outptu":"/tmp/x"})");
  ASSERT_EQ(bad.status, 200) << bad.text;
  EXPECT_EQ(bad.body["error_count"], 3) << bad.text;  // wrong type, missing, unknown key
  std::map<std::string, size_t> errors;
  for (const auto& c : bad.body["configs"])
    errors[c["value"]["name"]] = c["value"]["errors"].size();
  EXPECT_EQ(errors["retriable_flushes"], 1u) << bad.text;
  EXPECT_EQ(errors["output"], 1u) << bad.text;
  EXPECT_EQ(errors["outptu"], 1u) << bad.text;
  EXPECT_EQ(rest.put("/connector-plugins/nope/config/validate", "{}").status, 404);

  auto health = rest.get("/health");
  EXPECT_EQ(health.body["status"], "healthy") << health.text;
  EXPECT_EQ(health.body["tasks"]["running"], 3) << health.text;
  EXPECT_EQ(rest.get("/health/live").status, 200);
  EXPECT_EQ(rest.get("/health/ready").body["status"], "ready");
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(RestApi, PauseStopAndResumeMoveNoRecordsMeanwhileAndSurviveARestart) {
  TempDir dir;
  std::string topic = unique_topic("rest-pause");
  dir.write("in/a.log", "1\n");
  FerryInstance ferry(dir);
  ferry.add_connector("src", file_source(topic, dir / "in/*.log"));
  ferry.start();
  RestClient rest = connect(ferry);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 1; }, 60s)) << ferry.log();

  // ferry restarted: the connector comes back in `state` and sends nothing past `offset`.
  auto restart_and_expect = [&](const std::string& state, int64_t offset) {
    ASSERT_EQ(ferry.stop(), 0) << ferry.log();
    std::filesystem::remove(dir / "state/rest.address");
    ferry.start();
    rest = connect(ferry);
    EXPECT_EQ(rest.get("/connectors/src/status").body["connector"]["state"], state);
    EXPECT_FALSE(wait_until([&] { return end_offset(topic) > offset; }, 2s));
  };

  EXPECT_EQ(rest.put("/connectors/src/pause").status, 202);
  EXPECT_EQ(rest.get("/connectors/src/status").body["connector"]["state"], "PAUSED");
  EXPECT_EQ(task_state(rest, "src"), "PAUSED");
  append(dir / "in/a.log", "2\n");
  // Absence over a window much longer than the source's 100 ms scan interval.
  EXPECT_FALSE(wait_until([&] { return end_offset(topic) > 1; }, 2s));

  // The paused state outlives ferry.
  restart_and_expect("PAUSED", 1);

  EXPECT_EQ(rest.put("/connectors/src/resume").status, 202);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 2; }, 60s)) << ferry.log();
  EXPECT_EQ(task_state(rest, "src"), "RUNNING");

  // STOPPED: no tasks at all (their offsets committed), across a restart too.
  EXPECT_EQ(rest.put("/connectors/src/stop").status, 204);
  auto stopped = rest.get("/connectors/src/status");
  EXPECT_EQ(stopped.body["connector"]["state"], "STOPPED");
  EXPECT_TRUE(stopped.body["tasks"].empty()) << stopped.text;
  append(dir / "in/a.log", "3\n");
  restart_and_expect("STOPPED", 2);
  EXPECT_EQ(rest.put("/connectors/src/resume").status, 202);
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) == 3; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // Every line exactly once, in order.
  std::vector<std::string> values;
  for (const auto& m : kcat_consume(topic)) values.push_back(m.value.value_or(""));
  EXPECT_EQ(values, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(RestApi, AFailedTaskShowsItsErrorAndRestartsOnRequest) {
  TempDir dir;
  std::string topic = topic_with_lines(dir, "rest-fail", "x1\nx2\nx3\n");
  FerryInstance ferry(dir);
  // The sink's output directory does not exist yet: every flush fails. After one
  // restart the supervisor gives up and leaves the task FAILED.
  ferry.add_connector(
      "out", test_sink_toml(topic, dir / "later/out.txt", "", "[errors]\nmax_restarts = 1\n"));
  ferry.start();
  RestClient rest = connect(ferry);
  auto trace = [&] {
    auto status = rest.get("/connectors/out/status");
    return status.status == 200 ? status.body["tasks"][0].value("trace", "") : "";
  };
  ASSERT_TRUE(wait_until(
      [&] { return trace().find("gave up after 1 restarts") != std::string::npos; }, 60s))
      << ferry.log();
  EXPECT_EQ(task_state(rest, "out"), "FAILED");
  EXPECT_NE(trace().find("test: write failed"), std::string::npos) << trace();
  auto metrics = rest.get("/metrics").text;
  EXPECT_NE(metrics.find("ferry_task_failures_total{connector=\"out\",task=\"0\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ferry_task_state{connector=\"out\",task=\"0\",state=\"FAILED\"} 1"),
            std::string::npos)
      << metrics;

  std::filesystem::create_directories(dir / "later");
  auto restart = rest.post("/connectors/out/restart?includeTasks=true&onlyFailed=true");
  EXPECT_EQ(restart.status, 202) << restart.text;
  EXPECT_EQ(restart.body["name"], "out") << restart.text;
  ASSERT_TRUE(wait_until([&] { return read_file(dir / "later/out.txt") == "x1\nx2\nx3\n"; }, 60s))
      << ferry.log();
  EXPECT_EQ(task_state(rest, "out"), "RUNNING");

  // Restarting a single task, and the connector alone (nothing to do: 204).
  EXPECT_EQ(rest.post("/connectors/out/tasks/0/restart").status, 204);
  EXPECT_EQ(rest.post("/connectors/out/tasks/3/restart").status, 404);
  EXPECT_EQ(rest.post("/connectors/out/restart").status, 204);
  ASSERT_TRUE(wait_until([&] { return task_state(rest, "out") == "RUNNING"; }, 60s));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(read_file(dir / "later/out.txt"), "x1\nx2\nx3\n");
}

TEST(RestApi, ReloadLoggersAndTheBearerToken) {
  TempDir dir;
  std::string a = unique_topic("rest-reload-a"), b = unique_topic("rest-reload-b");
  dir.write("in/a.log", "a\n");
  dir.write("in/b.log", "b\n");
  dir.write("token", "s3cret-token\n");
  FerryInstance ferry(dir);
  {
    std::string worker = read_file(ferry.worker_file());
    std::string rest = "[rest]\n";
    worker.insert(worker.find(rest) + rest.size(),
                  "token_file = \"" + (dir / "token").string() + "\"\n");
    dir.write("ferry.toml", worker);
  }
  ferry.add_connector("a", file_source(a, dir / "in/a.log"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();

  RestClient anonymous(ferry.rest_address());
  auto denied = anonymous.get("/connectors");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.body["error_code"], 401);
  RestClient rest(ferry.rest_address(), "s3cret-token");
  ASSERT_TRUE(wait_until([&] { return rest.get("/health").status == 200; }, 30s));

  ferry.add_connector("b", file_source(b, dir / "in/b.log"));
  auto reload = rest.post("/reload");
  EXPECT_EQ(reload.status, 200) << reload.text;
  EXPECT_EQ(reload.body["started"], json::parse(R"(["b"])")) << reload.text;
  ASSERT_TRUE(wait_until([&] { return end_offset(b) == 1; }, 60s)) << ferry.log();

  ferry.add_connector("b", "plugin = \"file-source\"\ntopic = \"x\"\n[config]\npathz = 1\n");
  auto rejected = rest.post("/reload");
  EXPECT_EQ(rejected.status, 400) << rejected.text;
  EXPECT_NE(rejected.body["message"].get<std::string>().find("unknown key \"pathz\""),
            std::string::npos)
      << rejected.text;
  EXPECT_EQ(rest.get("/connectors").body, json::parse(R"(["a","b"])"));

  auto loggers = rest.get("/admin/loggers");
  ASSERT_EQ(loggers.status, 200);
  EXPECT_EQ(loggers.body["a/0"]["level"], "INFO") << loggers.text;
  auto changed = rest.put("/admin/loggers/a", R"({"level":"DEBUG"})");
  EXPECT_EQ(changed.status, 200) << changed.text;
  EXPECT_EQ(changed.body, json::parse(R"(["a/0"])")) << changed.text;
  EXPECT_EQ(rest.get("/admin/loggers/a/0").body["level"], "DEBUG");
  EXPECT_EQ(rest.get("/admin/loggers/b/0").body["level"], "INFO");
  EXPECT_EQ(rest.put("/admin/loggers/a", R"({"level":"LOUD"})").status, 400);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(RestApi, TenReloadsOfALiveStreamLoseAndDuplicateNothing) {
  TempDir dir;
  std::string topic = unique_topic("reload-live");
  dir.write("in/live.log", "");
  FerryInstance ferry(dir);
  auto source = [&](int generation) {
    // A comment is enough to change the file, so each reload restarts the connector.
    return "# generation " + std::to_string(generation) + "\n" +
           file_source(topic, dir / "in/*.log");
  };
  auto sink = [&](int generation) {
    return "# generation " + std::to_string(generation) + "\n" +
           test_sink_toml(topic, dir / "out.txt");
  };
  ferry.add_connector("live-in", source(0));
  ferry.add_connector("live-out", sink(0));
  ferry.start();
  RestClient rest = connect(ferry);

  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::ofstream out(dir / "in/live.log", std::ios::app);
    while (writing) {
      out << "line-" << ++written << "\n" << std::flush;
      std::this_thread::sleep_for(1ms);  // pacing the stream, not synchronisation
    }
  });
  for (int generation = 1; generation <= 10; ++generation) {
    int64_t before = end_offset(topic);
    ASSERT_TRUE(wait_until([&] { return end_offset(topic) > before + 50; }, 60s)) << ferry.log();
    // Alternately the source, the sink, both, and a connector that comes and goes.
    if (generation % 3 != 2) ferry.add_connector("live-in", source(generation));
    if (generation % 3 != 1) ferry.add_connector("live-out", sink(generation));
    if (generation % 2 == 0) {
      ferry.add_connector("extra", test_sink_toml(topic, dir / "extra.txt"));
    } else {
      std::filesystem::remove(dir / "connectors.d/extra.toml");
    }
    auto r = rest.post("/reload");
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_FALSE(r.body["restarted"].empty()) << r.text;
  }
  writing = false;
  writer.join();
  const int total = written;
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= total; }, 60s)) << ferry.log();
  auto sunk = [&] {
    std::string s = read_file(dir / "out.txt");
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  };
  ASSERT_TRUE(wait_until([&] { return sunk() >= total; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // Kafka and the sink's file each hold line-1..line-N exactly once, in order.
  std::string expected;
  for (int i = 1; i <= total; ++i) expected += "line-" + std::to_string(i) + "\n";
  std::string in_kafka;
  for (const auto& m : kcat_consume(topic)) in_kafka += m.value.value_or("") + "\n";
  EXPECT_EQ(in_kafka, expected);
  EXPECT_EQ(read_file(dir / "out.txt"), expected);
  EXPECT_NE(ferry.log().find("stopping connector live-in"), std::string::npos);
  EXPECT_NE(ferry.log().find("stopping connector live-out"), std::string::npos);
}

TEST(RestApi, TheConnectorsCommandDrivesItFromATerminal) {
  TempDir dir;
  std::string topic = unique_topic("cli-connectors");
  dir.write("in/a.log", "1\n");
  FerryInstance ferry(dir);
  ferry.add_connector("src", file_source(topic, dir / "in/*.log"));
  ferry.start();
  RestClient rest = connect(ferry);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {ferry_binary(), "connectors"});
    args.insert(args.end(), {"-c", ferry.worker_file().string()});
    return run_command(args);
  };
  ASSERT_TRUE(
      wait_until([&] { return cli({"list"}).out.find("1/1 RUNNING") != std::string::npos; }, 30s))
      << cli({"list"}).out << cli({"list"}).err;
  auto paused = cli({"pause", "src"});
  EXPECT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_NE(paused.out.find("src (source): PAUSED"), std::string::npos) << paused.out;
  auto status = cli({"status", "src", "--json"});
  EXPECT_EQ(json::parse(status.out)["connector"]["state"], "PAUSED") << status.out;
  EXPECT_EQ(cli({"resume", "src"}).exit_code, 0);
  auto restarted = cli({"restart", "src"});
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_NE(restarted.out.find("task 0:"), std::string::npos) << restarted.out;
  auto missing = cli({"status", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("Connector nope not found"), std::string::npos) << missing.err;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto down = cli({"list"});
  EXPECT_EQ(down.exit_code, 2);  // nothing listens any more
}

}  // namespace ferry::test
