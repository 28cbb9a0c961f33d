#include "runtime/durable_map.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.hpp"

namespace ferry::runtime {

TEST(DurableMap, PersistsAcrossReopen) {
  test::TempDir dir;
  std::string err;
  auto m = DurableMap::open(dir / "c/offsets.json", err);
  ASSERT_TRUE(m) << err;
  ASSERT_FALSE(m->update({{"65024:12", "1234"}, {"bin\xff\x00key", std::string("v\x01", 2)}}));
  auto again = DurableMap::open(dir / "c/offsets.json", err);
  ASSERT_TRUE(again) << err;
  EXPECT_EQ(again->get("65024:12"), "1234");
  EXPECT_EQ(again->get("bin\xff\x00key"), std::string("v\x01", 2));
  ASSERT_FALSE(again->update({{"65024:12", std::nullopt}}));
  EXPECT_FALSE(DurableMap::open(dir / "c/offsets.json", err)->get("65024:12"));
}

TEST(DurableMap, ALeftoverTempFileFromACrashDoesNotCorruptState) {
  test::TempDir dir;
  std::string err;
  auto m = DurableMap::open(dir / "offsets.json", err);
  ASSERT_FALSE(m->update({{"p", "100"}}));
  // A crash between writing the temp file and renaming it leaves a half-written temp.
  dir.write("offsets.json.tmp", "{\"format\":1,\"entr");
  auto after = DurableMap::open(dir / "offsets.json", err);
  ASSERT_TRUE(after) << err;
  EXPECT_EQ(after->get("p"), "100");
  ASSERT_FALSE(after->update({{"p", "200"}}));
  EXPECT_EQ(DurableMap::open(dir / "offsets.json", err)->get("p"), "200");
  EXPECT_FALSE(std::filesystem::exists(dir / "offsets.json.tmp"));
}

TEST(DurableMap, RefusesACorruptFileInsteadOfStartingOver) {
  test::TempDir dir;
  dir.write("offsets.json", "not json");
  std::string err;
  EXPECT_FALSE(DurableMap::open(dir / "offsets.json", err));
  EXPECT_NE(err.find("not a valid ferry state file"), std::string::npos) << err;
}

TEST(DurableMap, FailedWriteLeavesMemoryUnchanged) {
  test::TempDir dir;
  std::string err;
  auto m = DurableMap::open(dir / "sub/offsets.json", err);
  ASSERT_FALSE(m->update({{"p", "1"}}));
  std::filesystem::remove_all(dir / "sub");  // the directory vanishes under us
  EXPECT_TRUE(m->update({{"p", "2"}}).has_value());
  EXPECT_EQ(m->get("p"), "1");
}

}  // namespace ferry::runtime
