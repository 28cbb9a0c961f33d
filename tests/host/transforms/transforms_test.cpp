// Every built-in transform: what it does to a record, and how a bad setting is caught.
#include <gtest/gtest.h>

#include <array>
#include <string_view>

#include <toml++/toml.h>

#include "config/connector_config.hpp"
#include "transforms/transform.hpp"
#include "transforms/transform_chain.hpp"

namespace ferry::transforms {
namespace {

// Builds a transform from TOML settings as a [[transforms]] table would give them;
// `error` gets validation or construction problems.
std::unique_ptr<Transform> make(const std::string& type, const std::string& settings,
                                std::string* error = nullptr) {
  const TransformSpec* spec = find_transform(type);
  if (spec == nullptr) throw std::runtime_error("no transform " + type);
  toml::table t = toml::parse(settings);
  config::Diagnostics diags;
  static constexpr std::array<std::string_view, 1> kType{"type"};
  auto options = config::validate_options(&t, spec->options, "test", "", diags, kType);
  std::string e = diags.str();
  std::unique_ptr<Transform> made;
  if (diags.empty()) made = spec->make(options, e);
  if (error != nullptr) *error = e;
  return made;
}

MutableRecord json_record(const std::string& value) {
  MutableRecord r;
  r.value = value;
  r.topic = "app.logs";
  r.timestamp_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  return r;
}

std::string run(Transform& t, MutableRecord& r) {
  EXPECT_TRUE(t.apply(r));
  r.finish();
  return r.value.value_or("<tombstone>");
}

}  // namespace

TEST(Transforms, InsertFieldSetsStringsAndJsonCreatingParents) {
  auto s = make("insert_field", R"(field = "meta.env"
value = "prod")");
  auto r = json_record(R"({"a":1})");
  EXPECT_EQ(run(*s, r), R"({"a":1,"meta":{"env":"prod"}})");
  auto j = make("insert_field", R"(field = "n"
value = "[1,2]"
value_type = "json")");
  auto r2 = json_record(R"({})");
  EXPECT_EQ(run(*j, r2), R"({"n":[1,2]})");
  auto plain = json_record("not json");
  EXPECT_EQ(run(*s, plain), "not json");  // non-objects pass unchanged
  std::string error;
  EXPECT_EQ(make("insert_field", R"(field = "n"
value = "{oops"
value_type = "json")",
                 &error),
            nullptr);
  EXPECT_NE(error.find("value is not JSON"), std::string::npos) << error;
}

TEST(Transforms, DropFieldRemovesNestedFields) {
  auto t = make("drop_field", R"(fields = ["password", "user.ssn", "missing.x"])");
  auto r = json_record(R"({"password":"x","user":{"name":"a","ssn":"1"},"keep":true})");
  EXPECT_EQ(run(*t, r), R"({"keep":true,"user":{"name":"a"}})");
}

TEST(Transforms, RenameFieldMovesAcrossLevels) {
  auto t = make("rename_field", R"(from = "msg"
to = "event.message")");
  auto r = json_record(R"({"msg":"hi","level":"info"})");
  EXPECT_EQ(run(*t, r), R"({"event":{"message":"hi"},"level":"info"})");
  auto absent = json_record(R"({"level":"info"})");
  EXPECT_EQ(run(*t, absent), R"({"level":"info"})");
}

TEST(Transforms, MaskFieldReplacesValuesOfAnyType) {
  auto t = make("mask_field", R"(fields = ["card", "user.pin"])");
  auto r = json_record(R"({"card":"4111","user":{"pin":1234},"ok":1})");
  EXPECT_EQ(run(*t, r), R"({"card":"****","ok":1,"user":{"pin":"****"}})");
}

TEST(Transforms, ValueToKeyTakesOneFieldRawOrSeveralAsObject) {
  auto one = make("value_to_key", R"(fields = ["id"])");
  auto r = json_record(R"({"id":"dev-7","t":1})");
  run(*one, r);
  EXPECT_EQ(r.key, "dev-7");
  auto num = json_record(R"({"id":42})");
  run(*one, num);
  EXPECT_EQ(num.key, "42");
  auto several = make("value_to_key", R"(fields = ["site", "id"])");
  auto r2 = json_record(R"({"id":7,"site":"a"})");
  run(*several, r2);
  EXPECT_EQ(r2.key, R"({"id":7,"site":"a"})");
  EXPECT_EQ(r2.value, R"({"id":7,"site":"a"})");  // the value is left alone
}

TEST(Transforms, FilterByHeaderFieldTopicAndTombstoneWithNegate) {
  auto by_header = make("filter", R"(predicate = "header"
name = "env"
pattern = "test.*")");
  auto r = json_record("{}");
  r.headers = {{"env", "testing"}};
  EXPECT_FALSE(by_header->apply(r));
  r.headers = {{"env", "prod"}};
  EXPECT_TRUE(by_header->apply(r));

  auto by_field = make("filter", R"(predicate = "field"
name = "level"
pattern = "debug|trace")");
  auto debug = json_record(R"({"level":"debug"})");
  auto error = json_record(R"({"level":"error"})");
  EXPECT_FALSE(by_field->apply(debug));
  EXPECT_TRUE(by_field->apply(error));

  auto keep_only_orders = make("filter", R"(predicate = "topic"
pattern = "orders\\..*"
negate = true)");
  auto orders = json_record("{}");
  orders.topic = "orders.eu";
  EXPECT_TRUE(keep_only_orders->apply(orders));
  auto other = json_record("{}");
  EXPECT_FALSE(keep_only_orders->apply(other));

  auto tombstones = make("filter", R"(predicate = "tombstone")");
  MutableRecord t;
  EXPECT_FALSE(tombstones->apply(t));
  auto v = json_record("x");
  EXPECT_TRUE(tombstones->apply(v));

  std::string problem;
  EXPECT_EQ(make("filter", R"(predicate = "header")", &problem), nullptr);
  EXPECT_NE(problem.find("needs name"), std::string::npos) << problem;
  EXPECT_EQ(make("filter", R"(predicate = "topic"
pattern = "(")",
                 &problem),
            nullptr);
  EXPECT_NE(problem.find("not a valid regex"), std::string::npos) << problem;
  EXPECT_EQ(make("filter", R"(predicate = "colour")", &problem), nullptr);
  EXPECT_FALSE(problem.empty());
}

TEST(Transforms, RegexRouterRewritesMatchingTopicsOnly) {
  auto t = make("regex_router", R"T(regex = "app\\.(.*)"
replacement = "logs-$1")T");
  auto r = json_record("{}");
  EXPECT_TRUE(t->apply(r));
  EXPECT_EQ(r.topic, "logs-logs");
  auto other = json_record("{}");
  other.topic = "metrics";
  EXPECT_TRUE(t->apply(other));
  EXPECT_EQ(other.topic, "metrics");
  auto suffix = make("regex_router", R"T(regex = "(.*)"
replacement = "$1-routed")T");
  EXPECT_TRUE(suffix->apply(other));
  EXPECT_EQ(other.topic, "metrics-routed");
}

TEST(Transforms, TimestampRouterUsesTheRecordTimeInUtc) {
  auto t = make("timestamp_router", "");
  auto r = json_record("{}");
  EXPECT_TRUE(t->apply(r));
  EXPECT_EQ(r.topic, "app.logs-20231114");
  auto hourly = make("timestamp_router", R"(topic_format = "{timestamp}.{topic}"
timestamp_format = "%Y-%m-%dT%H")");
  auto r2 = json_record("{}");
  EXPECT_TRUE(hourly->apply(r2));
  EXPECT_EQ(r2.topic, "2023-11-14T22.app.logs");
}

TEST(Transforms, InsertHeaderAppends) {
  auto t = make("insert_header", R"(header = "env"
value = "prod")");
  auto r = json_record("{}");
  EXPECT_TRUE(t->apply(r));
  ASSERT_NE(r.header("env"), nullptr);
  EXPECT_EQ(*r.header("env"), "prod");
}

TEST(Transforms, AChainParsesTheValueOnceAndStopsAtTheFirstDrop) {
  config::ConnectorConfig c;
  auto add = [&](const std::string& type, const std::string& settings) {
    const TransformSpec* spec = find_transform(type);
    toml::table t = toml::parse(settings);
    config::Diagnostics diags;
    static constexpr std::array<std::string_view, 1> kType{"type"};
    c.transforms.push_back(
        {type, config::validate_options(&t, spec->options, "test", "", diags, kType)});
    ASSERT_TRUE(diags.empty()) << diags.str();
  };
  add("drop_field", R"(fields = ["secret"])");
  add("filter", R"(predicate = "field"
name = "level"
pattern = "debug")");
  add("insert_field", R"(field = "via"
value = "ferry")");
  std::string error;
  auto chain = TransformChain::build(c, nullptr, error);
  ASSERT_NE(chain, nullptr);
  auto kept = json_record(R"({"level":"info","secret":"s"})");
  EXPECT_TRUE(chain->apply(kept));
  EXPECT_EQ(kept.value, R"({"level":"info","via":"ferry"})");
  auto dropped = json_record(R"({"level":"debug"})");
  EXPECT_FALSE(chain->apply(dropped));
  EXPECT_EQ(TransformChain::build(config::ConnectorConfig{}, nullptr, error), nullptr);
}

}  // namespace ferry::transforms
