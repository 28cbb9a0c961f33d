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

TEST(Substitution, EscapesAndErrors) {
  auto r = substitute("$${literal}");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.ok->value, "${literal}");
  EXPECT_FALSE(substitute("${unterminated").ok);
  EXPECT_FALSE(substitute("${}").ok);
}

}  // namespace ferry::config
