// The command line as a user meets it: exit codes, located errors, plugin listings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {
namespace {

CommandResult ferry(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ferry_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"FERRY_CONFIG", ""}});
}

}  // namespace

TEST(Cli, VersionNamesTheAbi) {
  auto r = ferry({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("ferry 0.1.0 (plugin ABI 1.7"), std::string::npos) << r.out;
}

TEST(Cli, UnknownCommandIsAUsageError) {
  EXPECT_EQ(ferry({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(ferry({}).exit_code, 1);
}

TEST(Cli, PluginsListsTheBundledPluginsWithoutConfiguration) {
  auto r = ferry({"plugins", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> names;
  for (const auto& p : j) names.insert(p["name"]);
  EXPECT_TRUE(names.contains("file-source"));
  EXPECT_TRUE(names.contains("file-sink"));
  EXPECT_TRUE(names.contains("sensors"));
}

TEST(Cli, ShippedExampleFilesAreValid) {
  std::vector<std::string> args{"validate", "-c", source_dir() + "/configs/ferry.toml"};
  size_t examples = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(source_dir() + "/configs/connectors.d")) {
    if (e.path().extension() != ".example") continue;
    args.push_back(e.path().string());
    ++examples;
  }
  ASSERT_GE(examples, 2u);
  auto r = ferry(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok: worker"), std::string::npos) << r.out;
}

TEST(Cli, DescribeRendersTheSchemaAsMarkdownAndJson) {
  auto md = ferry({"plugins", "describe", "file-source", "--markdown"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| `paths` | list of strings | **required** |"), std::string::npos)
      << md.out;
  auto js = ferry({"plugins", "describe", "file-sink", "--json"});
  ASSERT_EQ(js.exit_code, 0);
  auto j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["kind"], "sink");
  EXPECT_EQ(j["options"][0]["name"], "path");
  EXPECT_EQ(ferry({"plugins", "describe", "nope"}).exit_code, 1);
}

TEST(Cli, ValidateAcceptsAGoodConfig) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nstate_dir = \"s\"\nconnectors_dir = \"c\"\n");
  dir.write("c/logs.toml",
            "plugin = \"file-source\"\ntopic = \"logs\"\n[config]\npaths = [\"/var/log/*.log\"]\n");
  auto r = ferry({"validate", "-c", worker.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 connector(s) are valid"), std::string::npos) << r.out;
}

TEST(Cli, ValidateReportsEveryErrorLocatedWithHints) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nstate_dir = \"s\"\nconnectors_dir = \"c\"\n");
  auto a = dir.write("c/a.toml",
                     "plugin = \"file-source\"\ntopic = \"t\"\n[config]\npaths = [\"/x\"]\n"
                     "mod = \"batch\"\n");
  auto b = dir.write("c/b.toml",
                     "plugin = \"file-sink\"\ntopics = [\"t\"]\n[config]\n"
                     "path = \"/out/{topc}.log\"\n");
  auto named = dir.write("named.toml",
                         "plugin = \"file-source\"\ntopic = \"t\"\n"
                         "[config]\npaths = \"/x\"\nscan_interval = \"soon\"\n");
  auto r = ferry({"validate", "-c", worker.string(), named.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find(a.string() + ":5:1: unknown key \"mod\" in [config] (did you mean \"mode\"?)"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(b.string() + ":3:1: [config] path template has unknown field {topc}"),
            std::string::npos)
      << r.err;
  EXPECT_NE(
      r.err.find(named.string() + ":5:17: [config] scan_interval: \"soon\" is not a duration"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("3 error(s)"), std::string::npos) << r.err;
}

TEST(Cli, FerryConfigEnvironmentNamesTheWorkerFile) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nstat_dir = \"s\"\n");
  auto r = run_command({ferry_binary(), "validate"}, {{"FERRY_CONFIG", worker.string()}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(worker.string() + ":2:1: unknown key \"stat_dir\""), std::string::npos)
      << r.err;
}

TEST(Cli, RunRefusesInvalidConfigWithExitCode1) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nstate_dir = \"s\"\n");
  auto bad = dir.write("bad.toml", "plugin = \"file-source\"\n");
  auto r = ferry({"run", "-c", worker.string(), bad.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs topic"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing required key \"paths\""), std::string::npos) << r.err;
}

TEST(Cli, IncompatiblePluginIsRefusedAndOthersStillWork) {
  TempDir dir;
  auto worker =
      dir.write("ferry.toml", "[host]\nstate_dir = \"s\"\nplugin_path = [\"" + test_plugin_dir() +
                                  "/incompatible\", \"" + test_plugin_dir() + "\"]\n");
  auto named = dir.write("t.toml", "plugin = \"test-source\"\ntopic = \"t\"\n");
  auto r = ferry({"validate", "-c", worker.string(), named.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("libferry_abi_mismatch.so refused: built for plugin ABI 99.0"),
            std::string::npos)
      << r.err;
}

TEST(Cli, StateDirThatCannotBeCreatedIsARuntimeFailure) {
  TempDir dir;
  dir.write("blocker", "a file where a directory should be");
  auto worker = dir.write("ferry.toml", "[host]\nstate_dir = \"blocker/state\"\n");
  auto r = ferry({"run", "-c", worker.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot create state_dir"), std::string::npos) << r.err;
}

}  // namespace ferry::test
