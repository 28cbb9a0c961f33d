#include "common/secrets.hpp"

#include <gtest/gtest.h>

namespace ferry::secrets {

TEST(Secrets, ScrubsEveryOccurrenceLongestFirstAndIgnoresTrivialValues) {
  remember("hunter2-and-more\n");  // from a file: the newline is not part of it
  remember("hunter2");
  remember("abc");  // too short to mask without garbling every line
  EXPECT_EQ(scrub("a=hunter2-and-more b=hunter2 c=hunter2 abc"),
            "a=******** b=******** c=******** abc");
  EXPECT_EQ(scrub("nothing secret"), "nothing secret");
}

}  // namespace ferry::secrets
