// The record a transform chain works on: owned copies of key, value, headers, topic
// and timestamp. A JSON value is parsed once, on first use, and written back once at
// the end of the chain, however many field transforms touch it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::transforms {

struct MutableRecord {
  std::optional<std::string> key;    // nullopt: a null key
  std::optional<std::string> value;  // nullopt: a tombstone
  std::vector<std::pair<std::string, std::string>> headers;
  std::string topic;
  int64_t timestamp_ms = 0;

  // The value as a JSON object, or null when it is not one (then field transforms
  // leave the record as it is).
  nlohmann::json* object() {
    if (!parsed_) {
      parsed_ = true;
      if (value) {
        auto j = nlohmann::json::parse(*value, nullptr, false);
        if (j.is_object()) json_ = std::move(j);
      }
    }
    return json_.is_object() ? &json_ : nullptr;
  }
  void object_changed() { dirty_ = true; }

  // Writes a changed JSON value back into `value`; the chain calls it once at the end.
  void finish() {
    if (dirty_) value = json_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dirty_ = false;
  }

  const std::string* header(const std::string& name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)  // the last one wins
      if (it->first == name) return &it->second;
    return nullptr;
  }

 private:
  bool parsed_ = false, dirty_ = false;
  nlohmann::json json_;
};

// "a.b.c" inside a JSON object: the parent object and the last name, or nulls when a
// step on the way is missing or not an object (create: make missing steps).
std::pair<nlohmann::json*, std::string> locate(nlohmann::json& root, const std::string& path,
                                               bool create);
// The value at "a.b.c", or null when it is not there.
nlohmann::json* find_field(nlohmann::json& root, const std::string& path);

}  // namespace ferry::transforms
