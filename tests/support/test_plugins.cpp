// Plugins that exist only to exercise the host: a source and a sink whose failures
// (bad records, retriable and fatal errors) are switched on by configuration.
#include <array>
#include <cctype>
#include <fstream>
#include <string>

#include "ferry/sdk.hpp"

namespace {

constexpr ferry_option kSourceOptions[] = {
    ferry::opt::integer("count", "100", "Records to emit (value rec-<n>, n from 1)", 0, 1e9),
    ferry::opt::integer("reject_every", "0", "Reject every n-th record as bad input", 0, 1e9),
    ferry::opt::integer("fail_at", "0", "Fail (fatal) once when reaching record n", 0, 1e9),
    ferry::opt::integer("retriable_polls", "0", "First polls return a retriable error", 0, 1e9),
    ferry::opt::string("password", "", "A secret, for masking tests", ferry::opt::kSecret),
};

class TestSource final : public ferry::SourceTask {
 public:
  TestSource(const ferry::Host& host, const ferry::Config& cfg)
      : host_(host),
        count_(cfg.integer("count")),
        reject_every_(cfg.integer("reject_every")),
        fail_at_(cfg.integer("fail_at")),
        retriable_polls_(cfg.integer("retriable_polls")),
        password_(cfg.str("password")) {}

  ferry::Status start() override {
    // A careless plugin: the host must keep this out of the logs.
    if (!password_.empty()) host_.info("connecting with password " + password_);
    host_.committed_offsets(
        [&](std::string_view, std::string_view o) { next_ = std::stoll(std::string(o)) + 1; });
    host_.state([&](std::string_view k, std::string_view) {
      if (k == "failed_once") failed_once_ = true;
    });
    return ferry::Status::Ok();
  }

  ferry::Status poll(uint32_t max) override {
    if (retriable_polls_ > 0) {
      --retriable_polls_;
      return ferry::Status::Retriable("test: not yet");
    }
    for (uint32_t i = 0; i < max && next_ <= count_; ++i, ++next_) {
      if (fail_at_ > 0 && next_ == fail_at_ && !failed_once_) {
        failed_once_ = true;
        (void)host_.put_state("failed_once", "1");
        return ferry::Status::Fatal("test: fatal failure at record " + std::to_string(next_));
      }
      std::string value = "rec-" + std::to_string(next_);
      std::string offset = std::to_string(next_);
      ferry::SourceRecord r;
      r.key = value;
      r.value = value;
      r.source_partition = "p";
      r.source_offset = offset;
      if (reject_every_ > 0 && next_ % reject_every_ == 0) {
        if (auto s = host_.reject(r, "test: record " + offset + " is bad"); !s.ok()) return s;
        continue;
      }
      if (auto s = host_.emit(r); !s.ok()) return s;
    }
    return ferry::Status::Ok();
  }

 private:
  ferry::Host host_;
  int64_t count_, reject_every_, fail_at_, retriable_polls_;
  std::string password_;
  int64_t next_ = 1;
  bool failed_once_ = false;
};

constexpr ferry_option kSinkOptions[] = {
    ferry::opt::string("output", nullptr, "File the values are appended to", ferry::opt::kRequired),
    ferry::opt::string("reject_containing", "", "Reject records whose value contains this"),
    ferry::opt::integer("retriable_flushes", "0", "First flushes fail with a retriable error", 0,
                        1e9),
};

class TestSink final : public ferry::SinkTask {
 public:
  TestSink(const ferry::Host& host, const ferry::Config& cfg)
      : host_(host),
        out_(cfg.str("output"), std::ios::app),
        reject_(cfg.str("reject_containing")),
        retriable_flushes_(cfg.integer("retriable_flushes")) {}

  ferry::Status put(std::span<const ferry::RecordView> records) override {
    for (const auto& r : records) {
      std::string v(r.value().value_or(""));
      if (!reject_.empty() && v.find(reject_) != std::string::npos) {
        if (auto s = host_.reject(r.raw(), "test: contains " + reject_); !s.ok()) return s;
        continue;
      }
      out_ << v << "\n";
    }
    return ferry::Status::Ok();
  }

  ferry::Status flush() override {
    if (retriable_flushes_ > 0) {
      --retriable_flushes_;
      return ferry::Status::Retriable("test: flush not possible yet");
    }
    out_.flush();
    return out_ ? ferry::Status::Ok() : ferry::Status::Fatal("test: write failed");
  }

 private:
  ferry::Host host_;
  std::ofstream out_;
  std::string reject_;
  int64_t retriable_flushes_;
};

}  // namespace

// A transform plugin: upper-cases values (or only a prefix of them), drops values
// containing `drop_containing`, and fails on values containing `fail_containing`.
constexpr std::array kUpperOptions{
    ferry::opt::string("drop_containing", "", "Drop records whose value contains this"),
    ferry::opt::string("fail_containing", "", "Fail on records whose value contains this"),
    ferry::opt::string("mark_header", "", "Add this header (value \"1\") to passed records"),
};

class TestUpper final : public ferry::TransformTask {
 public:
  TestUpper(const ferry::Host& host, const ferry::Config& cfg)
      : host_(host),
        drop_(cfg.str("drop_containing")),
        fail_(cfg.str("fail_containing")),
        mark_(cfg.str("mark_header")) {}

  ferry::Status apply(const ferry::RecordView& r) override {
    std::string v(r.value().value_or(""));
    if (!drop_.empty() && v.find(drop_) != std::string::npos) return ferry::Status::Ok();
    if (!fail_.empty() && v.find(fail_) != std::string::npos)
      return ferry::Status::Fatal("test-upper: cannot transform \"" + v + "\"");
    for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ferry::SourceRecord out = ferry::pass_on(r);
    out.value = v;
    if (!mark_.empty()) out.add_header(mark_.c_str(), "1");
    host_.count("uppercased");
    return host_.emit(out);
  }

 private:
  ferry::Host host_;
  std::string drop_, fail_, mark_;
};

FERRY_PLUGIN(TestSource, "test-source", "1.0", "Test source", kSourceOptions)
FERRY_PLUGIN(TestUpper, "test-upper", "1.0", "Test transform", kUpperOptions)
FERRY_PLUGIN(TestSink, "test-sink", "1.0", "Test sink", kSinkOptions)
