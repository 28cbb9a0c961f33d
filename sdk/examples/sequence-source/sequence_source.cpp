// sequence-source: the smallest useful ferry source. It emits `count` numbered
// messages and resumes after the last delivered one when restarted, which is all a
// source needs to get at-least-once delivery from the host.
#include <string>

#include "ferry/sdk.hpp"

namespace {

// The option table: validation, defaults, secret masking and `ferry plugins describe`
// all come from these rows.
constexpr ferry_option kOptions[] = {
    ferry::opt::integer("count", "10", "How many messages to emit", 0, 1e12),
    ferry::opt::string("prefix", "message", "Text before the number"),
};

class SequenceSource final : public ferry::SourceTask {
 public:
  SequenceSource(const ferry::Host& host, const ferry::Config& config)
      : host_(host), count_(config.integer("count")), prefix_(config.str("prefix")) {}

  ferry::Status start() override {
    // Offsets come back exactly as we emitted them, once Kafka acknowledged them.
    host_.committed_offsets([&](std::string_view, std::string_view offset) {
      next_ = std::stoll(std::string(offset)) + 1;
    });
    host_.info("starting at message " + std::to_string(next_));
    return ferry::Status::Ok();
  }

  ferry::Status poll(uint32_t max_records) override {
    for (uint32_t i = 0; i < max_records && next_ <= count_; ++i, ++next_) {
      std::string value = prefix_ + " " + std::to_string(next_);
      std::string offset = std::to_string(next_);
      ferry::SourceRecord record;
      record.value = value;
      record.source_partition = "sequence";  // one ordered stream
      record.source_offset = offset;
      if (ferry::Status s = host_.emit(record); !s.ok()) return s;
    }
    return ferry::Status::Ok();
  }

 private:
  ferry::Host host_;
  int64_t count_;
  std::string prefix_;
  int64_t next_ = 1;
};

}  // namespace

FERRY_PLUGIN(SequenceSource, "sequence-source", "1.0.0",
             "Emits numbered messages (an example out-of-tree plugin)", kOptions)
