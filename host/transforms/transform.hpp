// Single message transforms, a chain per connector ([[transforms]] in its file), as in
// Kafka Connect: each has a type, an option table that validates its settings and
// documents it, and a factory. A transform changes a record in place or drops it.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/options.hpp"
#include "ferry/abi.h"
#include "transforms/record.hpp"

namespace ferry::transforms {

// A record the chain cannot transform (a transform plugin failed or rejected it):
// the runner hands it to the connector's error handling.
class TransformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Transform {
 public:
  virtual ~Transform() = default;
  // false: drop the record (it still counts as processed: offsets and spans move on).
  virtual bool apply(MutableRecord& record) = 0;
};

struct TransformSpec {
  const char* type;
  const char* doc;
  std::span<const ferry_option> options;  // "type" is implied and not listed
  // Builds one from validated options; null with `error` set when the options do not
  // make sense together (a regex that does not compile, ...).
  std::unique_ptr<Transform> (*make)(const config::Options& options, std::string& error);
};

const std::vector<TransformSpec>& builtin_transforms();
// The built-in transforms' tables, for checking connector files (config/ cannot see
// this folder).
std::vector<config::TransformSchema> transform_schemas();
const TransformSpec* find_transform(const std::string& type);

// Factories, one per transform, in the files that implement them.
std::unique_ptr<Transform> make_insert_header(const config::Options&, std::string&);
std::unique_ptr<Transform> make_insert_field(const config::Options&, std::string&);
std::unique_ptr<Transform> make_drop_field(const config::Options&, std::string&);
std::unique_ptr<Transform> make_rename_field(const config::Options&, std::string&);
std::unique_ptr<Transform> make_mask_field(const config::Options&, std::string&);
std::unique_ptr<Transform> make_value_to_key(const config::Options&, std::string&);
std::unique_ptr<Transform> make_filter(const config::Options&, std::string&);
std::unique_ptr<Transform> make_regex_router(const config::Options&, std::string&);
std::unique_ptr<Transform> make_timestamp_router(const config::Options&, std::string&);

}  // namespace ferry::transforms
