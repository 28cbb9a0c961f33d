#include <array>

#include "ferry/config.hpp"
#include "transforms/transform.hpp"

namespace ferry::transforms {
namespace {

namespace o = ferry::opt;

constexpr std::array kInsertHeader{
    o::string("header", nullptr, "Header name", o::kRequired),
    o::string("value", nullptr, "Header value", o::kRequired),
};
constexpr std::array kInsertField{
    o::string("field", nullptr, "Field path in the JSON value, e.g. \"meta.env\"", o::kRequired),
    o::string("value", nullptr, "The value to set", o::kRequired),
    o::one_of("value_type", "string|json", "string",
              "string: set as a JSON string; json: parse value as JSON (numbers, objects...)"),
};
constexpr std::array kDropField{
    o::list("fields", nullptr, "Field paths to remove from the JSON value", o::kRequired),
};
constexpr std::array kRenameField{
    o::string("from", nullptr, "Field path to move", o::kRequired),
    o::string("to", nullptr, "New field path", o::kRequired),
};
constexpr std::array kMaskField{
    o::list("fields", nullptr, "Field paths whose values are replaced", o::kRequired),
    o::string("replacement", "****", "What replaces each value (a string)"),
};
constexpr std::array kValueToKey{
    o::list("fields", nullptr,
            "Fields of the JSON value that make the key: one field gives its value (strings "
            "raw, others as JSON); several give a JSON object of them",
            o::kRequired),
};
constexpr std::array kFilter{
    o::one_of("predicate", "header|field|topic|tombstone", nullptr,
              "What is tested: a header, a field of the JSON value, the topic name, or whether "
              "the record is a tombstone",
              o::kRequired),
    o::string("name", "", "The header name or field path (header and field predicates)"),
    o::string("pattern", "",
              "A regex the whole header value, field value or topic must match; empty: the "
              "header or field only has to exist"),
    o::boolean("negate", "false", "Drop the records that do NOT match instead"),
};
constexpr std::array kRegexRouter{
    o::string("regex", nullptr, "Regex the whole topic must match (ECMAScript)", o::kRequired),
    o::string("replacement", nullptr, "New topic; $1, $2... are the regex's groups", o::kRequired),
};
constexpr std::array kTimestampRouter{
    o::string("topic_format", "{topic}-{timestamp}",
              "New topic; {topic} is the current one, {timestamp} the record's time"),
    o::string("timestamp_format", "%Y%m%d", "strftime format of {timestamp}, in UTC"),
};

}  // namespace

const std::vector<TransformSpec>& builtin_transforms() {
  static const std::vector<TransformSpec> kAll{
      {"insert_header", "Adds a header to every record", kInsertHeader, &make_insert_header},
      {"insert_field", "Sets a field of the JSON value", kInsertField, &make_insert_field},
      {"drop_field", "Removes fields from the JSON value", kDropField, &make_drop_field},
      {"rename_field", "Moves a field of the JSON value", kRenameField, &make_rename_field},
      {"mask_field", "Replaces the values of fields (secrets, personal data)", kMaskField,
       &make_mask_field},
      {"value_to_key", "Makes the key from fields of the JSON value", kValueToKey,
       &make_value_to_key},
      {"filter", "Drops the records that match a predicate (or that do not, with negate)", kFilter,
       &make_filter},
      {"regex_router", "Renames the topic with a regex", kRegexRouter, &make_regex_router},
      {"timestamp_router", "Puts the record's time into the topic name", kTimestampRouter,
       &make_timestamp_router},
  };
  return kAll;
}

const TransformSpec* find_transform(const std::string& type) {
  for (const auto& s : builtin_transforms())
    if (type == s.type) return &s;
  return nullptr;
}

std::vector<config::TransformSchema> transform_schemas() {
  std::vector<config::TransformSchema> out;
  for (const TransformSpec& spec : builtin_transforms())
    out.push_back({spec.type, spec.options, [make = spec.make](const config::Options& o) {
                     std::string error;
                     return make(o, error) ? std::string() : error;
                   }});
  return out;
}

}  // namespace ferry::transforms
