#include "ferry/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>

namespace ferry {
namespace {

std::string as_json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonText, EscapesWhatJsonRequiresAndKeepsUtf8) {
  EXPECT_EQ(as_json("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  const std::string utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e";  // café € 𝄞
  EXPECT_EQ(as_json(utf8), "\"" + utf8 + "\"");
  EXPECT_EQ(nlohmann::json::parse(as_json(utf8)).get<std::string>(), utf8);
}

TEST(JsonText, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(as_json("M\xfcller"), "\"M" + fffd + "ller\"");              // latin1 ü
  EXPECT_EQ(as_json("end\xc3"), "\"end" + fffd + "\"");                  // cut short
  EXPECT_EQ(as_json("\x80x"), "\"" + fffd + "x\"");                      // stray continuation
  EXPECT_EQ(as_json("\xc0\xaf"), "\"" + fffd + fffd + "\"");             // overlong '/'
  EXPECT_EQ(as_json("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");  // a surrogate
  EXPECT_EQ(as_json("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
}

TEST(JsonText, AnyBytesMakeAStringThatStrictReadersAccept) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20'000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? 0x80 | (rng() & 0x7f) : rng());
    std::string out = as_json(s);
    ASSERT_TRUE(nlohmann::json::accept(out)) << out;
  }
}

}  // namespace
}  // namespace ferry
