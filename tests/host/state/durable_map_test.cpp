#include "state/durable_map.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <random>

#include "support/temp_dir.hpp"

namespace ferry::state {
namespace {

std::unique_ptr<DurableMap> open_ok(const std::filesystem::path& file) {
  auto m = DurableMap::open(file);
  EXPECT_TRUE(m) << m.status().message();
  return m ? std::move(m).value() : nullptr;
}

std::map<std::string, std::string> contents(const DurableMap& m) {
  std::map<std::string, std::string> got;
  m.for_each([&](const std::string& k, const std::string& v) { got[k] = v; });
  return got;
}

uint64_t size_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

TEST(DurableMap, PersistsAcrossReopen) {
  test::TempDir dir;
  auto m = open_ok(dir / "c/offsets.json");
  ASSERT_TRUE(m->update({{"65024:12", "1234"}, {"bin\xff\x00key", std::string("v\x01", 2)}}).ok());
  auto again = open_ok(dir / "c/offsets.json");
  EXPECT_EQ(again->get("65024:12"), "1234");
  EXPECT_EQ(again->get("bin\xff\x00key"), std::string("v\x01", 2));
  ASSERT_TRUE(again->update({{"65024:12", std::nullopt}}).ok());
  EXPECT_FALSE(open_ok(dir / "c/offsets.json")->get("65024:12"));
  // Almost UTF-8 (an overlong '/', a surrogate): JSON text cannot hold these either.
  ASSERT_TRUE(again->update({{"overÀ¯long", "surí rogate"}}).ok());
  EXPECT_EQ(open_ok(dir / "c/offsets.json")->get("overÀ¯long"), "surí rogate");
}

// After any mix of puts, overwrites and erases (binary keys and values included), with
// the journal folded into snapshots along the way, the files hold what a plain map holds.
TEST(DurableMap, ManyMixedUpdatesLeaveTheFilesEqualToAPlainMap) {
  test::TempDir dir;
  auto m = open_ok(dir / "state.json");
  std::map<std::string, std::string> want;
  std::mt19937 rng(7);
  auto key = [&] {
    int n = static_cast<int>(rng() % 60);
    return n % 7 == 0 ? std::string("bin\xfe", 4) + std::to_string(n) : "k" + std::to_string(n);
  };
  bool compacted = false;
  for (int round = 0; round < 3000; ++round) {
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
    uint64_t journal_before = size_of(m->journal_file());
    ASSERT_TRUE(m->update(changes).ok());
    compacted = compacted || size_of(m->journal_file()) < journal_before;
    for (const auto& [k, v] : changes) {
      if (v)
        want[k] = *v;
      else
        want.erase(k);
    }
    if (round % 500 == 499) {
      ASSERT_EQ(contents(*open_ok(dir / "state.json")), want) << round;
    }
  }
  EXPECT_TRUE(compacted) << "the journal was never folded into the snapshot";
  auto doc = nlohmann::json::parse(test::read_file(dir / "state.json"));
  EXPECT_EQ(doc["format"], 1);
  ASSERT_TRUE(m->update({}).ok());
}

// What issue 26 measured: every save rewrote the whole file, so its cost grew with the
// number of keys (one per tailed file). Now a save appends what it changes.
TEST(DurableMap, AnUpdateWritesWhatItChangesNotTheWholeMap) {
  test::TempDir dir;
  auto m = open_ok(dir / "offsets.json");
  std::map<std::string, std::optional<std::string>> many;
  for (int i = 0; i < 5000; ++i)
    many["65024:" + std::to_string(1000000 + i)] = std::to_string(i * 1000);
  ASSERT_TRUE(m->update(many).ok());
  for (auto& [k, v] : many) *v += "0";
  ASSERT_TRUE(m->update(many).ok());  // the journal now outweighs the map: folded
  struct stat before {};
  ASSERT_EQ(::stat((dir / "offsets.json").c_str(), &before), 0) << "never folded";
  uint64_t journal = size_of(m->journal_file());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(m->update({{"65024:1000007", std::to_string(i)}}).ok());
  // 200 saves of one key: about 200 short lines, and the snapshot untouched.
  EXPECT_LT(size_of(m->journal_file()) - journal, 200u * 64);
  struct stat after {};
  ASSERT_EQ(::stat((dir / "offsets.json").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(open_ok(dir / "offsets.json")->get("65024:1000007"), "199");
}

// Rewriting one key forever keeps both files at about the map's size, not the history's.
TEST(DurableMap, TheFilesStayBoundedUnderEndlessUpdates) {
  test::TempDir dir;
  auto m = open_ok(dir / "offsets.json");
  for (int i = 0; i < 8000; ++i)
    ASSERT_TRUE(m->update({{"p", std::to_string(i)}, {"q", std::to_string(i)}}).ok());
  EXPECT_LE(size_of(dir / "offsets.json") + size_of(m->journal_file()),
            2 * DurableMap::kMinJournalBytes);
  EXPECT_EQ(open_ok(dir / "offsets.json")->get("q"), "7999");
}

TEST(DurableMap, AnUpdateThatChangesNothingWritesNothing) {
  // file-source forgets files by the thousand; erasing keys that are not there must not
  // cost a write and an fdatasync each.
  test::TempDir dir;
  auto m = open_ok(dir / "state.json");
  ASSERT_TRUE(m->update({{"a", "1"}}).ok());
  uint64_t journal = size_of(m->journal_file());
  ASSERT_TRUE(m->update({{"gone", std::nullopt}, {"a", "1"}}).ok());
  ASSERT_TRUE(m->update({}).ok());
  EXPECT_EQ(size_of(m->journal_file()), journal);
  ASSERT_TRUE(m->update({{"gone", std::nullopt}, {"a", "2"}}).ok());
  EXPECT_GT(size_of(m->journal_file()), journal);
  EXPECT_EQ(open_ok(dir / "state.json")->get("a"), "2");
}

// A crash or a full disk in the middle of an append leaves part of a line: that save was
// never reported done. The lines before it count, the fragment is cut off, and the next
// save follows the last good line.
TEST(DurableMap, AnUnfinishedJournalLineIsCutOffAndTheGoodOnesKept) {
  test::TempDir dir;
  {
    auto m = open_ok(dir / "offsets.json");
    ASSERT_TRUE(m->update({{"p", "100"}}).ok());
    ASSERT_TRUE(m->update({{"q", "7"}}).ok());
  }
  std::string good = test::read_file(dir / "offsets.json.journal");
  for (std::string tail : {std::string("0badc0de {\"p\":\"5"),
                           std::string("12345678 {\"p\":\"9\"}\n"), std::string("\0\0\0\0", 4)}) {
    dir.write("offsets.json.journal", good + tail);
    auto m = open_ok(dir / "offsets.json");
    EXPECT_EQ(m->get("p"), "100");
    EXPECT_EQ(m->get("q"), "7");
    EXPECT_EQ(m->dropped_at_open(), tail.size());
    EXPECT_EQ(test::read_file(dir / "offsets.json.journal"), good);
    ASSERT_TRUE(m->update({{"p", "200"}}).ok());
    EXPECT_EQ(open_ok(dir / "offsets.json")->get("p"), "200");
    dir.write("offsets.json.journal", good);
  }
}

// Folding: the snapshot is replaced, then the journal emptied. A crash between the two
// replays the whole journal (this update's line last) over the new snapshot, which must
// change nothing.
TEST(DurableMap, ACrashBetweenSnapshotAndEmptyingTheJournalChangesNothing) {
  test::TempDir dir;
  auto m = open_ok(dir / "a/offsets.json");
  auto update = [](int i) -> std::map<std::string, std::optional<std::string>> {
    return {{"p", std::to_string(i)},
            {"k" + std::to_string(i), "x"},
            {"k" + std::to_string(i - 1), std::nullopt}};
  };
  std::string journal;
  int i = 1;
  for (; i < 100000; ++i) {
    std::string before = test::read_file(m->journal_file());
    ASSERT_TRUE(m->update(update(i)).ok());
    if (size_of(m->journal_file()) < before.size()) {
      // This update's line, as the folded journal ended with it: the same changes made
      // to a map in the same state write the same line.
      auto twin = open_ok(dir / "b/offsets.json");
      ASSERT_TRUE(twin->update({{"p", "0"}, {"k" + std::to_string(i - 1), "x"}}).ok());
      uint64_t at = size_of(twin->journal_file());
      ASSERT_TRUE(twin->update(update(i)).ok());
      journal = before + test::read_file(twin->journal_file()).substr(at);
      break;
    }
  }
  ASSERT_FALSE(journal.empty()) << "never folded";
  dir.write("a/offsets.json.journal", journal);
  auto again = open_ok(dir / "a/offsets.json");
  EXPECT_EQ(again->dropped_at_open(), 0u);
  EXPECT_EQ(contents(*again), (std::map<std::string, std::string>{{"p", std::to_string(i)},
                                                                  {"k" + std::to_string(i), "x"}}));
}

TEST(DurableMap, ALeftoverTempFileFromACrashDoesNotCorruptState) {
  test::TempDir dir;
  auto m = open_ok(dir / "offsets.json");
  ASSERT_TRUE(m->update({{"p", "100"}}).ok());
  // A crash between writing a snapshot's temp file and renaming it leaves a torn temp.
  dir.write("offsets.json.tmp", "{\"format\":1,\"entr");
  auto after = open_ok(dir / "offsets.json");
  EXPECT_EQ(after->get("p"), "100");
  ASSERT_TRUE(after->update({{"p", "200"}}).ok());
  EXPECT_EQ(open_ok(dir / "offsets.json")->get("p"), "200");
}

// State written by an earlier ferry (a snapshot only, no journal) opens as it was.
TEST(DurableMap, ASnapshotWithoutAJournalOpensAsItWas) {
  test::TempDir dir;
  dir.write("offsets.json",
            "{\n \"entries\": {\n  \"p\": \"1\",\n  \"base64:AP8=\": \"x\"\n },\n"
            " \"format\": 1\n}");
  auto m = open_ok(dir / "offsets.json");
  EXPECT_EQ(m->get("p"), "1");
  EXPECT_EQ(m->get(std::string("\x00\xff", 2)), "x");
}

TEST(DurableMap, RefusesACorruptSnapshotInsteadOfStartingOver) {
  test::TempDir dir;
  dir.write("offsets.json", "not json");
  auto m = DurableMap::open(dir / "offsets.json");
  ASSERT_FALSE(m);
  EXPECT_NE(m.status().message().find("not a valid ferry state file"), std::string::npos)
      << m.status().message();
}

TEST(DurableMap, FailedWriteLeavesMemoryUnchanged) {
  test::TempDir dir;
  auto m = open_ok(dir / "sub/offsets.json");
  ASSERT_TRUE(m->update({{"p", "1"}}).ok());
  std::filesystem::remove_all(dir / "sub");  // the directory vanishes under us
  Status s = m->update({{"p", "2"}});
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.retriable());
  EXPECT_EQ(m->get("p"), "1");
}

// Files removed while ferry runs (the directory left): appending to the unlinked
// journal would save nothing, so the next save writes everything again.
TEST(DurableMap, StateFilesRemovedUnderUsAreWrittenAgainWhole) {
  test::TempDir dir;
  auto m = open_ok(dir / "offsets.json");
  ASSERT_TRUE(m->update({{"p", "1"}, {"q", "2"}}).ok());
  std::filesystem::remove(dir / "offsets.json");
  std::filesystem::remove(dir / "offsets.json.journal");
  ASSERT_TRUE(m->update({{"p", "3"}}).ok());
  auto again = open_ok(dir / "offsets.json");
  EXPECT_EQ(again->get("p"), "3");
  EXPECT_EQ(again->get("q"), "2");
}

}  // namespace
}  // namespace ferry::state
