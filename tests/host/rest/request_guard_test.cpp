#include "rest/request_guard.hpp"

#include <gtest/gtest.h>

namespace ferry::rest {
namespace {

TEST(RequestGuard, HostHeaderMustNameAnAllowedHost) {
  auto hosts = default_allowed_hosts("127.0.0.1:8083");
  EXPECT_TRUE(host_allowed("localhost:8083", hosts));
  EXPECT_TRUE(host_allowed("LOCALHOST", hosts));
  EXPECT_TRUE(host_allowed("127.0.0.1:8083", hosts));
  EXPECT_TRUE(host_allowed("[::1]:8083", hosts));
  EXPECT_FALSE(host_allowed("evil.example:8083", hosts));
  EXPECT_FALSE(host_allowed("localhost.evil.example", hosts));
  EXPECT_FALSE(host_allowed("", hosts));
  EXPECT_FALSE(host_allowed("localhost:80x", hosts));
  EXPECT_FALSE(host_allowed("localhost@evil.example", hosts));
  EXPECT_FALSE(host_allowed("[::1", hosts));
}

TEST(RequestGuard, TheListenNameIsAllowedButNotAWildcard) {
  auto named = default_allowed_hosts("ferry-1.internal:8083");
  EXPECT_TRUE(host_allowed("ferry-1.internal:8083", named));
  auto wildcard = default_allowed_hosts("0.0.0.0:8083");
  EXPECT_FALSE(host_allowed("0.0.0.0:8083", wildcard));
  EXPECT_TRUE(host_allowed("localhost:8083", wildcard));
}

TEST(RequestGuard, OriginsOfAllowedHostsOrListedOnes) {
  auto hosts = default_allowed_hosts("127.0.0.1:8083");
  EXPECT_TRUE(origin_allowed("http://localhost:8083", hosts, {}));
  EXPECT_TRUE(origin_allowed("https://127.0.0.1", hosts, {}));
  EXPECT_FALSE(origin_allowed("http://evil.example", hosts, {}));
  EXPECT_FALSE(origin_allowed("null", hosts, {}));
  EXPECT_FALSE(origin_allowed("file://localhost", hosts, {}));
  EXPECT_FALSE(origin_allowed("http://localhost:8083/x", hosts, {}));
  EXPECT_TRUE(origin_allowed("https://console.example", hosts, {"https://console.example"}));
}

TEST(RequestGuard, BearerTokenMustMatchExactly) {
  EXPECT_TRUE(bearer_matches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cret ", "s3cret"));
  EXPECT_FALSE(bearer_matches("bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));
}

}  // namespace
}  // namespace ferry::rest
