// What ferry writes to stderr (the journal under systemd): one line per event, the
// connector and task on task lines, levels per component, JSON when asked, and no
// secret ever — neither in the log nor in REST replies.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(Logging, JsonLinesNameConnectorAndTaskAndNeverShowASecret) {
  TempDir dir;
  std::string topic = unique_topic("logging");
  const std::string plugin_secret = "pl4in-s3cret-value";
  const std::string kafka_secret = "k4fka-s3cret-value";
  const std::string file_secret = "f1le-s3cret-value";
  dir.write("kafka.password", kafka_secret + "\n");
  dir.write("plugin.password", file_secret + "\n");
  FerryInstance ferry(dir);
  {
    // [host] settings go into the generated worker file's [host] table.
    std::string worker = read_file(ferry.worker_file());
    worker.insert(worker.find("[host]\n") + 7,
                  "log_format = \"json\"\nlog_levels = [\"quiet=warn\", \"chatty=debug\"]\n");
    dir.write("ferry.toml", worker);
  }
  auto source = [&](const std::string& password, const std::string& kafka_password) {
    return "plugin = \"test-source\"\ntopic = \"" + topic +
           "\"\n[config]\ncount = 10\npassword = \"" + password +
           "\"\n[kafka]\n\"sasl.password\" = \"" + kafka_password + "\"\n";
  };
  ferry.add_connector("chatty", source(plugin_secret, kafka_secret));
  ferry.add_connector("quiet", source("${file:" + (dir / "plugin.password").string() + "}",
                                      "${file:" + (dir / "kafka.password").string() + "}"));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 20; }, 60s)) << ferry.log();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s));
  RestClient rest(ferry.rest_address());
  std::string replies;
  for (const char* path : {"/connectors?expand=info&expand=status", "/connectors/chatty/config",
                           "/connectors/quiet/config", "/connectors/quiet/tasks"})
    replies += rest.get(path).text;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  std::string log = ferry.log();
  for (const auto& secret : {plugin_secret, kafka_secret, file_secret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << "\n" << log;
    EXPECT_EQ(replies.find(secret), std::string::npos) << secret << "\n" << replies;
  }
  // The careless plugin's line is there, masked.
  EXPECT_NE(log.find("connecting with password ********"), std::string::npos) << log;

  std::istringstream lines(log);
  size_t task_lines = 0, debug_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;  // ASan or librdkafka writing directly
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    EXPECT_EQ(j["ts"].get<std::string>().back(), 'Z') << line;
    std::string component = j["component"];
    if (component == "chatty/0" || component == "quiet/0") {
      ++task_lines;
      EXPECT_EQ(j["connector"], component.substr(0, component.find('/'))) << line;
      EXPECT_EQ(j["task"], 0) << line;
    }
    if (j["level"] == "debug") {
      ++debug_lines;
      EXPECT_EQ(component, "chatty/0") << line;  // only chatty was raised to debug
    }
    // quiet was lowered to warn: no info lines from it.
    if (component == "quiet/0") {
      EXPECT_NE(j["level"], "info") << line;
    }
  }
  EXPECT_GE(task_lines, 2u) << log;
  EXPECT_GE(debug_lines, 1u) << log;
}

TEST(Logging, ABadLogLevelsEntryIsAConfigError) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nlog_levels = [\"worker:debug\"]\n");
  auto r = run_command({ferry_binary(), "validate", "-c", worker.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[host] log_levels: \"worker:debug\" is not COMPONENT=LEVEL"),
            std::string::npos)
      << r.err;
}

}  // namespace ferry::test
