// A small string→bytes map persisted atomically as one JSON file. Backs committed
// source offsets and plugin state in standalone mode. Thread-safe: a connector's
// tasks share one instance.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace ferry::runtime {

class DurableMap {
 public:
  // Loads the file if it exists. Returns nullopt and sets `error` when the file exists
  // but cannot be read or parsed (we refuse to start rather than lose positions).
  static std::unique_ptr<DurableMap> open(const std::filesystem::path& file, std::string& error);

  std::optional<std::string> get(const std::string& key) const;
  void for_each(const std::function<void(const std::string&, const std::string&)>& fn) const;
  // Applies the updates (nullopt value = erase) and persists before returning. On
  // failure the in-memory map is unchanged and the error is returned.
  std::optional<std::string> update(
      const std::map<std::string, std::optional<std::string>>& changes);

  const std::filesystem::path& file() const { return file_; }

 private:
  // An entry keeps its own line of the file, so an update re-serialises only what it
  // changes; the rest of the file is copied as text (file-source puts one key per file
  // it opens, and the whole file is written each time).
  struct Entry {
    std::string value;
    std::string line;  // `  "key": "value"`, both encoded and JSON-escaped
  };
  static Entry make_entry(const std::string& key, std::string value);

  explicit DurableMap(std::filesystem::path file) : file_(std::move(file)) {}
  std::filesystem::path file_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  size_t line_bytes_ = 0;  // sum of entries_' line sizes, to size the next write
};

}  // namespace ferry::runtime
