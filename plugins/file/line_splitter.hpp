// Splits a byte stream into lines. A line ends in "\n" or "\r\n"; the terminator is
// reported so the line can be restored byte for byte. Lines longer than
// max_line_bytes are split into pieces (reported as unterminated), truncated, or
// skipped, as configured. Pure logic on a buffer: the caller feeds bytes it read.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::file {

enum class Eol { kLf, kCrlf, kNone };
enum class LongLinePolicy { kSplit, kTruncate, kSkip };

struct Line {
  std::string_view text;  // without terminator; valid until the next feed/next call
  Eol eol;
  uint64_t end_offset;       // stream position just after this line (and its terminator)
  bool oversized;            // truncated or skipped because of max_line_bytes
  bool offset_only = false;  // no record: only the offset moves (skipped/truncated rest)
};

class LineSplitter {
 public:
  LineSplitter(size_t max_line_bytes, LongLinePolicy policy, uint64_t start_offset = 0)
      : max_(max_line_bytes), policy_(policy), base_(start_offset) {}

  // Appends bytes read at the current end of the stream.
  void feed(std::string_view bytes) {
    compact();
    buf_.append(bytes);
  }

  // The next complete line, or nullopt when more bytes are needed. Under kSkip a
  // skipped line is returned with `oversized` and empty text, so its offset advances.
  std::optional<Line> next() {
    for (;;) {
      std::string_view pending(buf_.data() + pos_, buf_.size() - pos_);
      size_t scan_from = std::min(scanned_, pending.size());
      const void* hit = std::memchr(pending.data() + scan_from, '\n', pending.size() - scan_from);
      if (hit == nullptr) {
        scanned_ = pending.size();
        if (pending.size() <= max_ || max_ == 0) return std::nullopt;
        if (auto l = long_line(pending)) return l;
        continue;
      }
      size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - pending.data());
      return finish_line(pending, nl);
    }
  }

  // The unterminated rest at the end of the stream (EOF reached, or eof_timeout
  // passed), emitted as a line without terminator. nullopt when nothing is pending.
  std::optional<Line> take_rest() {
    std::string_view pending(buf_.data() + pos_, buf_.size() - pos_);
    if (pending.empty() && !discarding_) return std::nullopt;
    bool was_discarding = discarding_;
    discarding_ = false;
    consume(pending.size());
    if (was_discarding) return Line{{}, Eol::kNone, offset(), true, true};
    return Line{pending, Eol::kNone, offset(), false};
  }

  uint64_t offset() const { return base_ + pos_; }  // position after the last line taken
  size_t pending_bytes() const { return buf_.size() - pos_; }

 private:
  std::optional<Line> finish_line(std::string_view pending, size_t nl) {
    bool crlf = nl > 0 && pending[nl - 1] == '\r';
    std::string_view text = pending.substr(0, crlf ? nl - 1 : nl);
    consume(nl + 1);
    Eol eol = crlf ? Eol::kCrlf : Eol::kLf;
    if (discarding_) {
      // The rest of a truncated or skipped line: no record, but the offset moves.
      discarding_ = false;
      return Line{{}, eol, offset(), true, true};
    }
    if (max_ != 0 && text.size() > max_) {
      if (policy_ == LongLinePolicy::kSkip) return Line{{}, eol, offset(), true, true};
      if (policy_ == LongLinePolicy::kTruncate)
        return Line{text.substr(0, max_), eol, offset(), true};
      // kSplit of a complete long line: emit max-sized pieces; re-queue the rest.
      return split_complete(text, eol);
    }
    return Line{text, eol, offset(), false};
  }

  std::optional<Line> long_line(std::string_view pending) {
    if (discarding_) {  // still inside a truncated/skipped line: drop what we have
      consume(pending.size());
      return std::nullopt;
    }
    switch (policy_) {
      case LongLinePolicy::kSplit: {
        size_t n = max_;
        // Never split a "\r\n" across two pieces.
        if (pending[n - 1] == '\r' && n > 1) --n;
        std::string_view piece = pending.substr(0, n);
        consume(n);
        return Line{piece, Eol::kNone, offset(), false};
      }
      case LongLinePolicy::kTruncate: {
        std::string_view head = pending.substr(0, max_);
        consume(pending.size());
        discarding_ = true;
        return Line{head, Eol::kNone, offset(), true};
      }
      case LongLinePolicy::kSkip:
        consume(pending.size());
        discarding_ = true;
        return std::nullopt;
    }
    return std::nullopt;
  }

  // A complete line longer than max_ found in one buffer under kSplit.
  std::optional<Line> split_complete(std::string_view text, Eol eol) {
    // Rewind to the line start and hand out the first piece; the loop in next()
    // produces the following pieces because the rest is still longer than max_ or
    // ends in the original terminator.
    size_t term = eol == Eol::kCrlf ? 2 : 1;
    pos_ -= text.size() + term;
    scanned_ = 0;
    size_t n = max_;
    if (text[n - 1] == '\r' && n > 1) --n;
    std::string_view piece(buf_.data() + pos_, n);
    consume(n);
    return Line{piece, Eol::kNone, offset(), false};
  }

  void consume(size_t n) {
    pos_ += n;
    scanned_ = 0;
  }
  void compact() {
    if (pos_ > 0 && (pos_ >= buf_.size() || pos_ > (1u << 20))) {
      buf_.erase(0, pos_);
      base_ += pos_;
      pos_ = 0;
    }
  }

  size_t max_;
  LongLinePolicy policy_;
  uint64_t base_;  // stream offset of buf_[0]
  std::string buf_;
  size_t pos_ = 0;      // start of the pending (unreturned) bytes in buf_
  size_t scanned_ = 0;  // bytes of pending already searched for '\n'
  bool discarding_ = false;
};

}  // namespace ferry::file
