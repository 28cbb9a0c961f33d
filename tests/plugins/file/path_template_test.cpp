#include "path_template.hpp"

#include <gtest/gtest.h>

namespace ferry::file {

TEST(PathTemplate, ExpandsKnownFields) {
  TemplateValues v{"app.logs", 3, "span-1", 1700000000000, "/var/log/app/a.log"};  // 2023-11-14 UTC
  EXPECT_EQ(expand_path("/out/{topic}/{date}/p{partition}-{span}.log", v),
            "/out/app.logs/2023-11-14/p3-span-1.log");
  EXPECT_EQ(expand_path("/out/{filename}", v), "/out/a.log");
}

TEST(PathTemplate, RecordDataCannotEscapeTheDirectory) {
  TemplateValues v{"../../etc", 0, "..", 0, ".."};
  EXPECT_EQ(expand_path("/out/{topic}/{span}", v), "/out/.._.._etc/_");
  EXPECT_EQ(expand_path("/out/{filename}", v), "/out/_");
}

TEST(PathTemplate, ALongOrOddSpanIdStillGivesOneShortSegment) {
  std::string long_a(5000, 'a'), long_b = long_a + "b";
  TemplateValues a{"t", 0, long_a, 0, ""}, b{"t", 0, long_b, 0, ""};
  std::string pa = expand_path("/out/{span}", a), pb = expand_path("/out/{span}", b);
  EXPECT_LE(pa.size(), 5 + kMaxSegmentBytes);
  EXPECT_NE(pa, pb);
  TemplateValues odd{"t", 0, std::string_view("a/b\0c", 5), 0, ""};
  EXPECT_EQ(expand_path("/out/{span}", odd), "/out/a_b_c");
  TemplateValues empty{"t", 0, "", 0, ""};
  EXPECT_EQ(expand_path("/out/{span}", empty), "/out/nospan");
}

TEST(PathTemplate, AnyTimestampGivesAValidDate) {
  // Far past and far future used to leave strftime's buffer unterminated.
  for (int64_t ts : {INT64_MIN, INT64_MIN + 1, int64_t{-62167219200001}, int64_t{-1},
                     int64_t{253402300800000}, INT64_MAX}) {
    std::string d = utc_date(ts);
    EXPECT_TRUE(d == "invalid-date" || d.size() == 10) << ts << " -> " << d;
  }
  EXPECT_EQ(utc_date(-62167219200000), "0000-01-01");
  EXPECT_EQ(utc_date(253402300799999), "9999-12-31");
  EXPECT_EQ(utc_date(INT64_MIN), "invalid-date");
  EXPECT_EQ(utc_date(-1), "1969-12-31");
}

TEST(PathTemplate, UnknownFieldsAreReported) {
  std::string field;
  EXPECT_TRUE(template_has_unknown_field("/out/{topc}.log", field));
  EXPECT_EQ(field, "topc");
  EXPECT_FALSE(template_has_unknown_field("/out/{topic}-{partition}.log", field));
}

}  // namespace ferry::file
