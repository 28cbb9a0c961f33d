// Collector mode ([spans.collector]) on the real broker: kafka-eb-collector's README
// examples, and the holes of that project fixed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kGroup = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
const std::string kA = "A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
const std::string kB = "366B21B5-E499-40E1-882A-B3EC99B27E47";
const std::string kC = "11ACC3BA-F0E5-4962-BC00-0E54497AB296";

std::string create(const std::string& id, int ttl, const std::string& payload = "payload") {
  return json{{"id", id},
              {"type", "EventGroupCollectorCreate"},
              {"expected", {kA, kB, kC}},
              {"ttl", ttl},
              {"payload", {{"group", payload}}}}
      .dump();
}

std::string done(const std::string& group, const std::string& entity, const json& result) {
  return json{{"id", entity},
              {"type", "EventGroupCollectorEntityDone"},
              {"group", group},
              {"result", result}}
      .dump();
}

std::string failed(const std::string& group, const std::string& entity, const std::string& error) {
  return json{
      {"id", entity}, {"type", "EventGroupCollectorEntityDone"}, {"group", group}, {"error", error}}
      .dump();
}

const json kResultA = {{"job", "A"}, {"bar", true}};
const json kResultB = {{"job", "B"}, {"bar", true}};
const json kResultC = {{"job", "C"}, {"bar", {{"buzz", 42}}}};

class Collector : public ::testing::Test {
 protected:
  void SetUp() override {
    topic_ = unique_topic("eventbus-collector");
    // (Inside the generated [kafka] table.) A killed member would otherwise hold its
    // partitions for the default 45 s session timeout after the restart.
    worker_ = "\"session.timeout.ms\" = \"6000\"\n[spans]\ntopic = \"" + unique_topic("spans") +
              "\"\n[spans.collector]\nenabled = true\ntopic = \"" + topic_ + "\"\n";
  }

  void send(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    kcat_produce_lines(topic_,
                       dir_.write("send-" + std::to_string(sent_++) + ".jsonl", text).string());
  }

  // Outputs (Success/Failure) in the topic, for group `id`.
  std::vector<json> outputs(const std::string& id) {
    std::vector<json> out;
    for (const auto& m : kcat_consume(topic_)) {
      auto j = json::parse(m.value.value_or(""), nullptr, false);
      // (Compared as JSON: a test may put fields of any type on the topic.)
      if (!j.is_object()) continue;
      if ((j["type"] == "EventGroupCollectorSuccess" ||
           j["type"] == "EventGroupCollectorFailure") &&
          j["id"] == id)
        out.push_back(j);
    }
    return out;
  }

  std::vector<json> wait_outputs(const std::string& id, size_t n = 1) {
    std::vector<json> out;
    wait_until(
        [&] {
          out = outputs(id);
          return out.size() >= n;
        },
        60s, 200ms);
    return out;
  }

  static json without_times(json j) {
    j.erase("created");
    j.erase("resolved");
    return j;
  }

  TempDir dir_;
  std::string topic_, worker_;
  int sent_ = 0;
};

}  // namespace

TEST_F(Collector, SeedExamplesProduceTheSameOutputs) {
  FerryInstance ferry(dir_, worker_);
  ferry.start();
  // Example 1: the group and its three jobs.
  send({create(kGroup, 120), done(kGroup, kA, kResultA), done(kGroup, kB, kResultB),
        done(kGroup, kC, kResultC)});
  auto out = wait_outputs(kGroup);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(without_times(out[0]),
            json({{"type", "EventGroupCollectorSuccess"},
                  {"id", kGroup},
                  {"results", {{kC, kResultC}, {kB, kResultB}, {kA, kResultA}}},
                  {"payload", {{"group", "payload"}}}}));
  EXPECT_TRUE(out[0].contains("created") && out[0].contains("resolved"));

  // Example 2: a job propagates its failure to the group.
  std::string g2 = "2" + kGroup.substr(1);
  send({create(g2, 120), done(g2, kA, kResultA), done(g2, kB, kResultB),
        failed(g2, kC, "Error while processing operation. Insufficient space on bounded volume")});
  out = wait_outputs(g2);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(
      without_times(out[0]),
      json({{"type", "EventGroupCollectorFailure"},
            {"id", g2},
            {"error", "Error while processing operation. Insufficient space on bounded volume"},
            {"results", {{kC, nullptr}, {kB, kResultB}, {kA, kResultA}}},
            {"payload", {{"group", "payload"}}}}));

  // Example 3: the time runs out.
  std::string g3 = "3" + kGroup.substr(1);
  send({create(g3, 1)});
  out = wait_outputs(g3);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(without_times(out[0]), json({{"type", "EventGroupCollectorFailure"},
                                         {"id", g3},
                                         {"entity", g3},
                                         {"error", "Operation timed out after 1 seconds"},
                                         {"results", json::object()},
                                         {"payload", {{"group", "payload"}}}}));
  // Garbage on the topic is skipped, not fatal.
  send({"not json", R"({"type":"EventGroupCollectorEntityDone"})"});
  EXPECT_TRUE(
      wait_until([&] { return ferry.log().find("ignoring message") != std::string::npos; }, 30s))
      << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(Collector, MessagesOfTheWrongShapeAreSkippedNotFatal) {
  FerryInstance ferry(dir_, worker_);
  ferry.start();
  std::string g = "W" + kGroup.substr(1);
  send({R"({"type":5})", R"({"type":["EventGroupCollectorCreate"]})",
        R"({"type":"EventGroupCollectorCreate","id":{"x":1}})", "[1,2,3]", R"("text")", "null",
        R"({"type":"EventGroupCollectorEntityDone","group":["W"],"id":"x"})"});
  // Fields of odd types in an otherwise good group: a ttl that is no number takes the
  // default, an error that is no string is kept as JSON.
  json c = json::parse(create(g, 120));
  c["ttl"] = "soon";
  send({c.dump(), done(g, kA, kResultA), done(g, kB, kResultB),
        json{{"id", kC},
             {"type", "EventGroupCollectorEntityDone"},
             {"group", g},
             {"error", {{"code", 5}}}}
            .dump()});
  auto out = wait_outputs(g);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(out[0]["type"], "EventGroupCollectorFailure");
  EXPECT_EQ(out[0]["error"], R"({"code":5})");
  EXPECT_EQ(out[0]["results"][kA], kResultA);
  EXPECT_NE(ferry.log().find("ignoring message"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(Collector, FixesTheOriginalsHoles) {
  FerryInstance ferry(dir_, worker_);
  ferry.start();
  // A Done before its Create is kept.
  std::string early = "E" + kGroup.substr(1);
  send({done(early, kA, kResultA), done(early, kB, kResultB)});
  send({create(early, 120), done(early, kC, kResultC)});
  // A duplicate Create changes nothing; a duplicate Done does not overwrite.
  std::string dup = "D" + kGroup.substr(1);
  send({create(dup, 120, "first"), done(dup, kA, kResultA), create(dup, 120, "second"),
        done(dup, kA, json{{"job", "A"}, {"bar", false}}), done(dup, kB, kResultB),
        done(dup, kC, kResultC)});
  // A late Done after the group resolved produces nothing more.
  send({done(dup, kC, kResultA)});

  auto out = wait_outputs(early);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(out[0]["type"], "EventGroupCollectorSuccess");
  EXPECT_EQ(out[0]["results"][kA], kResultA);

  out = wait_outputs(dup);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(out[0]["payload"]["group"], "first");
  EXPECT_EQ(out[0]["results"][kA], kResultA);
  EXPECT_EQ(out[0]["results"][kC], kResultC);
  ASSERT_TRUE(
      wait_until([&] { return ferry.log().find("late EntityDone") != std::string::npos; }, 30s))
      << ferry.log();
  EXPECT_EQ(outputs(dup).size(), 1u);
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST_F(Collector, StateSurvivesARestartInTheMiddleOfAGroup) {
  FerryInstance ferry(dir_, worker_);
  ferry.start();
  send({create(kGroup, 600), done(kGroup, kA, kResultA)});
  // Wait until the collector has saved the group (its state record exists), then crash.
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& m : kcat_consume(topic_ + ".ferry-state"))
          if (m.value && m.value->find(kA) != std::string::npos) return true;
        return false;
      },
      60s, 200ms))
      << ferry.log();
  ferry.kill9();
  ferry.start();
  send({done(kGroup, kB, kResultB), done(kGroup, kC, kResultC)});
  auto out = wait_outputs(kGroup);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(out[0]["type"], "EventGroupCollectorSuccess");
  EXPECT_EQ(out[0]["results"], json({{kA, kResultA}, {kB, kResultB}, {kC, kResultC}}));
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(outputs(kGroup).size(), 1u);
}

TEST_F(Collector, BrokerOutageMidGroupLosesNothingAndTimeoutsStillFire) {
  std::string kafka_dir = test_service_dir("kafka");
  ASSERT_FALSE(kafka_dir.empty()) << "needs the ctest services fixture";
  std::string kafka_sh = source_dir() + "/scripts/kafka.sh";
  const std::string expiring = "E0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
  FerryInstance ferry(dir_, worker_);
  ferry.start();
  send({create(kGroup, 600), done(kGroup, kA, kResultA), create(expiring, 5)});
  ASSERT_TRUE(wait_until(
      [&] {
        size_t saved = 0;
        for (const auto& m : kcat_consume(topic_ + ".ferry-state"))
          if (m.value && (m.value->find(kA) != std::string::npos ||
                          m.value->find(expiring) != std::string::npos))
            ++saved;
        return saved >= 2;
      },
      60s, 200ms))
      << ferry.log();

  // The broker freezes (SIGSTOP) past the consumer's session timeout and the expiring
  // group's ttl; the collector must ride it out, rejoin, and still decide both groups once.
  ASSERT_EQ(run_command({kafka_sh, "pause", kafka_dir}).exit_code, 0);
  std::this_thread::sleep_for(10s);  // the outage itself, not a wait for an outcome
  ASSERT_EQ(run_command({kafka_sh, "resume", kafka_dir}).exit_code, 0);

  send({done(kGroup, kB, kResultB), done(kGroup, kC, kResultC)});
  auto out = wait_outputs(kGroup);
  ASSERT_EQ(out.size(), 1u) << ferry.log();
  EXPECT_EQ(out[0]["type"], "EventGroupCollectorSuccess");
  EXPECT_EQ(out[0]["results"], json({{kA, kResultA}, {kB, kResultB}, {kC, kResultC}}));
  auto timed_out = wait_outputs(expiring);
  ASSERT_EQ(timed_out.size(), 1u) << ferry.log();
  EXPECT_EQ(timed_out[0]["type"], "EventGroupCollectorFailure");
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  EXPECT_EQ(outputs(kGroup).size(), 1u);
  EXPECT_EQ(outputs(expiring).size(), 1u);
}

}  // namespace ferry::test
