// Validated option values: the result of checking one TOML table against an option
// table (ferry_option rows, the same format plugins declare). Drives validation,
// defaults, secret masking and the config handed to plugins across the ABI.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "config/diagnostics.hpp"
#include "ferry/abi.h"

namespace ferry::config {

// One table of a config file and the options it takes: what the docs are generated from.
struct OptionSection {
  std::string name;  // "[host]", "[errors]", "" for a connector file's top level
  std::string doc;
  std::span<const ferry_option> options;
};

struct OptionValue {
  std::string name;
  ferry_option_type type = FERRY_OPT_STRING;
  bool present = false;
  bool secret = false;
  std::string scalar;              // canonical text (see ferry_config_entry)
  std::vector<std::string> items;  // STRING_LIST
};

class Options {
 public:
  const OptionValue* find(std::string_view name) const;
  bool has(std::string_view name) const;
  std::string str(std::string_view name, std::string fallback = {}) const;
  int64_t integer(std::string_view name, int64_t fallback = 0) const;
  double number(std::string_view name, double fallback = 0) const;
  bool boolean(std::string_view name, bool fallback = false) const;
  const std::vector<std::string>& list(std::string_view name) const;

  std::vector<OptionValue>& values() { return values_; }
  const std::vector<OptionValue>& values() const { return values_; }
  // Values as JSON, secrets replaced by "********".
  nlohmann::json to_json(bool mask_secrets = true) const;
  // Every secret value, to scrub from log lines.
  std::vector<std::string> secrets() const;

 private:
  std::vector<OptionValue> values_;
};

// Owns the C arrays that present Options across the ABI; keep alive while in use.
class AbiConfig {
 public:
  explicit AbiConfig(const Options& options);
  const ferry_config_entry* data() const { return entries_.data(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::vector<const char*>> items_;
  std::vector<ferry_config_entry> entries_;
};

// Whether `${VAR}` and `${file:...}` in string values are expanded: only in files the
// operator wrote. Values that arrive over the network are checked as given, or a
// request could read any environment variable or file through the error messages.
enum class References { kExpand, kLiteral };

// Checks `table` (may be null: treated as empty) against `schema`, reporting every
// problem into `diags` located in `path`. `where` names the section for messages,
// e.g. "[config]". Keys listed in `ignored` are left for the caller to check.
Options validate_options(const toml::table* table, std::span<const ferry_option> schema,
                         const std::string& path, std::string_view where, Diagnostics& diags,
                         std::span<const std::string_view> ignored = {},
                         References references = References::kExpand);

// "did you mean" candidate among `known`, or empty.
std::string closest_match(std::string_view word, const std::vector<std::string>& known);

const char* option_type_name(ferry_option_type type);

}  // namespace ferry::config
