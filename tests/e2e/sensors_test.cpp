// The sensors source end to end: fake sysfs trees, a real mosquitto with mosquitto_pub
// publishers, the simulator, window spans that complete, and a SIGKILL with a
// persistent MQTT session. Results are read back with kcat.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

#include "support/fake_sysfs.hpp"
#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/mqtt_env.hpp"
#include "support/span_events.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Waits until the MQTT connector has subscribed `times` times (once per connection).
bool subscribed(FerryInstance& ferry, size_t times = 1) {
  return wait_until([&] { return occurrences(ferry.log(), "subscribed to 1") >= times; }, 60s);
}

std::string hwmon_connector(const std::string& topic, const std::filesystem::path& root,
                            const std::string& host) {
  return "plugin = \"sensors\"\ntopic = \"" + topic +
         "\"\n[config]\ndriver = \"hwmon\"\nsysfs_root = \"" + root.string() +
         "\"\ninterval = \"200ms\"\nhost = \"" + host + "\"\n";
}

std::string mqtt_connector(const std::string& topic, const std::string& filter,
                           const std::string& extra_config = "", const std::string& extra = "") {
  return "plugin = \"sensors\"\ntopic = \"" + topic + "\"\n" + extra +
         "[config]\ndriver = \"mqtt\"\nurl = \"" + test_mqtt_url() + "\"\ntopics = [\"" + filter +
         "\"]\nhost = \"testhost\"\n" + extra_config;
}

std::string numbered_payloads(const TempDir& dir, const std::string& name, int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) text += "{\"value\": " + std::to_string(i) + "}\n";
  return dir.write(name, text).string();
}

std::multiset<int> values_in(const std::string& topic) {
  std::multiset<int> out;
  for (const auto& m : kcat_consume(topic))
    out.insert(static_cast<int>(json::parse(m.value.value_or("{}")).value("value", -1.0)));
  return out;
}

TEST(Sensors, HwmonTreesFromRealMachinesFaultySensorsAndNoSensors) {
  TempDir dir;
  FakeSysfs intel("intel-coretemp", dir / "intel");
  FakeSysfs faulty("faulty", dir / "faulty");
  FakeSysfs empty("empty", dir / "empty");
  std::string topic = unique_topic("hwmon");
  FerryInstance ferry(dir);
  ferry.add_connector("intel", hwmon_connector(topic, intel.root(), "h-intel"));
  ferry.add_connector("faulty", hwmon_connector(topic, faulty.root(), "h-faulty"));
  ferry.add_connector("empty", hwmon_connector(topic, empty.root(), "h-empty"));
  ferry.start();

  std::map<std::string, std::vector<json>> by_key;
  ASSERT_TRUE(wait_until(
      [&] {
        by_key.clear();
        for (const auto& m : kcat_consume(topic, end_offset(topic)))
          by_key[m.key.value_or("")].push_back(json::parse(m.value.value_or("{}")));
        // Three rounds of the healthy sensors next to the failing ones.
        return by_key["h-faulty/lm75/temp4"].size() >= 3 &&
               by_key["h-intel/coretemp/temp1"].size() >= 3;
      },
      60s))
      << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  const json& pkg = by_key["h-intel/coretemp/temp1"].front();
  EXPECT_EQ(pkg["measurement"], "temperature");
  EXPECT_EQ(pkg["sensor"], "coretemp/temp1");
  EXPECT_EQ(pkg["device"], "coretemp");
  EXPECT_EQ(pkg["host"], "h-intel");
  EXPECT_EQ(pkg["label"], "Package id 0");
  EXPECT_EQ(pkg["value"], 47);
  EXPECT_EQ(pkg["unit"], "C");
  EXPECT_EQ(pkg["max"], 100);
  EXPECT_EQ(pkg["crit"], 100);
  EXPECT_EQ(pkg["status"], "ok");
  EXPECT_EQ(pkg["ts"].get<std::string>().size(), 24u);  // 2026-11-22T12:00:00.123Z
  EXPECT_EQ(by_key["h-intel/coretemp/temp3"].front()["status"], "alarm");
  EXPECT_EQ(by_key["h-intel/thermal_zone0/temp"].front()["crit"], 119);
  EXPECT_DOUBLE_EQ(by_key["h-faulty/lm75/temp4"].front()["value"].get<double>(), 24.5);
  for (const auto& [key, readings] : by_key) EXPECT_EQ(key.rfind("h-empty", 0), std::string::npos);

  // Each failing sensor is reported once, not once per round; the empty tree once too.
  std::string log = ferry.log();
  EXPECT_EQ(occurrences(log, "hwmon1/temp1_input: Resource temporarily unavailable"), 1u) << log;
  EXPECT_EQ(occurrences(log, "hwmon1/temp2_input: Is a directory"), 1u) << log;
  EXPECT_EQ(occurrences(log, "hwmon1/temp3_input: not a number"), 1u) << log;
  EXPECT_EQ(occurrences(log, "no hwmon or thermal sensors under " + empty.root().string()), 1u)
      << log;
}

TEST(Sensors, MqttJsonAndNumbersArriveAndBadPayloadsGoToTheDeadLetterTopic) {
  TempDir dir;
  std::string topic = unique_topic("mqtt"), dlq = unique_topic("mqtt.dlq");
  std::string prefix = unique_topic("plant");
  FerryInstance ferry(dir);
  ferry.add_connector(
      "mqtt",
      mqtt_connector(topic, prefix + "/#",
                     "topic_tags = [\"_/site/device/measurement\"]\nmax_payload_bytes = \"1KiB\"\n",
                     "") +
          "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" + dlq + "\"\n");
  ferry.start();
  ASSERT_TRUE(subscribed(ferry)) << ferry.log();

  std::string p7 = prefix + "/berlin/press-7/", p8 = prefix + "/berlin/press-8/";
  mosquitto_pub(p7 + "temperature", R"({"value": 80.5, "unit": "C", "crit": 95})");
  mosquitto_pub(p7 + "pressure", "1013.25");
  mosquitto_pub(p8 + "temperature", "garbage");
  mosquitto_pub(p8 + "temperature", "nan");
  mosquitto_pub(p8 + "temperature", R"({"value": "hot"})");
  mosquitto_pub(p8 + "temperature", std::string(2000, '1'));
  mosquitto_pub(p8 + "temperature", R"({"value": 20})");  // the bad ones block nothing

  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 3 && end_offset(dlq) >= 4; }, 60s))
      << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  auto good = kcat_consume(topic);
  ASSERT_EQ(good.size(), 3u);
  EXPECT_EQ(good[0].key, "testhost/" + p7 + "temperature");
  json t = json::parse(*good[0].value);
  EXPECT_EQ(t["device"], "press-7");
  EXPECT_EQ(t["measurement"], "temperature");
  EXPECT_EQ(t["tags"]["site"], "berlin");
  EXPECT_EQ(t["value"], 80.5);
  EXPECT_EQ(t["unit"], "C");
  EXPECT_EQ(t["crit"], 95);
  EXPECT_EQ(json::parse(*good[1].value)["value"], 1013.25);
  EXPECT_EQ(json::parse(*good[2].value)["device"], "press-8");

  auto bad = kcat_consume(dlq);
  ASSERT_EQ(bad.size(), 4u);
  const char* reasons[] = {"payload is not a number or a JSON object: \"garbage\"",
                           "value is not finite: nan", "field \"value\" is a string",
                           "payload of 2000 bytes exceeds max_payload_bytes (1024)"};
  EXPECT_EQ(bad[0].value, "garbage");
  EXPECT_EQ(bad[3].value, std::string(2000, '1'));
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NE(bad[i].headers["ferry.error.reason"].find(reasons[i]), std::string::npos)
        << bad[i].headers["ferry.error.reason"];
    EXPECT_EQ(bad[i].headers["ferry.error.stage"], "source");
    EXPECT_EQ(bad[i].headers["mqtt.topic"], p8 + "temperature");
  }
}

TEST(Sensors, MqttBurstOfTenThousandMessagesAllArriveOnce) {
  TempDir dir;
  std::string topic = unique_topic("mqtt-burst"), prefix = unique_topic("burst");
  FerryInstance ferry(dir);
  ferry.add_connector("burst", mqtt_connector(topic, prefix + "/+"));
  ferry.start();
  ASSERT_TRUE(subscribed(ferry)) << ferry.log();
  // mosquitto_pub -l sends one QoS 1 message per line as fast as the broker acks them.
  mosquitto_pub(prefix + "/dev1", "", 1, numbered_payloads(dir, "burst.txt", 0, 10000));
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 10000; }, 120s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto values = values_in(topic);
  ASSERT_EQ(values.size(), 10000u);
  std::set<int> distinct(values.begin(), values.end());
  EXPECT_EQ(distinct.size(), 10000u);
  EXPECT_EQ(*distinct.begin(), 0);
  EXPECT_EQ(*distinct.rbegin(), 9999);
}

// ferry reads the MQTT socket 64 KiB at a time: a packet several reads long is put
// together whole, and QoS 0 and 1 messages around it keep their order.
// Resident memory high-water mark of a process in MiB.
static long peak_rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return -1;
}

TEST(Sensors, MqttPacketsLargerThanOneReadArriveWholeAndHugeOnesAreNeverBuffered) {
  TempDir dir;
  std::string topic = unique_topic("mqtt-large"), dlq = unique_topic("mqtt-large.dlq");
  std::string prefix = unique_topic("large");
  FerryInstance ferry(dir);
  ferry.add_connector("large",
                      mqtt_connector(topic, prefix + "/#", "max_payload_bytes = \"100KiB\"\n") +
                          "[errors]\ntolerance = \"all\"\ndead_letter_topic = \"" + dlq + "\"\n");
  ferry.start();
  ASSERT_TRUE(subscribed(ferry)) << ferry.log();

  // Just over the limit: read whole (across several reads) and dead-lettered whole.
  std::string big;
  for (int i = 0; big.size() < 150'000; ++i) big += std::to_string(i) + ",";
  auto big_file = dir.write("big.bin", big);
  // Far over it: a broker (or a publisher through it) sending 200 MB used to make ferry
  // buffer all of it before looking at its size.
  auto huge_file = dir / "huge.bin";
  {
    std::ofstream out(huge_file, std::ios::binary);
    std::string chunk(1 << 20, 'h');
    for (int i = 0; i < 200; ++i) out << chunk;
  }
  long rss_before = peak_rss_mib(ferry.pid());
  mosquitto_pub(prefix + "/d/t", "1", 0);
  mosquitto_pub(prefix + "/d/t", "2", 1);
  auto r = run_command({"mosquitto_pub", "-h", "127.0.0.1", "-p", test_mqtt_port(), "-t",
                        prefix + "/d/t", "-q", "1", "-f", big_file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command({"mosquitto_pub", "-h", "127.0.0.1", "-p", test_mqtt_port(), "-t",
                   prefix + "/d/huge", "-q", "1", "-f", huge_file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  mosquitto_pub(prefix + "/d/t", "3", 1);
  mosquitto_pub(prefix + "/d/t", "4", 0);

  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 4 && end_offset(dlq) >= 2; }, 60s))
      << ferry.log();
  // The huge packet was read past: memory did not grow by its size.
  EXPECT_LT(peak_rss_mib(ferry.pid()) - rss_before, 64) << rss_before;
  // ...and the session went on: acknowledged, no reconnect.
  EXPECT_EQ(occurrences(ferry.log(), "subscribed to 1"), 1u) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  std::vector<double> in_order;
  for (const auto& m : kcat_consume(topic)) in_order.push_back(json::parse(*m.value)["value"]);
  EXPECT_EQ(in_order, (std::vector<double>{1, 2, 3, 4}));  // one key, one partition: in order
  auto bad = kcat_consume(dlq);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].value, big);  // every byte, across several reads
  EXPECT_NE(bad[0].headers["ferry.error.reason"].find("exceeds max_payload_bytes (102400)"),
            std::string::npos);
  EXPECT_EQ(bad[1].value.value_or(""), "");  // not kept
  EXPECT_EQ(bad[1].headers["mqtt.topic"], prefix + "/d/huge");
  EXPECT_NE(
      bad[1].headers["ferry.error.reason"].find("payload of 209715200 bytes exceeds "
                                                "max_payload_bytes (102400); it was not read"),
      std::string::npos)
      << bad[1].headers["ferry.error.reason"];
}

TEST(Sensors, SigkillWithAPersistentSessionLosesNothingPublishedWhileDown) {
  TempDir dir;
  std::string topic = unique_topic("mqtt-kill"), prefix = unique_topic("kill");
  FerryInstance ferry(dir);
  ferry.add_connector("kill",
                      mqtt_connector(topic, prefix + "/#",
                                     "client_id = \"" + unique_topic("ferry") + "\"\nqos = 1\n"));
  ferry.start();
  ASSERT_TRUE(subscribed(ferry)) << ferry.log();
  mosquitto_pub(prefix + "/a", "", 1, numbered_payloads(dir, "a.txt", 0, 1000));
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 1000; }, 60s)) << ferry.log();
  ferry.kill9();

  // While ferry is dead the broker queues for its session.
  mosquitto_pub(prefix + "/b", "", 1, numbered_payloads(dir, "b.txt", 1000, 2000));
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("resuming the persistent session") != std::string::npos; },
      30s))
      << ferry.log();
  mosquitto_pub(prefix + "/c", "", 1, numbered_payloads(dir, "c.txt", 2000, 3000));
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 3000; }, 60s)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  auto values = values_in(topic);
  std::set<int> distinct(values.begin(), values.end());
  EXPECT_EQ(distinct.size(), 3000u);
  EXPECT_EQ(*distinct.rbegin(), 2999);
  EXPECT_EQ(values.size(), 3000u) << "the kill came after every message of batch a was acked";
}

TEST(Sensors, SimulatedWindowSpansCompleteAndTheSameSeedGivesTheSameReadings) {
  TempDir dir;
  std::string span_topic = unique_topic("sensor-spans"), group = unique_topic("dashboard");
  std::string a = unique_topic("sim-a"), b = unique_topic("sim-b");
  FerryInstance ferry(
      dir, "[spans]\ntopic = \"" + span_topic + "\"\nwatch_groups = [\"" + group + "\"]\n");
  auto sim = [](const std::string& topic) {
    return "plugin = \"sensors\"\ntopic = \"" + topic +
           "\"\n[config]\ndriver = \"simulated\"\ndevices = 2\nsensors = 3\nseed = 7\n"
           "interval = \"100ms\"\nlimit = 60\nwindow = \"1s\"\nhost = \"sim\"\n"
           "[span]\nenabled = true\n";
  };
  ferry.add_connector("sim-a", sim(a));
  ferry.add_connector("sim-b", sim(b));
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return end_offset(a) >= 60 && end_offset(b) >= 60; }, 60s))
      << ferry.log();

  // Both connectors' windows close about a second after their last reading.
  auto records_a = kcat_consume(a), records_b = kcat_consume(b);
  std::map<std::string, size_t> per_span;
  for (const auto* records : {&records_a, &records_b})
    for (const auto& m : *records) ++per_span[m.headers.at("ferry.span")];
  std::vector<json> events;
  ASSERT_TRUE(wait_until(
      [&] {
        events = span_events(span_topic);
        return of_type(events, "span.delivered").size() >= per_span.size();
      },
      60s))
      << ferry.log();
  EXPECT_EQ(kcat_consume_as_group(group, a), 60u);
  EXPECT_EQ(kcat_consume_as_group(group, b), 60u);
  ASSERT_TRUE(wait_for_completions(span_topic, group, per_span.size(), 60s, events)) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();

  // Every record is in exactly one span; each span was closed with the count of its
  // records, delivered and completed once; one device per span.
  size_t total = 0;
  for (const auto& [span, n] : per_span) {
    auto closed = of_type(events, "span.closed", span);
    ASSERT_EQ(closed.size(), 1u) << span;
    EXPECT_EQ(closed[0]["count"], n) << span;
    total += n;
    auto opened = of_type(events, "span.opened", span);
    ASSERT_EQ(opened.size(), 1u);
    EXPECT_EQ(opened[0]["attrs"]["device"].get<std::string>().rfind("sim-00", 0), 0u);
    EXPECT_EQ(of_type(events, "span.delivered", span).size(), 1u) << span;
    auto done = of_type(events, "span.completed", span);
    ASSERT_EQ(done.size(), 1u) << span;
    EXPECT_EQ(done[0]["group"], group);
  }
  EXPECT_EQ(total, 120u);
  EXPECT_GE(per_span.size(), 4u);  // 2 devices x at least one window x 2 connectors

  // Determinism: the same seed gives the same sensor/value sequence.
  ASSERT_EQ(records_a.size(), records_b.size());
  for (size_t i = 0; i < records_a.size(); ++i) {
    json ja = json::parse(*records_a[i].value), jb = json::parse(*records_b[i].value);
    ASSERT_EQ(ja["sensor"], jb["sensor"]) << i;
    ASSERT_EQ(ja["value"], jb["value"]) << i;
  }
}

TEST(Sensors, MqttsWithAClientCertificateAndAPasswordLoginDeliverAndBadCredentialsAreReported) {
  TempDir dir;
  OwnMosquitto broker(dir / "mosquitto");
  std::string topic = unique_topic("mqtt-secure"), prefix = unique_topic("secure");
  auto connector = [&](const std::string& url, const std::string& config) {
    return "plugin = \"sensors\"\ntopic = \"" + topic +
           "\"\n[config]\ndriver = \"mqtt\"\nhost = \"h\"\nurl = \"" + url + "\"\ntopics = [\"" +
           prefix + "/#\"]\n" + config;
  };
  FerryInstance ferry(dir);
  ferry.add_connector("tls", connector(broker.url("tls_url"),
                                       "tls_ca = \"" + broker.file("ca.crt") + "\"\ntls_cert = \"" +
                                           broker.file("client.crt") + "\"\ntls_key = \"" +
                                           broker.file("client.key") + "\"\n"));
  ferry.add_connector(
      "login", connector(broker.url("auth_url"),
                         "username = \"ferry\"\npassword = \"" + broker.password() + "\"\n"));
  ferry.add_connector(
      "wrong", connector(broker.url("auth_url"),
                         "username = \"ferry\"\npassword = \"not-" + broker.password() + "\"\n"));
  ferry.start();
  ASSERT_TRUE(wait_until(
      [&] {
        std::string log = ferry.log();
        return occurrences(log, "subscribed to 1") == 2 &&
               log.find("[wrong/0] MQTT broker") != std::string::npos;
      },
      30s))
      << ferry.log();

  // Published once on the anonymous listener; both secured subscribers get it.
  mosquitto_pub(prefix + "/dev/temp", "21.5", 1, "", broker.port());
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 2; }, 30s)) << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto records = kcat_consume(topic);
  ASSERT_EQ(records.size(), 2u);
  for (const auto& m : records) EXPECT_EQ(json::parse(*m.value)["value"], 21.5);

  std::string log = ferry.log();
  EXPECT_NE(log.find("connected to MQTT broker " + broker.url("tls_url").substr(8)),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("[wrong/0] MQTT broker 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("refused the connection: Connection Refused: not authorised"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(broker.password()), std::string::npos) << "a secret reached the log";
}

TEST(Sensors, ReconnectsWithBackoffWhenTheBrokerComesBackAndQos0Delivers) {
  TempDir dir;
  OwnMosquitto broker(dir / "mosquitto");
  std::string topic = unique_topic("mqtt-outage"), prefix = unique_topic("outage");
  FerryInstance ferry(dir);
  ferry.add_connector("outage", "plugin = \"sensors\"\ntopic = \"" + topic +
                                    "\"\n[config]\ndriver = \"mqtt\"\nhost = \"h\"\nqos = 0\n"
                                    "url = \"" +
                                    broker.url() + "\"\ntopics = [\"" + prefix + "/#\"]\n");
  ferry.start();
  ASSERT_TRUE(subscribed(ferry)) << ferry.log();
  mosquitto_pub(prefix + "/a", "", 0, numbered_payloads(dir, "a.txt", 0, 100), broker.port());
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 100; }, 30s)) << ferry.log();

  broker.pause();
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("lost the MQTT connection") != std::string::npos; }, 30s))
      << ferry.log();
  broker.resume();
  // The subscription is renewed on the new connection: the broker forgot it.
  ASSERT_TRUE(subscribed(ferry, 2)) << ferry.log();
  mosquitto_pub(prefix + "/b", "", 0, numbered_payloads(dir, "b.txt", 100, 200), broker.port());
  ASSERT_TRUE(wait_until([&] { return end_offset(topic) >= 200; }, 30s)) << ferry.log();
  EXPECT_TRUE(ferry.running());
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
  auto values = values_in(topic);
  EXPECT_EQ(values.size(), 200u);
  EXPECT_EQ(std::set<int>(values.begin(), values.end()).size(), 200u);
}

TEST(Sensors, ConfigErrorsAreReportedBeforeAnythingRuns) {
  TempDir dir;
  auto validate = [&](const std::string& config) {
    auto file = dir.write("c.toml", "plugin = \"sensors\"\ntopic = \"t\"\n[config]\n" + config);
    return run_command({ferry_binary(), "validate", "-c", "/dev/null", file.string()},
                       {{"FERRY_CONFIG", ""}});
  };
  struct Case {
    std::string config, error;
  } cases[] = {
      {"", "missing required key \"driver\""},
      {"driver = \"mqtt\"\n", "driver \"mqtt\" needs topics"},
      {"driver = \"mqtt\"\ntopics = [\"a/#\"]\nurl = \"tcp://x\"\n",
       "url must start with mqtt:// or mqtts://"},
      {"driver = \"mqtt\"\ntopics = [\"a/#\"]\nsession = \"persistent\"\n",
       "session = \"persistent\" needs a client_id"},
      {"driver = \"simulated\"\nqos = 2\n", "qos"},
  };
  for (const auto& c : cases) {
    auto r = validate(c.config);
    EXPECT_EQ(r.exit_code, 1) << c.config;
    EXPECT_NE((r.out + r.err).find(c.error), std::string::npos) << c.config << r.out << r.err;
  }
  EXPECT_EQ(validate("driver = \"hwmon\"\n").exit_code, 0);
}

}  // namespace
}  // namespace ferry::test
