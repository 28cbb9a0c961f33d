// Transforms that choose the topic (regex_router, timestamp_router) or add headers
// (insert_header): they never look inside the value.
#include <ctime>
#include <regex>

#include "transforms/transform.hpp"

namespace ferry::transforms {
namespace {

class InsertHeader final : public Transform {
 public:
  InsertHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  bool apply(MutableRecord& r) override {
    r.headers.emplace_back(name_, value_);
    return true;
  }

 private:
  std::string name_, value_;
};

class RegexRouter final : public Transform {
 public:
  RegexRouter(std::regex regex, std::string replacement)
      : regex_(std::move(regex)), replacement_(std::move(replacement)) {}
  bool apply(MutableRecord& r) override {
    // The whole topic matched once (regex_replace would also replace the empty match
    // at the end of "(.*)").
    std::smatch m;
    if (std::regex_match(r.topic, m, regex_)) r.topic = m.format(replacement_);
    return true;
  }

 private:
  std::regex regex_;
  std::string replacement_;
};

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

class TimestampRouter final : public Transform {
 public:
  TimestampRouter(std::string topic_format, std::string timestamp_format)
      : topic_format_(std::move(topic_format)), timestamp_format_(std::move(timestamp_format)) {}
  bool apply(MutableRecord& r) override {
    std::time_t seconds = static_cast<std::time_t>(r.timestamp_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[128];
    size_t n = std::strftime(buf, sizeof buf, timestamp_format_.c_str(), &tm);
    std::string topic = topic_format_;
    replace_all(topic, "{topic}", r.topic);
    replace_all(topic, "{timestamp}", std::string(buf, n));
    r.topic = std::move(topic);
    return true;
  }

 private:
  std::string topic_format_, timestamp_format_;
};

}  // namespace

std::unique_ptr<Transform> make_insert_header(const config::Options& o, std::string&) {
  return std::make_unique<InsertHeader>(o.str("header"), o.str("value"));
}

std::unique_ptr<Transform> make_regex_router(const config::Options& o, std::string& error) {
  try {
    return std::make_unique<RegexRouter>(std::regex(o.str("regex"), std::regex::ECMAScript),
                                         o.str("replacement"));
  } catch (const std::regex_error& e) {
    error = "regex is not valid: " + std::string(e.what());
    return nullptr;
  }
}

std::unique_ptr<Transform> make_timestamp_router(const config::Options& o, std::string& error) {
  std::tm probe{};
  char buf[128];
  if (o.str("timestamp_format").empty() ||
      std::strftime(buf, sizeof buf, o.str("timestamp_format").c_str(), &probe) == 0) {
    error = "timestamp_format gives an empty or too long timestamp";
    return nullptr;
  }
  return std::make_unique<TimestampRouter>(o.str("topic_format"), o.str("timestamp_format"));
}

}  // namespace ferry::transforms
