// Transform chains on the real broker: a source chain and a sink chain change and
// drop records, and a span whose records were partly filtered out still completes.
#include <gtest/gtest.h>

#include <set>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/span_events.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(Transforms, SourceAndSinkChainsChangeAndDropRecordsAndSpansStillComplete) {
  TempDir dir;
  std::string topic = unique_topic("transforms");
  std::string span_topic = unique_topic("transforms-spans");
  std::string lines;
  for (int i = 1; i <= 10; ++i)
    lines +=
        json{{"id", i}, {"level", i % 3 == 0 ? "debug" : "info"}, {"card", "4111-1111"}}.dump() +
        "\n";
  dir.write("in/events.json", lines);
  FerryInstance ferry(dir, "[spans]\ntopic = \"" + span_topic + "\"\n");
  ferry.add_connector(
      "src", "plugin = \"file-source\"\ntopic = \"" + topic + "\"\n[config]\npaths = [\"" +
                 (dir / "in/*.json").string() +
                 "\"]\nmode = \"batch\"\nscan_interval = \"100ms\"\n[span]\nenabled = true\n"
                 "[[transforms]]\ntype = \"filter\"\npredicate = \"field\"\nname = \"level\"\n"
                 "pattern = \"debug\"\n"
                 "[[transforms]]\ntype = \"mask_field\"\nfields = [\"card\"]\n"
                 "[[transforms]]\ntype = \"value_to_key\"\nfields = [\"id\"]\n"
                 "[[transforms]]\ntype = \"regex_router\"\nregex = \"(.*)\"\n"
                 "replacement = \"$1-routed\"\n");
  ferry.add_connector("sink", test_sink_toml(topic + "-routed", dir / "out.txt", "",
                                             "[[transforms]]\ntype = \"insert_field\"\n"
                                             "field = \"via\"\nvalue = \"ferry\"\n"
                                             "[[transforms]]\ntype = \"filter\"\n"
                                             "predicate = \"field\"\nname = \"id\"\n"
                                             "pattern = \"1\"\n"));
  ferry.start();

  // 10 lines, 3 debug ones filtered at the source: 7 records, keyed by id, masked.
  std::vector<json> events;
  ASSERT_TRUE(wait_for_completions(span_topic, "ferry-sink", 1, 90s, events)) << ferry.log();
  auto records = kcat_consume(topic + "-routed");
  ASSERT_EQ(records.size(), 7u);
  std::set<std::string> keys;
  for (const auto& m : records) {
    json v = json::parse(m.value.value_or("null"));
    EXPECT_EQ(v["card"], "****") << *m.value;
    EXPECT_EQ(v["level"], "info") << *m.value;
    keys.insert(m.key.value_or(""));
  }
  EXPECT_EQ(keys, (std::set<std::string>{"1", "2", "4", "5", "7", "8", "10"}));
  EXPECT_EQ(end_offset(topic), 0);  // routed away from the configured topic

  // The span covers the file: its count is what reached Kafka, and the sink (which
  // dropped id 1 itself) completed it.
  auto delivered = of_type(events, "span.delivered");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]["count"], 7) << delivered[0].dump();
  ASSERT_TRUE(wait_until([&] { return read_file(dir / "out.txt").size() > 0; }, 30s));
  std::string out = read_file(dir / "out.txt");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 6) << out;
  EXPECT_EQ(out.find("\"id\":1,"), std::string::npos) << out;
  EXPECT_NE(out.find("\"via\":\"ferry\""), std::string::npos) << out;
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(Transforms, BadTransformSettingsAreConfigErrorsWithTheirPlace) {
  TempDir dir;
  auto file = dir.write("c.toml",
                        "plugin = \"file-source\"\ntopic = \"t\"\n[config]\npaths = [\"/x\"]\n"
                        "[[transforms]]\ntype = \"regex_router\"\nregex = \"(\"\n"
                        "replacement = \"x\"\n"
                        "[[transforms]]\ntype = \"filtr\"\n");
  auto r = run_command({ferry_binary(), "validate", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("c.toml:5:1: [[transforms]] regex_router: regex is not valid"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("unknown type \"filtr\" (did you mean \"filter\"?)"), std::string::npos)
      << r.err;
}

TEST(Transforms, ATransformPluginChangesDropsAndDeadLettersRecords) {
  TempDir dir;
  std::string topic = unique_topic("plugin-transform");
  std::string dlq = topic + ".dlq";
  dir.write("in/words.txt", "hello\nplease drop\nbad apple\nworld\n");
  FerryInstance ferry(dir);
  ferry.add_connector("src", "plugin = \"file-source\"\ntopic = \"" + topic +
                                 "\"\n[config]\npaths = [\"" + (dir / "in/*.txt").string() +
                                 "\"]\nscan_interval = \"100ms\"\nkey = \"none\"\n"
                                 "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" +
                                 dlq +
                                 "\"\n[[transforms]]\ntype = \"test-upper\"\n"
                                 "drop_containing = \"drop\"\nfail_containing = \"bad\"\n"
                                 "mark_header = \"upper\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 2 && end_offset(dlq) >= 1; }, 60s))
      << ferry.log();
  auto out = kcat_consume(topic);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, "HELLO");
  EXPECT_EQ(out[1].value, "WORLD");
  EXPECT_EQ(out[0].headers["upper"], "1");
  auto dead = kcat_consume(dlq);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, "bad apple");  // the record as it was before the chain
  EXPECT_NE(dead[0].headers["ferry.error.reason"].find("test-upper: cannot transform"),
            std::string::npos)
      << dead[0].headers["ferry.error.reason"];
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  // Its offset moved past all four lines: a restart sends nothing again.
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("source task started") != std::string::npos; }, 30s));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(kcat_consume(topic).size(), 2u);
}

TEST(Transforms, ATransformPluginIsRefusedAsAConnectorAndASourceAsATransform) {
  TempDir dir;
  auto worker = dir.write("ferry.toml", "[host]\nplugin_path = [\"" + test_plugin_dir() + "\"]\n");
  auto file = dir.write("c.toml", "plugin = \"test-upper\"\ntopic = \"t\"\n");
  auto other = dir.write("d.toml",
                         "plugin = \"test-source\"\ntopic = \"t\"\n[[transforms]]\n"
                         "type = \"test-source\"\n");
  auto r = run_command(
      {ferry_binary(), "validate", "-c", worker.string(), file.string(), other.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("plugin \"test-upper\" is a transform"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("plugin \"test-source\" is a source, not a transform"), std::string::npos)
      << r.err;
}

}  // namespace ferry::test
