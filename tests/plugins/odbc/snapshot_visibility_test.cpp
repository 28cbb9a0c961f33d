#include "snapshot_visibility.hpp"

#include <gtest/gtest.h>

namespace ferry::odbc {
namespace {

constexpr uint64_t kUntil = 0x16C0000;

TEST(SnapshotVisibility, SeesCommittedTransactionsBeforeItsEndOnly) {
  auto v = SnapshotVisibility::parse("740:745:741,743", kUntil);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->saw(739, kUntil - 1)) << "below xmin: committed before the snapshot";
  EXPECT_TRUE(v->saw(740, kUntil - 1));
  EXPECT_FALSE(v->saw(741, kUntil - 1)) << "in progress when the snapshot was taken";
  EXPECT_TRUE(v->saw(742, kUntil - 1));
  EXPECT_FALSE(v->saw(743, kUntil - 1));
  EXPECT_TRUE(v->saw(744, kUntil - 1));
  EXPECT_FALSE(v->saw(745, kUntil - 1)) << "xmax and above: started after the snapshot";
  EXPECT_FALSE(v->saw(739, kUntil)) << "commits at or after `until` came after the snapshot";
  EXPECT_EQ(v->text(), "740:745:741,743");
}

TEST(SnapshotVisibility, MapsThirtyTwoBitXidsAcrossAnEpochBoundary) {
  // xmin in epoch 0, xmax in epoch 1 (2^32 + 5).
  auto v = SnapshotVisibility::parse("4294967290:4294967301:4294967294", kUntil);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->saw(0xFFFFFFFBu, 0)) << "2^32 - 5, epoch 0, visible";
  EXPECT_FALSE(v->saw(0xFFFFFFFEu, 0)) << "2^32 - 2 is in progress";
  EXPECT_TRUE(v->saw(3, 0)) << "2^32 + 3, epoch 1, visible";
  EXPECT_FALSE(v->saw(5, 0)) << "2^32 + 5 is xmax";
}

TEST(SnapshotVisibility, RefusesWhatIsNotASnapshot) {
  EXPECT_FALSE(SnapshotVisibility::parse("", kUntil));
  EXPECT_FALSE(SnapshotVisibility::parse("740", kUntil));
  EXPECT_FALSE(SnapshotVisibility::parse("740:745", kUntil));
  EXPECT_FALSE(SnapshotVisibility::parse("745:740:", kUntil));
  EXPECT_FALSE(SnapshotVisibility::parse("740:745:x", kUntil));
  EXPECT_TRUE(SnapshotVisibility::parse("740:740:", kUntil));
}

}  // namespace
}  // namespace ferry::odbc
