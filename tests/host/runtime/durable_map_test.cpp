#include "runtime/durable_map.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <random>

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
  // Almost UTF-8 (an overlong '/', a surrogate): JSON text cannot hold these either.
  ASSERT_FALSE(again->update({{"overÀ¯long", "surí rogate"}}));
  EXPECT_EQ(DurableMap::open(dir / "c/offsets.json", err)->get("overÀ¯long"), "surí rogate");
}

// Each update rewrites the file from the entries' kept lines plus the changed ones:
// after any mix of puts, overwrites and erases (binary keys and values included), the
// file holds exactly what a plain map holds.
TEST(DurableMap, ManyMixedUpdatesLeaveTheFileEqualToAPlainMap) {
  test::TempDir dir;
  std::string err;
  auto m = DurableMap::open(dir / "state.json", err);
  ASSERT_TRUE(m) << err;
  std::map<std::string, std::string> want;
  std::mt19937 rng(7);
  auto key = [&] {
    int n = static_cast<int>(rng() % 60);
    return n % 7 == 0 ? std::string("bin\xfe", 4) + std::to_string(n) : "k" + std::to_string(n);
  };
  for (int round = 0; round < 300; ++round) {
    std::map<std::string, std::optional<std::string>> changes;
    for (int i = static_cast<int>(rng() % 4); i >= 0; --i) {
      std::string k = key();
      if (rng() % 3 == 0) {
        changes[k] = std::nullopt;
      } else {
        std::string v = "v" + std::to_string(rng() % 1000);
        if (rng() % 5 == 0) v += std::string("\x00\"\\\n", 4);
        changes[k] = v;
      }
    }
    ASSERT_FALSE(m->update(changes));
    for (const auto& [k, v] : changes) {
      if (v)
        want[k] = *v;
      else
        want.erase(k);
    }
    if (round % 50 == 49) {
      auto again = DurableMap::open(dir / "state.json", err);
      ASSERT_TRUE(again) << err;
      std::map<std::string, std::string> got;
      again->for_each([&](const std::string& k, const std::string& v) { got[k] = v; });
      ASSERT_EQ(got, want) << "round " << round;
    }
  }
  auto doc = nlohmann::json::parse(test::read_file(dir / "state.json"));
  EXPECT_EQ(doc["format"], 1);
  EXPECT_EQ(doc["entries"].size(), want.size());
  ASSERT_FALSE(m->update({}));  // an empty map still writes a valid document
}

TEST(DurableMap, AnUpdateThatChangesNothingDoesNotRewriteTheFile) {
  // file-source forgets files by the thousand; erasing keys that are not there must not
  // cost a rewrite and an fsync each.
  test::TempDir dir;
  std::string err;
  auto m = DurableMap::open(dir / "state.json", err);
  ASSERT_TRUE(m) << err;
  ASSERT_FALSE(m->update({{"a", "1"}}));
  std::filesystem::remove(dir / "state.json");  // a write would bring it back
  ASSERT_FALSE(m->update({{"gone", std::nullopt}, {"a", "1"}}));
  ASSERT_FALSE(m->update({}));
  EXPECT_FALSE(std::filesystem::exists(dir / "state.json"));
  ASSERT_FALSE(m->update({{"gone", std::nullopt}, {"a", "2"}}));  // one real change: all of it
  EXPECT_EQ(DurableMap::open(dir / "state.json", err)->get("a"), "2");
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
