// The real mosquitto broker that ctest's `services` fixture starts (scripts/mosquitto.sh),
// and mosquitto_pub as the independent publisher.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

inline std::string test_mqtt_url() {
  if (const char* u = std::getenv("FERRY_TEST_MQTT"); u && *u) return u;
  if (std::string dir = test_service_dir("mqtt"); !dir.empty()) {
    if (std::string s = read_line_file(dir + "/url"); !s.empty()) return s;
  }
  throw std::runtime_error(
      "no test MQTT broker: run the suite with scripts/test.sh (or ctest, whose 'services' fixture "
      "starts one), or set FERRY_TEST_MQTT=mqtt://127.0.0.1:PORT");
}

inline std::string test_mqtt_port() {
  std::string url = test_mqtt_url();
  return url.substr(url.rfind(':') + 1);
}

// Publishes one message, or with `lines_file` every line of that file as one message,
// to the shared broker or the one on `port`.
inline void mosquitto_pub(const std::string& topic, const std::string& payload, int qos = 1,
                          const std::string& lines_file = "", const std::string& port = "") {
  std::vector<std::string> argv = {
      "mosquitto_pub", "-h", "127.0.0.1",        "-p", port.empty() ? test_mqtt_port() : port, "-t",
      topic,           "-q", std::to_string(qos)};
  if (lines_file.empty()) {
    argv.insert(argv.end(), {"-m", payload});
  } else {
    argv.push_back("-l");
  }
  auto r = run_command(argv, {}, lines_file);
  if (r.exit_code != 0) throw std::runtime_error("mosquitto_pub failed: " + r.err);
}

// A mosquitto of the test's own, for what the shared one cannot do: outages, and the
// TLS (client certificate) and password listeners with their files.
class OwnMosquitto {
 public:
  explicit OwnMosquitto(std::filesystem::path dir) : dir_(std::move(dir)) { run("start"); }
  ~OwnMosquitto() { run_command({script(), "stop", dir_.string()}); }
  OwnMosquitto(const OwnMosquitto&) = delete;
  OwnMosquitto& operator=(const OwnMosquitto&) = delete;

  void pause() { run("pause"); }
  void resume() { run("resume"); }
  // "url" (anonymous), "tls_url" (mqtts, client certificate) or "auth_url" (password).
  std::string url(const std::string& which = "url") const { return read_line_file(dir_ / which); }
  std::string port() const { return read_line_file(dir_ / "port"); }
  std::string password() const { return read_line_file(dir_ / "password"); }
  // ca.crt, client.crt, client.key
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static std::string script() { return source_dir() + "/scripts/mosquitto.sh"; }
  void run(const std::string& command) {
    auto r = run_command({script(), command, dir_.string()});
    if (r.exit_code != 0)
      throw std::runtime_error("mosquitto.sh " + command + " failed: " + r.out + r.err);
  }
  std::filesystem::path dir_;
};

}  // namespace ferry::test
