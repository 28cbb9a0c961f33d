#include "spans/span_ledger.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/logging.hpp"
#include "spans/span_tracker.hpp"
#include "support/temp_dir.hpp"

namespace ferry::spans {
namespace {

// A publisher with nowhere to publish: events fail fast, which the ledger tolerates.
std::unique_ptr<SpanPublisher> offline_publisher() {
  std::string error;
  auto p = SpanPublisher::create(
      {{{"bootstrap.servers", "127.0.0.1:1"}, {"message.timeout.ms", "200"}, {"log_level", "0"}}},
      "spans", "test-host", error);
  EXPECT_NE(p, nullptr) << error;
  return p;
}

// An offset file in a temp dir and an offline publisher, as a source task has them.
class SpanLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = state::DurableMap::open(dir_ / "offsets.json");
    ASSERT_TRUE(opened) << opened.status().message();
    offsets_ = std::move(opened).value();
    publisher_ = offline_publisher();
  }
  test::TempDir dir_;
  std::unique_ptr<state::DurableMap> offsets_;
  std::unique_ptr<SpanPublisher> publisher_;
  std::shared_ptr<spdlog::logger> log_ = logging::get("test");
};

}  // namespace

TEST(SpanIds, AreUniqueHexAndTimeOrdered) {
  std::set<std::string> ids;
  std::string previous;
  for (int i = 0; i < 10'000; ++i) {
    std::string id = new_span_id();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ASSERT_GE(id.substr(0, 12), previous.substr(0, std::min<size_t>(12, previous.size())));
    previous = id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST(SpanTimes, FormatAndParseRoundTrip) {
  int64_t ms = 1'795'338'193'123;
  EXPECT_EQ(format_time(ms), "2026-11-22T09:03:13.123Z");
  EXPECT_EQ(parse_time(format_time(ms)), ms);
  EXPECT_EQ(parse_time("not a time"), 0);
}

TEST_F(SpanLedgerTest, AResumedSpanKeepsItsIdAndContinuesAfterTheCommittedSeq) {
  std::string id;
  {
    SpanLedger ledger(*publisher_, "c", "topic", 0, *offsets_, log_);
    ASSERT_TRUE(ledger.open("file-1", nlohmann::json::object()).ok());
    SpanLedger::Span* s = ledger.span_for("file-1");
    id = s->id;
    for (int i = 0; i < 5; ++i) ledger.next_seq(s);
    // Records 1-3 acknowledged and committable; 4 and 5 still in flight at the "crash".
    for (int64_t off = 10; off < 13; ++off) ledger.acked(s, "topic", 0, off);
    ledger.committable(s, 3);
    ASSERT_TRUE(offsets_->update(ledger.take_changes()).ok());
  }
  SpanLedger again(*publisher_, "c", "topic", 0, *offsets_, log_);
  ASSERT_TRUE(again.open("file-1", nlohmann::json::object()).ok());
  SpanLedger::Span* s = again.span_for("file-1");
  EXPECT_EQ(s->id, id);
  EXPECT_EQ(again.next_seq(s), 4u);  // records 4 and 5 are sent again with their old seq
  EXPECT_EQ((s->ranges["topic"][0]), (std::pair<int64_t, int64_t>{10, 12}));

  // Closed and fully committed: the next open of the key is a new span.
  again.acked(s, "topic", 0, 13);
  ASSERT_TRUE(again.close("file-1").ok());
  EXPECT_EQ(again.span_for("file-1")->id == id, false);
}

TEST_F(SpanLedgerTest, EachTaskResumesOnlyItsOwnSpans) {
  std::string id;
  {
    SpanLedger task1(*publisher_, "c", "topic", 0, *offsets_, log_, 1, 2);
    SpanLedger::Span* s = task1.span_for("file-1");
    id = s->id;
    ASSERT_TRUE(offsets_->update(task1.take_changes()).ok());
  }
  SpanLedger task0(*publisher_, "c", "topic", 0, *offsets_, log_, 0, 2);
  EXPECT_EQ(task0.tracked_count(), 0u);  // task 1's span is not task 0's business
  SpanLedger again1(*publisher_, "c", "topic", 0, *offsets_, log_, 1, 2);
  EXPECT_EQ(again1.span_for("file-1")->id, id);
  // With one task left, task 0 takes over the spans of the task that is gone.
  SpanLedger only(*publisher_, "c", "topic", 0, *offsets_, log_, 0, 1);
  EXPECT_EQ(only.span_for("file-1")->id, id);
}

TEST_F(SpanLedgerTest, UnreadableSavedSpansAreSkippedAndTheRestResumed) {
  std::string id;
  {
    SpanLedger ledger(*publisher_, "c", "topic", 0, *offsets_, log_);
    id = ledger.span_for("good")->id;
    ASSERT_TRUE(offsets_->update(ledger.take_changes()).ok());
  }
  // Hand-edited or written by something else: fields of the wrong type.
  ASSERT_TRUE(offsets_
                  ->update({{std::string(kStateKeyPrefix) + "bad-offsets",
                             R"({"key":"b1","offsets":{"topic":{"0":["x","y"]}}})"},
                            {std::string(kStateKeyPrefix) + "bad-seq", R"({"key":"b2","seq":"7"})"},
                            {std::string(kStateKeyPrefix) + "not-json", "{"}})
                  .ok());
  SpanLedger again(*publisher_, "c", "topic", 0, *offsets_, log_);
  EXPECT_EQ(again.tracked_count(), 1u);
  EXPECT_EQ(again.span_for("good")->id, id);
}

}  // namespace ferry::spans
