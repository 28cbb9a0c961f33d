#include "rest/json_body.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ferry::rest {
namespace {

TEST(JsonBody, CountsOnlyBracketsOutsideStrings) {
  EXPECT_FALSE(json_nested_deeper_than(R"({"a":[1,{"b":2}]})", 3));
  EXPECT_TRUE(json_nested_deeper_than(R"({"a":[1,{"b":2}]})", 2));
  EXPECT_FALSE(json_nested_deeper_than(R"({"a":"[[[[[[[[[[[[["})", 1));
  EXPECT_FALSE(json_nested_deeper_than(R"({"a":"\"[[[[[[[[[[[["})", 1));
  EXPECT_TRUE(json_nested_deeper_than(R"({"a\\":[[]]})", 2));
  EXPECT_FALSE(json_nested_deeper_than("", 0));
}

TEST(JsonBody, AHundredThousandOpeningBracketsAreTooDeep) {
  EXPECT_TRUE(json_nested_deeper_than(std::string(100'000, '['), kMaxJsonDepth));
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_FALSE(json_nested_deeper_than(ok, kMaxJsonDepth));
  // Closing brackets first cannot buy depth later.
  EXPECT_TRUE(json_nested_deeper_than(std::string(100, ']') + std::string(65, '['), 64));
}

}  // namespace
}  // namespace ferry::rest
