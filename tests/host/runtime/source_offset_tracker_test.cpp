#include "runtime/source_offset_tracker.hpp"

#include <gtest/gtest.h>

namespace ferry::runtime {

TEST(SourceOffsetTracker, CommitsOnlyAContiguousAcknowledgedPrefix) {
  SourceOffsetTracker t;
  auto* a = t.add("file", "10", 10);
  auto* b = t.add("file", "20", 10);
  auto* c = t.add("file", "30", 10);
  EXPECT_EQ(t.in_flight_records(), 3u);
  t.ack(c);  // out of order: nothing before it is in yet
  EXPECT_TRUE(t.take_committable().empty());
  t.ack(a);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"file", "10"}}));
  t.ack(b);  // now b and c are both acknowledged
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"file", "30"}}));
  EXPECT_EQ(t.in_flight_records(), 0u);
  EXPECT_EQ(t.in_flight_bytes(), 0u);
}

TEST(SourceOffsetTracker, PartitionsAreIndependent) {
  SourceOffsetTracker t;
  auto* a1 = t.add("a", "1", 1);
  auto* b1 = t.add("b", "1", 1);
  auto* a2 = t.add("a", "2", 1);
  t.ack(b1);
  t.ack(a2);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"b", "1"}}));
  t.ack(a1);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"a", "2"}}));
}

TEST(SourceOffsetTracker, OffsetOnlyMarkersWaitForEarlierRecords) {
  SourceOffsetTracker t;
  auto* a = t.add("f", "5", 5);
  EXPECT_EQ(t.add("f", "5;done", 0, /*done=*/true), nullptr);
  EXPECT_TRUE(t.take_committable().empty());
  t.ack(a);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"f", "5;done"}}));
  // A marker with nothing in flight commits at once (an empty file).
  t.add("g", "0;done", 0, true);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"g", "0;done"}}));
}

TEST(SourceOffsetTracker, HasCommittableSaysWhetherTakeWouldReturnAnything) {
  SourceOffsetTracker t;
  EXPECT_FALSE(t.has_committable());
  auto* a = t.add("f", "1", 1);
  auto* b = t.add("g", "1", 1);
  EXPECT_FALSE(t.has_committable());  // in flight is not committable
  t.ack(a);
  t.ack(b);
  EXPECT_TRUE(t.has_committable());
  EXPECT_EQ(t.take_committable().size(), 2u);
  EXPECT_FALSE(t.has_committable());
  // Records without a source position (a sensor reading) never have anything to commit.
  t.ack(t.add("", "", 1));
  EXPECT_FALSE(t.has_committable());
  EXPECT_TRUE(t.take_committable().empty());
}

TEST(SourceOffsetTracker, ManyRecordsKeepPointersValid) {
  SourceOffsetTracker t;
  std::vector<SourceOffsetTracker::Entry*> entries;
  for (int i = 1; i <= 100000; ++i) entries.push_back(t.add("p", std::to_string(i), 1));
  for (size_t i = entries.size(); i-- > 0;) t.ack(entries[i]);  // reverse order
  EXPECT_EQ(t.take_committable().at("p"), "100000");
}

TEST(SourceOffsetTracker, AForgottenPartitionCommitsNothingUntilItIsUsedAgain) {
  SourceOffsetTracker t;
  t.ack(t.add("gone", "7", 1));
  t.ack(t.add("kept", "3", 1));
  EXPECT_TRUE(t.has_committable());
  t.forget("gone");
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"kept", "3"}}));
  t.forget("gone");  // twice, or never seen: nothing happens
  t.forget("never");
  EXPECT_FALSE(t.has_committable());
  // The same name used again (a new file under a reused inode) starts afresh.
  t.ack(t.add("gone", "2", 1));
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"gone", "2"}}));
}

TEST(SourceOffsetTracker, ForgettingWithRecordsInFlightStillCommitsThem) {
  SourceOffsetTracker t;
  t.ack(t.add("p", "1", 1));
  auto* b = t.add("p", "2", 1);
  t.forget("p");  // "1" is dropped; "2" is still on its way to Kafka
  EXPECT_FALSE(t.has_committable());
  EXPECT_EQ(t.in_flight_records(), 1u);
  t.ack(b);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"p", "2"}}));
}

TEST(SourceOffsetTracker, RestoreGivesBackWhatAFailedSaveTookUnlessSomethingNewerCame) {
  SourceOffsetTracker t;
  t.ack(t.add("a", "1", 1));
  t.ack(t.add("b", "1", 1));
  t.ack(t.add("c", "1", 1));
  auto taken = t.take_committable();
  ASSERT_EQ(taken.size(), 3u);
  t.ack(t.add("a", "2", 1));  // newer than what was taken
  t.forget("c");              // forgotten meanwhile: not brought back
  t.restore(taken);
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"a", "2"}, {"b", "1"}}));
  EXPECT_FALSE(t.has_committable());
}

namespace {
std::map<std::string, std::string> delivered(SourceOffsetTracker& t) {
  std::map<std::string, std::string> out;
  t.take_delivered([&](std::string_view p, std::string_view o) { out[std::string(p)] = o; });
  return out;
}
}  // namespace

TEST(SourceOffsetTracker, DeliveredReportsTheAcknowledgedPrefixOncePerGrowthIncludingNoPartition) {
  SourceOffsetTracker t;
  auto* a = t.add("", "1", 1);
  auto* b = t.add("", "2", 1);
  auto* c = t.add("f", "10", 1);
  EXPECT_FALSE(t.has_delivered());
  t.ack(b);  // not a prefix yet: record 1 is still out
  EXPECT_FALSE(t.has_delivered());
  t.ack(a);
  t.ack(c);
  EXPECT_TRUE(t.has_delivered());
  EXPECT_EQ(delivered(t), (std::map<std::string, std::string>{{"", "2"}, {"f", "10"}}));
  EXPECT_TRUE(delivered(t).empty());
  // Taking what is committable does not hide deliveries, nor the other way round.
  EXPECT_EQ(t.take_committable(), (std::map<std::string, std::string>{{"f", "10"}}));
  t.ack(t.add("", "3", 1));
  EXPECT_EQ(delivered(t), (std::map<std::string, std::string>{{"", "3"}}));
}

TEST(SourceOffsetTracker, AForgottenPartitionIsNotReportedDelivered) {
  SourceOffsetTracker t;
  t.ack(t.add("gone", "1", 1));
  t.forget("gone");
  EXPECT_TRUE(delivered(t).empty());
}

}  // namespace ferry::runtime
