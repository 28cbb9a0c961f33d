// filter: drops the records a predicate matches (or, with negate, those it does not),
// like Kafka Connect's Filter with its HasHeaderKey / TopicNameMatches /
// RecordIsTombstone predicates, plus a field predicate on JSON values.
#include <regex>

#include "transforms/transform.hpp"

namespace ferry::transforms {
namespace {

class Filter final : public Transform {
 public:
  enum class On { kHeader, kField, kTopic, kTombstone };
  Filter(On on, std::string name, std::optional<std::regex> pattern, bool negate)
      : on_(on), name_(std::move(name)), pattern_(std::move(pattern)), negate_(negate) {}

  bool apply(MutableRecord& r) override {
    bool matched = matches(r);
    return negate_ ? matched : !matched;  // true keeps the record
  }

 private:
  bool matches_text(const std::string& text) const {
    return !pattern_ || std::regex_match(text, *pattern_);
  }
  bool matches(MutableRecord& r) const {
    switch (on_) {
      case On::kTombstone:
        return !r.value.has_value();
      case On::kTopic:
        return matches_text(r.topic);
      case On::kHeader: {
        const std::string* v = r.header(name_);
        return v != nullptr && matches_text(*v);
      }
      case On::kField: {
        auto* obj = r.object();
        if (obj == nullptr) return false;
        const nlohmann::json* field = find_field(*obj, name_);
        if (field == nullptr) return false;
        return matches_text(field->is_string() ? field->get<std::string>() : field->dump());
      }
    }
    return false;
  }

  On on_;
  std::string name_;
  std::optional<std::regex> pattern_;
  bool negate_;
};

}  // namespace

std::unique_ptr<Transform> make_filter(const config::Options& o, std::string& error) {
  std::string predicate = o.str("predicate");
  Filter::On on = predicate == "header"  ? Filter::On::kHeader
                  : predicate == "field" ? Filter::On::kField
                  : predicate == "topic" ? Filter::On::kTopic
                                         : Filter::On::kTombstone;
  if ((on == Filter::On::kHeader || on == Filter::On::kField) && o.str("name").empty()) {
    error = "predicate = \"" + predicate + "\" needs name = \"...\"";
    return nullptr;
  }
  if (on == Filter::On::kTopic && o.str("pattern").empty()) {
    error = "predicate = \"topic\" needs pattern = \"...\"";
    return nullptr;
  }
  std::optional<std::regex> pattern;
  if (!o.str("pattern").empty()) {
    try {
      pattern.emplace(o.str("pattern"), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      error = "pattern is not a valid regex: " + std::string(e.what());
      return nullptr;
    }
  }
  return std::make_unique<Filter>(on, o.str("name"), std::move(pattern), o.boolean("negate"));
}

}  // namespace ferry::transforms
