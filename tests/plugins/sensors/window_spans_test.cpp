#include "window_spans.hpp"

#include <gtest/gtest.h>

namespace ferry::sensors {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kT0 = 1'763'812'800'000;  // 2025-11-22T12:00:00Z, a minute boundary

TEST(WindowSpans, OneSpanPerDevicePerWindowClosedWhenTheWindowEnds) {
  WindowSpans w(kMinute, 0);
  bool opened = false;
  EXPECT_EQ(w.assign("d1", kT0 + 5, opened), "d1@2025-11-22T12:00:00.000Z");
  EXPECT_TRUE(opened);
  EXPECT_EQ(w.assign("d1", kT0 + 59'999, opened), "d1@2025-11-22T12:00:00.000Z");
  EXPECT_FALSE(opened);
  EXPECT_EQ(w.assign("d2", kT0 + 1, opened), "d2@2025-11-22T12:00:00.000Z");
  EXPECT_TRUE(opened);
  EXPECT_EQ(w.assign("d1", kT0 + kMinute, opened), "d1@2025-11-22T12:01:00.000Z");
  EXPECT_TRUE(opened);

  EXPECT_TRUE(w.due(kT0 + kMinute - 1).empty());
  auto due = w.due(kT0 + kMinute);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].end_ms, kT0 + kMinute);
  EXPECT_EQ(w.open_count(), 1u);
}

TEST(WindowSpans, LateReadingForAClosedWindowGetsNoSpan) {
  WindowSpans w(kMinute, 0);
  bool opened = false;
  w.assign("d1", kT0, opened);
  ASSERT_EQ(w.due(kT0 + kMinute).size(), 1u);
  EXPECT_EQ(w.assign("d1", kT0 + 30'000, opened), "");
  EXPECT_FALSE(opened);
  // Another device's window is unaffected.
  EXPECT_NE(w.assign("d2", kT0 + 30'000, opened), "");
}

TEST(WindowSpans, GraceKeepsTheSpanOpenLonger) {
  WindowSpans w(kMinute, 2000);
  bool opened = false;
  w.assign("d1", kT0, opened);
  EXPECT_TRUE(w.due(kT0 + kMinute + 1999).empty());
  EXPECT_EQ(w.assign("d1", kT0 + 59'000, opened), "d1@2025-11-22T12:00:00.000Z");
  EXPECT_EQ(w.due(kT0 + kMinute + 2000).size(), 1u);
}

TEST(WindowSpans, TimesBeforeTheEpochFloorCorrectly) {
  EXPECT_EQ(WindowSpans::floor_div(-1, 1000), -1);
  EXPECT_EQ(WindowSpans::floor_div(-1000, 1000), -1);
  EXPECT_EQ(WindowSpans::floor_div(999, 1000), 0);
}

}  // namespace
}  // namespace ferry::sensors
