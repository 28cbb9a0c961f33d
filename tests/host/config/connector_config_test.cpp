#include "config/connector_config.hpp"

#include <gtest/gtest.h>

#include "config/config_loader.hpp"
#include "config/worker_config.hpp"
#include "ferry/config.hpp"
#include "support/kafka_env.hpp"
#include "support/temp_dir.hpp"
#include "transforms/transform.hpp"

namespace ferry::config {
namespace {

constexpr ferry_option kOpts[] = {
    ferry::opt::list("paths", nullptr, "files", ferry::opt::kRequired),
    ferry::opt::string("token", nullptr, "secret", ferry::opt::kSecret),
};

ferry_plugin make_plugin(const char* name, ferry_plugin_kind kind) {
  ferry_plugin p{};
  p.struct_size = sizeof p;
  p.name = name;
  p.kind = kind;
  p.options = kOpts;
  p.option_count = 2;
  return p;
}

const ferry_plugin kSource = make_plugin("file-source", FERRY_KIND_SOURCE);
const ferry_plugin kSink = make_plugin("file-sink", FERRY_KIND_SINK);

PluginLookup lookup() {
  PluginLookup l;
  l.find = [](std::string_view n) -> const ferry_plugin* {
    if (n == "file-source") return &kSource;
    if (n == "file-sink") return &kSink;
    return nullptr;
  };
  l.names = {"file-source", "file-sink"};
  l.transforms = transforms::transform_schemas();
  return l;
}

}  // namespace

TEST(ConnectorConfig, LoadsAValidFileWithDefaults) {
  test::TempDir dir;
  auto p = dir.write("app-logs.toml", R"(plugin = "file-source"
topic = "app.logs"
[config]
paths = ["/var/log/app/*.log"]
[errors]
tolerance = "all"
dead_letter_topic = "app.dlq"
[[transforms]]
type = "insert_header"
header = "env"
value = "prod"
[kafka]
"compression.type" = "zstd"
)");
  Diagnostics d;
  ConnectorConfig c = load_connector_config(p, lookup(), d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(c.name, "app-logs");  // from the file stem
  EXPECT_EQ(c.topic, "app.logs");
  EXPECT_EQ(c.tasks, 1);
  EXPECT_TRUE(c.tolerate_all());
  EXPECT_EQ(c.retry_timeout_ms(), 300000);
  EXPECT_EQ(c.kafka.at("compression.type"), "zstd");
  ASSERT_EQ(c.transforms.size(), 1u);
  EXPECT_EQ(c.transforms[0].options.str("value"), "prod");
}

TEST(ConnectorConfig, ReportsAllProblemsOfAFile) {
  test::TempDir dir;
  auto p = dir.write("bad.toml", R"(plugin = "file-sorce"
topik = "x"
tasks = 0
[errors]
tolerance = "some"
[[transforms]]
type = "uppercase"
)");
  Diagnostics d;
  load_connector_config(p, lookup(), d);
  std::string all = d.str();
  EXPECT_NE(all.find("bad.toml:1:10: unknown plugin \"file-sorce\", did you mean \"file-source\"?"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.toml:2:1: unknown key \"topik\" (did you mean \"topic\"?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.toml:3:9: tasks: 0 is out of range [1, 256]"), std::string::npos) << all;
  EXPECT_NE(all.find("[errors] tolerance: \"some\" is not one of none|all"), std::string::npos)
      << all;
  EXPECT_NE(all.find("[[transforms]] unknown type \"uppercase\""), std::string::npos) << all;
}

TEST(ConnectorConfig, SourceNeedsTopicAndToleranceNeedsDeadLetterTopic) {
  test::TempDir dir;
  auto p = dir.write("c.toml", R"(plugin = "file-source"
[config]
paths = "/x"
[errors]
tolerance = "all"
)");
  Diagnostics d;
  load_connector_config(p, lookup(), d);
  std::string all = d.str();
  EXPECT_NE(all.find("needs topic"), std::string::npos) << all;
  EXPECT_NE(all.find("needs dead_letter_topic"), std::string::npos) << all;
}

TEST(ConnectorConfig, SyntaxErrorsAreLocated) {
  test::TempDir dir;
  auto p = dir.write("broken.toml", "plugin = \"file-source\"\ntopic = \n");
  Diagnostics d;
  load_connector_config(p, lookup(), d);
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_EQ(d.items()[0].line, 2u);
  EXPECT_NE(d.str().find("broken.toml:2:"), std::string::npos) << d.str();
}

TEST(ConnectorConfig, SecretsFromFilesAreMasked) {
  test::TempDir dir;
  auto secret = dir.write("token", "abc123\n");
  auto p = dir.write("c.toml",
                     "plugin = \"file-source\"\ntopic = \"t\"\n[config]\npaths = \"/x\"\n"
                     "token = \"${file:" +
                         secret.string() + "}\"\n");
  Diagnostics d;
  ConnectorConfig c = load_connector_config(p, lookup(), d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(c.config.str("token"), "abc123");
  EXPECT_EQ(c.config.to_json()["token"], "********");
}

TEST(WorkerConfig, ResolvesRelativePathsAgainstTheFile) {
  test::TempDir dir;
  auto p = dir.write("etc/ferry.toml", R"([host]
state_dir = "state"
connectors_dir = "connectors.d"
[kafka]
bootstrap.servers = "127.0.0.1:9092"
"linger.ms" = 10
)");
  Diagnostics d;
  WorkerConfig w = load_worker_config(p.string(), d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(w.state_dir, dir / "etc/state");
  EXPECT_EQ(w.connectors_dir, dir / "etc/connectors.d");
  EXPECT_EQ(w.kafka.at("bootstrap.servers"), "127.0.0.1:9092");  // dotted key flattened
  EXPECT_EQ(w.kafka.at("linger.ms"), "10");
  EXPECT_FALSE(w.embedded_broker());
}

TEST(WorkerConfig, UnknownSectionsAndKeysAreErrors) {
  test::TempDir dir;
  auto p = dir.write("ferry.toml", "[hots]\nid = \"x\"\n[host]\nstate_dri = \"/tmp\"\n");
  Diagnostics d;
  load_worker_config(p.string(), d);
  std::string all = d.str();
  EXPECT_NE(all.find("unknown section \"hots\" in worker file (did you mean [host]?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("unknown key \"state_dri\" in [host] (did you mean \"state_dir\"?)"),
            std::string::npos)
      << all;
}

TEST(ConfigLoader, DuplicateConnectorNamesAreRejected) {
  test::TempDir dir;
  auto a = dir.write("d/a.toml", "name = \"same\"\nplugin = \"test-source\"\ntopic = \"t\"\n");
  auto b = dir.write("d/b.toml", "name = \"same\"\nplugin = \"test-source\"\ntopic = \"t\"\n");
  loader::PluginCatalog catalog;
  catalog.load_directory(test::test_plugin_dir());
  Diagnostics d;
  auto loaded = load_connectors({a, b}, catalog, transforms::transform_schemas(), d);
  ASSERT_EQ(loaded.size(), 1u) << d.str();
  EXPECT_NE(d.str().find("b.toml: connector name \"same\" is already used by " + a.string()),
            std::string::npos)
      << d.str();
}

}  // namespace ferry::config
