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

TEST(PathTemplate, UnknownFieldsAreReported) {
  std::string field;
  EXPECT_TRUE(template_has_unknown_field("/out/{topc}.log", field));
  EXPECT_EQ(field, "topc");
  EXPECT_FALSE(template_has_unknown_field("/out/{topic}-{partition}.log", field));
}

}  // namespace ferry::file
