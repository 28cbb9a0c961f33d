#include "line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::file {
namespace {

struct Out {
  std::string text;
  Eol eol;
  uint64_t end;
  bool offset_only;
};

// Feeds `input` in chunks of `chunk` bytes and collects every line, then the rest.
std::vector<Out> split(const std::string& input, size_t chunk, size_t max = 1 << 20,
                       LongLinePolicy policy = LongLinePolicy::kSplit) {
  LineSplitter s(max, policy);
  std::vector<Out> out;
  auto drain = [&] {
    while (auto l = s.next())
      out.push_back({std::string(l->text), l->eol, l->end_offset, l->offset_only});
  };
  for (size_t i = 0; i < input.size(); i += chunk) {
    s.feed(std::string_view(input).substr(i, chunk));
    drain();
  }
  if (auto r = s.take_rest())
    out.push_back({std::string(r->text), r->eol, r->end_offset, r->offset_only});
  return out;
}

// What a per-span file sink would write back: the text plus its terminator.
std::string restore(const std::vector<Out>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (l.offset_only) continue;
    out += l.text;
    out += l.eol == Eol::kLf ? "\n" : l.eol == Eol::kCrlf ? "\r\n" : "";
  }
  return out;
}

}  // namespace

TEST(LineSplitter, SplitsLfCrlfEmptyAndUnterminatedLines) {
  std::string input = "one\r\ntwo\n\nlast";
  for (size_t chunk : {1u, 2u, 3u, 100u}) {
    auto lines = split(input, chunk);
    ASSERT_EQ(lines.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(lines[0].text, "one");
    EXPECT_EQ(lines[0].eol, Eol::kCrlf);
    EXPECT_EQ(lines[0].end, 5u);
    EXPECT_EQ(lines[1].text, "two");
    EXPECT_EQ(lines[1].eol, Eol::kLf);
    EXPECT_EQ(lines[2].text, "");
    EXPECT_EQ(lines[2].end, 10u);
    EXPECT_EQ(lines[3].text, "last");
    EXPECT_EQ(lines[3].eol, Eol::kNone);
    EXPECT_EQ(lines[3].end, 14u);
    EXPECT_EQ(restore(lines), input);
  }
}

TEST(LineSplitter, NoRestWhenInputEndsWithNewline) {
  auto lines = split("a\nb\n", 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].eol, Eol::kLf);
}

TEST(LineSplitter, LongLinesAreSplitIntoPiecesThatRestoreExactly) {
  std::string big(10'000, 'x');
  std::string input = "short\n" + big + "\r\nafter\n";
  for (size_t chunk : {7u, 4096u, 100000u}) {
    auto lines = split(input, chunk, 1000);
    for (const auto& l : lines) EXPECT_LE(l.text.size(), 1000u);
    EXPECT_EQ(restore(lines), input) << "chunk " << chunk;
    EXPECT_EQ(lines.back().text, "after");
  }
}

TEST(LineSplitter, CrlfIsNeverSplitAcrossPieces) {
  std::string input = std::string(9, 'a') + "\r\n";  // the \r sits exactly at max_line_bytes
  auto lines = split(input, 100, 10);
  EXPECT_EQ(restore(lines), input);
  for (const auto& l : lines) EXPECT_EQ(l.text.find('\r'), std::string::npos);
}

TEST(LineSplitter, TruncateKeepsTheHeadAndMovesTheOffsetPastTheLine) {
  std::string input = std::string(50, 'y') + "\nnext\n";
  for (size_t chunk : {3u, 1000u}) {
    auto lines = split(input, chunk, 10, LongLinePolicy::kTruncate);
    std::vector<std::string> texts;
    for (const auto& l : lines)
      if (!l.offset_only) texts.push_back(l.text);
    ASSERT_EQ(texts.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(texts[0], std::string(10, 'y'));
    EXPECT_EQ(texts[1], "next");
    EXPECT_EQ(lines.back().end, input.size());
  }
}

TEST(LineSplitter, SkipDropsTheLineButAdvancesTheOffset) {
  std::string input = "ok\n" + std::string(50, 'z') + "\nfine\n";
  for (size_t chunk : {3u, 1000u}) {
    auto lines = split(input, chunk, 10, LongLinePolicy::kSkip);
    std::vector<std::string> texts;
    for (const auto& l : lines)
      if (!l.offset_only) texts.push_back(l.text);
    EXPECT_EQ(texts, (std::vector<std::string>{"ok", "fine"})) << "chunk " << chunk;
    EXPECT_EQ(lines.back().end, input.size());
  }
}

TEST(LineSplitter, OffsetsStartAtTheResumePosition) {
  LineSplitter s(1024, LongLinePolicy::kSplit, 1000);
  s.feed("abc\ndef\n");
  EXPECT_EQ(s.next()->end_offset, 1004u);
  EXPECT_EQ(s.next()->end_offset, 1008u);
  EXPECT_FALSE(s.next());
}

TEST(LineSplitter, MultiByteUtf8PassesThroughUntouched) {
  std::string input = "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x9A\xA2\n";
  auto lines = split(input, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(restore(lines), input);
}

}  // namespace ferry::file
