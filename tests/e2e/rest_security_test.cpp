// The REST API as an attacker on the same machine meets it (another local user, or a
// web page in a local browser): requests that crashed ferry, read its secrets or held
// its threads. Each test drives a ferry that moves real records to the real broker and
// asserts that it is still up and still moving them afterwards.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>

#include <fstream>
#include <thread>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/raw_http.hpp"
#include "support/rest_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_connectors.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// file-source on in/*.log -> topic -> test-sink appending to out.txt.
class LivePipeline {
 public:
  LivePipeline() : ferry(dir) {
    topic = unique_topic("rest-sec");
    dir.write("in/a.log", "");
    ferry.add_connector("lines-in", "plugin = \"file-source\"\ntopic = \"" + topic +
                                        "\"\n[config]\npaths = [\"" + (dir / "in/*.log").string() +
                                        "\"]\nscan_interval = \"100ms\"\n");
    ferry.add_connector("lines-out", test_sink_toml(topic, dir / "out.txt"));
  }
  // Adds `keys` to the worker file's [rest] table.
  void rest_keys(const std::string& keys) {
    std::string worker = read_file(ferry.worker_file());
    worker.insert(worker.find("[rest]\n") + 7, keys);
    dir.write("ferry.toml", worker);
  }
  // Starts ferry and waits for its API and a first line end to end.
  RestClient start() {
    ferry.start();
    EXPECT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
    RestClient rest(ferry.rest_address());
    EXPECT_TRUE(wait_until([&] { return rest.get("/health").status == 200; }, 30s)) << ferry.log();
    EXPECT_TRUE(moves("first")) << ferry.log();
    return rest;
  }
  // Appends a line and waits for it in the sink's output.
  bool moves(const std::string& line) {
    {
      std::ofstream out(dir / "in/a.log", std::ios::app);
      out << line << "\n";
    }
    return wait_until(
        [&] { return read_file(dir / "out.txt").find(line + "\n") != std::string::npos; }, 60s);
  }
  // Resident memory of the ferry process in MiB.
  long rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(ferry.pid()) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return -1;
  }

  TempDir dir;
  FerryInstance ferry;
  std::string topic;
};

std::string request(const std::string& method, const std::string& path, const std::string& host,
                    const std::string& body = "", const std::string& extra_headers = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra_headers +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

int send_request(const std::string& address, const std::string& bytes) {
  RawConnection c(address);
  if (!c.send(bytes)) return 0;
  return RawConnection::status_of(c.read_all(30s));
}

}  // namespace

TEST(RestSecurity, ValidateSurvivesUnknownKeysDeepNestingAndHugeBodies) {
  LivePipeline p;
  RestClient rest = p.start();
  const std::string validate = "/connector-plugins/file-source/config/validate";

  // Keys the plugin does not know, as Connect UIs send them, used to crash the loop over
  // the errors (SIGSEGV).
  auto r =
      rest.put(validate, R"({"paths":"x","bogus":"1","value.converter.schemas.enable":"false"})");
  ASSERT_EQ(r.status, 200) << r.text << p.ferry.log();
  bool bogus_reported = false;
  for (const auto& c : r.body["configs"])
    if (c["value"]["name"] == "bogus") bogus_reported = !c["value"]["errors"].empty();
  EXPECT_TRUE(bogus_reported) << r.text;

  // 100,000 '[' overflowed the stack where the value is dumped.
  auto deep = rest.put(validate, std::string(100'000, '['));
  EXPECT_EQ(deep.status, 400) << deep.text;

  // A body larger than max_body_bytes is refused from its Content-Length, unread. (No
  // body byte is sent: unread bytes would make the server's close a reset, which can
  // discard the reply before this client reads it.)
  std::string address = p.ferry.rest_address();
  RawConnection big(address);
  ASSERT_TRUE(big.send("PUT " + validate + " HTTP/1.1\r\nHost: " + address +
                       "\r\nContent-Type: application/json\r\nContent-Length: 419430400\r\n\r\n"));
  EXPECT_EQ(RawConnection::status_of(big.read_all(30s)), 413);
  // Nor can a body without a length (chunked) grow past the limit.
  RawConnection chunked(address);
  std::string chunk(64 * 1024, ' ');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  ASSERT_TRUE(
      chunked.send("PUT " + validate + " HTTP/1.1\r\nHost: " + address +
                   "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 40; ++i)
    if (!chunked.send(size_line + chunk + "\r\n")) break;
  chunked.read_all(5s);

  EXPECT_TRUE(p.ferry.running()) << p.ferry.log();
  EXPECT_EQ(rest.get("/health").status, 200);
  EXPECT_LT(p.rss_mib(), 300);
  EXPECT_TRUE(p.moves("after-validate")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, ValuesFromARequestAreNeverExpanded) {
  LivePipeline p;
  const std::string env_secret = "env-secret-7d1c9a";
  const std::string file_secret = "file-secret-52be0f";
  p.dir.write("secret.txt", file_secret + "\n");
  p.ferry.set_env("FERRY_REST_TEST_SECRET", env_secret);
  RestClient rest = p.start();

  json body = {{"paths", "${FERRY_REST_TEST_SECRET}"},
               {"mode", "${file:" + (p.dir / "secret.txt").string() + "}"},
               {"on_done", "${file:/dev/zero}"}};
  auto r = rest.put("/connector-plugins/file-source/config/validate", body.dump());
  ASSERT_EQ(r.status, 200) << r.text << p.ferry.log();
  EXPECT_EQ(r.text.find(env_secret), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find(file_secret), std::string::npos) << r.text;
  // The values are checked as given: the enum error quotes the reference itself.
  EXPECT_NE(r.text.find("${file:"), std::string::npos) << r.text;
  EXPECT_GT(r.body["error_count"].get<int>(), 0) << r.text;
  EXPECT_EQ(p.ferry.log().find(env_secret), std::string::npos);
  EXPECT_LT(p.rss_mib(), 300);
  EXPECT_TRUE(p.moves("after-references")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, KeyMaterialAndOddlyWrittenSecretsAreMasked) {
  TempDir dir;
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"
      "-----END PRIVATE KEY-----";
  const std::string pem_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
  std::string topic = unique_topic("rest-sec-mask");
  FerryInstance ferry(dir);
  // The password holds a quote, a backslash and a newline: masking used to run after
  // JSON escaping, which changes all three.
  ferry.add_connector("keyed",
                      "plugin = \"test-source\"\ntopic = \"" + topic +
                          "\"\n[config]\ncount = 3\npassword = \"pa\\\"ss\\\\wo\\nrd-2f8e\"\n"
                          "[kafka]\n\"ssl.key.pem\" = \"" +
                          pem + "\"\n\"ssl.key.password\" = \"keypw-9c4d\"\n");
  ferry.start();
  ASSERT_TRUE(wait_until([&] { return !ferry.rest_address().empty(); }, 30s)) << ferry.log();
  RestClient rest(ferry.rest_address());
  ASSERT_TRUE(wait_until([&] { return rest.get("/health").status == 200; }, 30s)) << ferry.log();

  auto config = rest.get("/connectors/keyed/config");
  ASSERT_EQ(config.status, 200) << config.text;
  EXPECT_EQ(config.body["kafka.ssl.key.pem"], "********") << config.text;
  EXPECT_EQ(config.body["kafka.ssl.key.password"], "********") << config.text;
  EXPECT_EQ(config.body["password"], "********") << config.text;
  for (const auto& path : {"/connectors/keyed/config", "/connectors/keyed/status",
                           "/connectors?expand=info&expand=status", "/connectors/keyed/tasks"}) {
    auto r = rest.get(path);
    EXPECT_EQ(r.text.find(pem_body), std::string::npos) << path << ": " << r.text;
    EXPECT_EQ(r.text.find("keypw-9c4d"), std::string::npos) << path << ": " << r.text;
    EXPECT_EQ(r.text.find("rd-2f8e"), std::string::npos) << path << ": " << r.text;
  }
  // test-source logs its password at start; the log must not show any part of it.
  ASSERT_TRUE(wait_until(
      [&] { return ferry.log().find("connecting with password") != std::string::npos; }, 30s))
      << ferry.log();
  EXPECT_EQ(ferry.log().find("rd-2f8e"), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.log().find(pem_body), std::string::npos) << ferry.log();
  EXPECT_EQ(ferry.stop(), 0) << ferry.log();
}

TEST(RestSecurity, ForeignHostNamesAndOriginsAreRefused) {
  LivePipeline p;
  RestClient rest = p.start();
  std::string address = p.ferry.rest_address();
  std::string port = address.substr(address.rfind(':') + 1);

  // DNS rebinding: the browser sends the attacker's name in Host.
  EXPECT_EQ(send_request(address, request("GET", "/connectors", "evil.example:" + port)), 421);
  EXPECT_EQ(send_request(address, request("GET", "/connectors", "localhost:" + port)), 200);
  EXPECT_EQ(send_request(address, request("GET", "/connectors", address)), 200);

  // A cross-site form or fetch from a page carries its Origin: no state changes.
  EXPECT_EQ(send_request(address, request("PUT", "/connectors/lines-in/pause", address, "",
                                          "Origin: http://evil.example\r\n")),
            403);
  auto status = rest.get("/connectors/lines-in/status");
  EXPECT_EQ(status.body["connector"]["state"], "RUNNING") << status.text;
  EXPECT_EQ(send_request(address, request("PUT", "/connectors/lines-in/pause", address, "",
                                          "Origin: http://localhost:" + port + "\r\n")),
            202);
  EXPECT_EQ(rest.put("/connectors/lines-in/resume").status, 202);
  EXPECT_TRUE(p.moves("after-origin")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, SlowClientsNeitherStarveTheApiNorStayForEver) {
  LivePipeline p;
  p.rest_keys("request_timeout = \"2s\"\nmax_connections = 12\n");
  RestClient rest = p.start();
  std::string address = p.ferry.rest_address();

  // Eight clients sending one header byte every 200 ms used to hold all eight of
  // httplib's threads, so /health did not answer.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<RawConnection>(address));
    ASSERT_TRUE(slow.back()->send("G"));
  }
  RestClient probe(address);
  EXPECT_EQ(probe.get("/health").status, 200);

  // ...and each is closed once request_timeout passed without a whole request.
  int closed = 0;
  for (auto& c : slow) {
    bool gone = wait_until(
        [&] {
          c->send("E");
          return c->closed_by_peer(200ms);
        },
        30s);
    closed += gone ? 1 : 0;
  }
  EXPECT_EQ(closed, 8);

  // Beyond max_connections a connection is closed at once, and the API recovers.
  std::vector<std::unique_ptr<RawConnection>> many;
  for (int i = 0; i < 12; ++i) many.push_back(std::make_unique<RawConnection>(address));
  RawConnection extra(address);
  EXPECT_TRUE(extra.closed_by_peer(5s));
  many.clear();
  EXPECT_TRUE(wait_until([&] { return probe.get("/health").status == 200; }, 30s));
  EXPECT_TRUE(p.moves("after-slow-clients")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, LevelsAreSetOnlyForLoggersThatExist) {
  LivePipeline p;
  RestClient rest = p.start();
  auto unknown = rest.put("/admin/loggers/no.such.component", R"({"level":"DEBUG"})");
  EXPECT_EQ(unknown.status, 404) << unknown.text;
  EXPECT_FALSE(rest.get("/admin/loggers").body.contains("no.such.component"));
  EXPECT_EQ(rest.put("/admin/loggers/lines-in", R"({"level":"DEBUG"})").status, 200);
  EXPECT_EQ(rest.put("/admin/loggers/root", R"({"level":"INFO"})").status, 200);
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, OnePortAndOneStateDirBelongToOneFerry) {
  // A fixed port both processes ask for.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(probe);

  LivePipeline p;
  {
    std::string worker = read_file(p.ferry.worker_file());
    auto at = worker.find("127.0.0.1:0");
    worker.replace(at, 11, "127.0.0.1:" + std::to_string(port));
    p.dir.write("ferry.toml", worker);
  }
  RestClient rest = p.start();

  // Another process cannot join the port (httplib's default allowed SO_REUSEPORT).
  int thief = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(thief, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  setsockopt(thief, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  EXPECT_NE(bind(thief, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  close(thief);

  // A second ferry on the same worker file (same state_dir) exits with a clear error.
  TempDir other;
  auto log = other / "second.log";
  Process second({ferry_binary(), "run", "-c", p.ferry.worker_file().string()}, log);
  EXPECT_EQ(second.wait(60s), 2) << second.log();
  EXPECT_NE(
      second.log().find("is in use by another ferry (pid " + std::to_string(p.ferry.pid()) + ")"),
      std::string::npos)
      << second.log();
  EXPECT_TRUE(p.moves("after-second-instance")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();

  // Once the first is gone, the state is free again.
  p.ferry.start();
  EXPECT_TRUE(wait_until([&] { return rest.get("/health").status == 200; }, 30s)) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

TEST(RestSecurity, ServesHttpsWithTheToken) {
  LivePipeline p;
  auto key = p.dir / "key.pem", cert = p.dir / "cert.pem";
  auto made = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                           "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                           "-keyout", key.string(), "-out", cert.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  p.dir.write("token", "tls-token-81c2\n");
  p.rest_keys("tls_cert_file = \"" + cert.string() + "\"\ntls_key_file = \"" + key.string() +
              "\"\ntoken_file = \"" + (p.dir / "token").string() + "\"\n");
  p.ferry.start();
  ASSERT_TRUE(wait_until([&] { return !p.ferry.rest_address().empty(); }, 30s)) << p.ferry.log();
  std::string address = p.ferry.rest_address();
  httplib::SSLClient tls(address.substr(0, address.rfind(':')),
                         std::stoi(address.substr(address.rfind(':') + 1)));
  tls.set_ca_cert_path(cert.c_str());
  tls.enable_server_certificate_verification(true);
  tls.set_read_timeout(30);
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = tls.Get("/health", {{"Authorization", "Bearer tls-token-81c2"}});
        return r && r->status == 200;
      },
      30s))
      << p.ferry.log();
  auto denied = tls.Get("/connectors");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto listed = tls.Get("/connectors", {{"Authorization", "Bearer tls-token-81c2"}});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);
  // ferry's own CLI speaks HTTPS to it, checking the certificate, with the token.
  auto cli =
      run_command({ferry_binary(), "connectors", "list", "-c", p.ferry.worker_file().string()});
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_NE(cli.out.find("lines-in"), std::string::npos) << cli.out;
  // Plain HTTP on the TLS port gets no API.
  RestClient plain(address, "tls-token-81c2");
  EXPECT_NE(plain.get("/connectors").status, 200);
  EXPECT_TRUE(p.moves("over-tls")) << p.ferry.log();
  EXPECT_EQ(p.ferry.stop(), 0) << p.ferry.log();
}

}  // namespace ferry::test
