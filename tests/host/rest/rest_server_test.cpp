// The REST server in-process, over real HTTP on loopback.
#include "rest/rest_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "common/secrets.hpp"
#include "support/raw_http.hpp"
#include "support/wait_for.hpp"

namespace ferry::rest {
namespace {

using namespace std::chrono_literals;
using test::RawConnection;

std::string address(const RestServer& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}

TEST(RestServer, SecretsAreMaskedAsWrittenNotAsEscaped) {
  const std::string secret = "qu\"ote\\back\nline-91ab";
  secrets::remember(secret);
  RestServer server;
  server.get("/leak", [&](const Request&) {
    return Reply::error(500, "cannot connect with " + secret + " (and " + secret + ")");
  });
  server.get("/text", [&](const Request&) {
    Reply r;
    r.content_type = "text/plain";
    r.text = "pw=" + secret;
    return r;
  });
  std::string error;
  RestSettings settings;
  settings.listen = "127.0.0.1:0";
  ASSERT_TRUE(server.start(settings, error)) << error;
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/leak");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["message"], "cannot connect with ******** (and ********)") << r->body;
  EXPECT_EQ(r->body.find("line-91ab"), std::string::npos) << r->body;
  auto t = c.Get("/text");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->body, "pw=********");
}

TEST(RestServer, RefusesBodiesOverTheLimitAndTooDeepJson) {
  RestServer server;
  size_t seen = 0;
  server.put("/echo", [&](const Request& req) {
    seen = req.body.size();
    return Reply{200, nlohmann::json::parse(req.body, nullptr, false)};
  });
  RestSettings settings;
  settings.listen = "127.0.0.1:0";
  settings.max_body_bytes = 4096;
  std::string error;
  ASSERT_TRUE(server.start(settings, error)) << error;
  httplib::Client c("127.0.0.1", server.port());
  auto big = c.Put("/echo", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(seen, 0u);
  auto deep = c.Put("/echo", std::string(100, '[') + std::string(100, ']'), "application/json");
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->status, 400);
  auto ok = c.Put("/echo", R"({"a":[1,2]})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, R"({"a":[1,2]})");
}

TEST(RestServer, AClientThatNeverFinishesItsRequestIsClosed) {
  RestServer server;
  server.get("/health", [](const Request&) { return Reply{200, {{"status", "healthy"}}}; });
  RestSettings settings;
  settings.listen = "127.0.0.1:0";
  settings.request_timeout = 1000ms;
  settings.max_connections = 4;
  std::string error;
  ASSERT_TRUE(server.start(settings, error)) << error;
  RawConnection slow(address(server));
  ASSERT_TRUE(slow.send("GET /hea"));
  EXPECT_TRUE(test::wait_until(
      [&] {
        slow.send("l");
        return slow.closed_by_peer(100ms);
      },
      20s));
  // A well-behaved client on a kept-alive connection is not cut off between requests
  // shorter than the timeout.
  httplib::Client c("127.0.0.1", server.port());
  c.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

TEST(RestServer, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  RestServer server;
  server.get("/health", [](const Request&) { return Reply{200, {{"status", "healthy"}}}; });
  RestSettings settings;
  settings.listen = "127.0.0.1:0";
  settings.max_connections = 3;
  settings.request_timeout = 30'000ms;
  std::string error;
  ASSERT_TRUE(server.start(settings, error)) << error;
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(address(server)));
    ASSERT_TRUE(held.back()->send("G"));
  }
  RawConnection extra(address(server));
  EXPECT_TRUE(extra.closed_by_peer(10s));
  held.clear();
  httplib::Client c("127.0.0.1", server.port());
  EXPECT_TRUE(test::wait_until(
      [&] {
        auto r = c.Get("/health");
        return r && r->status == 200;
      },
      10s));
}

}  // namespace
}  // namespace ferry::rest
