// The real mosquitto broker that ctest's `mqtt` fixture starts (scripts/mosquitto.sh),
// and mosquitto_pub as the independent publisher.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

inline std::string test_mqtt_url() {
  if (const char* u = std::getenv("FERRY_TEST_MQTT"); u && *u) return u;
  if (const char* dir = std::getenv("FERRY_TEST_MQTT_DIR"); dir && *dir) {
    std::string s = read_file(std::string(dir) + "/url");
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) return s;
  }
  throw std::runtime_error(
      "no test MQTT broker: run the suite with scripts/test.sh (or ctest, whose 'mqtt' fixture "
      "starts one), or set FERRY_TEST_MQTT=mqtt://127.0.0.1:PORT");
}

inline std::string test_mqtt_port() {
  std::string url = test_mqtt_url();
  return url.substr(url.rfind(':') + 1);
}

// Publishes one message, or with `lines_file` every line of that file as one message.
inline void mosquitto_pub(const std::string& topic, const std::string& payload, int qos = 1,
                          const std::string& lines_file = "") {
  std::vector<std::string> argv = {"mosquitto_pub",    "-h", "127.0.0.1", "-p",
                                   test_mqtt_port(),   "-t", topic,       "-q",
                                   std::to_string(qos)};
  if (lines_file.empty()) {
    argv.insert(argv.end(), {"-m", payload});
  } else {
    argv.push_back("-l");
  }
  auto r = run_command(argv, {}, lines_file);
  if (r.exit_code != 0) throw std::runtime_error("mosquitto_pub failed: " + r.err);
}

}  // namespace ferry::test
