#include "config/options.hpp"

#include <gtest/gtest.h>

#include <array>

#include "ferry/config.hpp"

namespace ferry::config {
namespace {

namespace o = ferry::opt;
constexpr std::array kSchema{
    o::list("paths", nullptr, "files", o::kRequired),
    o::one_of("mode", "tail|batch", "tail", "mode"),
    o::duration("interval", "1s", "interval", 10, 60'000),
    o::size("max", "1MiB", "max"),
    o::integer("tasks", "1", "tasks", 1, 8),
    o::boolean("flag", "false", "flag"),
    o::string("password", nullptr, "secret", o::kSecret),
};

Options check(const std::string& text, Diagnostics& diags) {
  static toml::table doc;  // nodes must outlive the Options' diagnostics
  doc = toml::parse(std::string_view(text), std::string_view("test.toml"));
  return validate_options(&doc, kSchema, "test.toml", "[config]", diags);
}

}  // namespace

TEST(Options, FillsDefaultsAndNormalisesUnits) {
  Diagnostics d;
  Options opts = check(R"(paths = ["/a/*.log"]
interval = "20s"
max = "64KiB")",
                       d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(opts.list("paths"), std::vector<std::string>{"/a/*.log"});
  EXPECT_EQ(opts.str("mode"), "tail");
  EXPECT_EQ(opts.integer("interval"), 20000);
  EXPECT_EQ(opts.integer("max"), 65536);
  EXPECT_FALSE(opts.boolean("flag"));
  EXPECT_FALSE(opts.has("password"));
}

TEST(Options, ReportsEveryErrorWithLineAndColumn) {
  Diagnostics d;
  check(R"(pathz = ["/a"]
mode = "tial"
interval = "5"
tasks = 99
flag = "yes")",
        d);
  std::string all = d.str();
  ASSERT_EQ(d.items().size(), 6u) << all;
  EXPECT_NE(all.find("test.toml:1:1: unknown key \"pathz\" in [config] (did you mean \"paths\"?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("missing required key \"paths\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.toml:2:8: [config] mode: \"tial\" is not one of tail|batch (did you "
                     "mean \"tail\"?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("test.toml:3:12: [config] interval: \"5\" is not a duration"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("test.toml:4:9: [config] tasks: 99 is out of range [1, 8]"), std::string::npos)
      << all;
  EXPECT_NE(all.find("test.toml:5:8: [config] flag: expected true or false, got a string"),
            std::string::npos)
      << all;
}

TEST(Options, SingleStringIsAOneElementList) {
  Diagnostics d;
  Options opts = check(R"(paths = "/only/one.log")", d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(opts.list("paths"), std::vector<std::string>{"/only/one.log"});
}

TEST(Options, SecretsAreMaskedInJson) {
  Diagnostics d;
  Options opts = check(R"(paths = ["/a"]
password = "s3cret")",
                       d);
  ASSERT_TRUE(d.empty()) << d.str();
  EXPECT_EQ(opts.to_json()["password"], "********");
  EXPECT_EQ(opts.to_json(false)["password"], "s3cret");
  EXPECT_EQ(opts.secrets(), std::vector<std::string>{"s3cret"});
}

TEST(Options, AbiViewCarriesCanonicalValues) {
  Diagnostics d;
  Options opts = check(R"(paths = ["/a", "/b"])", d);
  AbiConfig abi(opts);
  ferry::Config cfg(abi.data(), abi.size());
  EXPECT_EQ(cfg.list("paths").size(), 2u);
  EXPECT_EQ(cfg.duration("interval").count(), 1000);
  EXPECT_EQ(cfg.size("max"), 1048576u);
  EXPECT_EQ(cfg.str("mode"), "tail");
  EXPECT_FALSE(cfg.has("password"));
}

TEST(Options, ClosestMatchIgnoresFarWords) {
  EXPECT_EQ(closest_match("topci", {"topic", "topics", "tasks"}), "topic");
  EXPECT_EQ(closest_match("zzzzzz", {"topic", "tasks"}), "");
}

}  // namespace ferry::config
