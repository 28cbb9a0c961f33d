// Typed access to a task's configuration. The host has already validated every value
// against the plugin's option table and filled defaults, so lookups of declared
// options cannot fail on type; asking for an undeclared name is a programming error.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/abi.h"

namespace ferry {

class Config {
 public:
  Config() = default;
  Config(const ferry_config_entry* entries, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const ferry_config_entry& e = entries[i];
      Value v;
      v.present = e.present != 0;
      if (e.value != nullptr) v.scalar = e.value;
      for (size_t j = 0; j < e.item_count; ++j) v.items.emplace_back(e.items[j]);
      values_.emplace(e.name, std::move(v));
    }
  }

  bool has(std::string_view name) const {
    auto it = values_.find(std::string(name));
    return it != values_.end() && it->second.present;
  }
  std::string str(std::string_view name) const { return find(name).scalar; }
  int64_t integer(std::string_view name) const {
    return std::strtoll(find(name).scalar.c_str(), nullptr, 10);
  }
  double number(std::string_view name) const {
    return std::strtod(find(name).scalar.c_str(), nullptr);
  }
  bool boolean(std::string_view name) const { return find(name).scalar == "true"; }
  std::chrono::milliseconds duration(std::string_view name) const {
    return std::chrono::milliseconds(integer(name));
  }
  uint64_t size(std::string_view name) const {
    return std::strtoull(find(name).scalar.c_str(), nullptr, 10);
  }
  const std::vector<std::string>& list(std::string_view name) const { return find(name).items; }

 private:
  struct Value {
    bool present = false;
    std::string scalar;
    std::vector<std::string> items;
  };
  const Value& find(std::string_view name) const {
    static const Value kEmpty;
    auto it = values_.find(std::string(name));
    return it == values_.end() ? kEmpty : it->second;
  }
  std::map<std::string, Value, std::less<>> values_;
};

// Rows for a plugin's option table, readable at the declaration site:
//   ferry::opt::string("path", "File to read", ferry::opt::kRequired)
namespace opt {
inline constexpr uint32_t kRequired = FERRY_OPT_REQUIRED;
inline constexpr uint32_t kSecret = FERRY_OPT_SECRET;

constexpr ferry_option make(const char* name, ferry_option_type type, const char* def,
                            const char* doc, uint32_t flags = 0, const char* enums = nullptr,
                            double min = 0, double max = 0) {
  return ferry_option{name, type, flags, def, enums, min, max, doc};
}
constexpr ferry_option string(const char* name, const char* def, const char* doc,
                              uint32_t flags = 0) {
  return make(name, FERRY_OPT_STRING, def, doc, flags);
}
constexpr ferry_option list(const char* name, const char* def, const char* doc,
                            uint32_t flags = 0) {
  return make(name, FERRY_OPT_STRING_LIST, def, doc, flags);
}
constexpr ferry_option boolean(const char* name, const char* def, const char* doc) {
  return make(name, FERRY_OPT_BOOL, def, doc);
}
constexpr ferry_option one_of(const char* name, const char* enums, const char* def, const char* doc,
                              uint32_t flags = 0) {
  return make(name, FERRY_OPT_ENUM, def, doc, flags, enums);
}
constexpr ferry_option integer(const char* name, const char* def, const char* doc, double min,
                               double max) {
  return make(name, FERRY_OPT_INT, def, doc, FERRY_OPT_HAS_RANGE, nullptr, min, max);
}
constexpr ferry_option duration(const char* name, const char* def, const char* doc,
                                double min_ms = 0, double max_ms = 1e15) {
  return make(name, FERRY_OPT_DURATION, def, doc, FERRY_OPT_HAS_RANGE, nullptr, min_ms, max_ms);
}
constexpr ferry_option size(const char* name, const char* def, const char* doc, double min = 0,
                            double max = 1e18) {
  return make(name, FERRY_OPT_SIZE, def, doc, FERRY_OPT_HAS_RANGE, nullptr, min, max);
}
}  // namespace opt

}  // namespace ferry
