#include "config/substitution.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "support/temp_dir.hpp"

namespace ferry::config {

TEST(Substitution, ExpandsEnvironmentVariables) {
  ::setenv("FERRY_T_HOST", "kafka-1", 1);
  auto r = substitute("${FERRY_T_HOST}:9092");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.ok->value, "kafka-1:9092");
  EXPECT_FALSE(r.ok->from_file);
}

TEST(Substitution, UnsetVariableIsAnErrorUnlessDefaulted) {
  ::unsetenv("FERRY_T_UNSET");
  auto r = substitute("x${FERRY_T_UNSET}");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("FERRY_T_UNSET is not set"), std::string::npos);
  auto d = substitute("${FERRY_T_UNSET:-fallback}");
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.ok->value, "fallback");
}

TEST(Substitution, ReadsSecretsFromFilesWithoutTrailingNewline) {
  test::TempDir dir;
  auto p = dir.write("secret", "hunter2\n");
  auto r = substitute("pw=${file:" + p.string() + "}");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.ok->value, "pw=hunter2");
  EXPECT_TRUE(r.ok->from_file);
  EXPECT_FALSE(substitute("${file:/nonexistent/secret}").ok);
}

TEST(Substitution, FilesAreRegularAndAtMostOneMebibyte) {
  // ${file:/dev/zero} used to read until memory ran out.
  auto device = substitute("${file:/dev/zero}");
  ASSERT_FALSE(device.ok);
  EXPECT_NE(device.error.find("not a regular file"), std::string::npos) << device.error;
  // /proc files say size 0: read to their end (under the cap) all the same.
  auto proc = substitute("${file:/proc/self/status}");
  ASSERT_TRUE(proc.ok) << proc.error;
  EXPECT_NE(proc.ok->value.find("Pid:"), std::string::npos);
  test::TempDir dir;
  auto big = dir.write("big", std::string((1 << 20) + 1, 'x'));
  auto r = substitute("${file:" + big.string() + "}");
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("larger than 1 MiB"), std::string::npos) << r.error;
  auto just = dir.write("just", std::string(1 << 20, 'y'));
  auto ok = substitute("${file:" + just.string() + "}");
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.ok->value.size(), size_t{1} << 20);
}

TEST(Substitution, EscapesAndErrors) {
  auto r = substitute("$${literal}");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.ok->value, "${literal}");
  EXPECT_FALSE(substitute("${unterminated").ok);
  EXPECT_FALSE(substitute("${}").ok);
}

}  // namespace ferry::config
