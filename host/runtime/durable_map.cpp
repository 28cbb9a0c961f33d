#include "runtime/durable_map.hpp"

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/base64.hpp"

namespace ferry::runtime {
namespace {

// Offsets are opaque bytes; keep them readable in the file when they are text.
std::string encode(const std::string& s) {
  if (is_valid_utf8(s) && s.rfind("base64:", 0) != 0) return s;
  return "base64:" + base64_encode(s);
}
std::optional<std::string> decode(const std::string& s) {
  if (s.rfind("base64:", 0) == 0) return base64_decode(std::string_view(s).substr(7));
  return s;
}

}  // namespace

std::unique_ptr<DurableMap> DurableMap::open(const std::filesystem::path& file,
                                             std::string& error) {
  std::unique_ptr<DurableMap> map(new DurableMap(file));
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) {
    error = "cannot create " + file.parent_path().string() + ": " + ec.message();
    return nullptr;
  }
  std::string read_error;
  auto content = read_whole_file(file, &read_error);
  if (!content) {
    if (!read_error.empty()) {
      error = read_error;
      return nullptr;
    }
    return map;  // no file yet
  }
  auto j = nlohmann::json::parse(*content, nullptr, false);
  if (j.is_discarded() || !j.contains("entries") || !j["entries"].is_object()) {
    error = file.string() + " is not a valid ferry state file; move it away to start afresh";
    return nullptr;
  }
  for (auto& [k, v] : j["entries"].items()) {
    auto key = decode(k);
    auto val = v.is_string() ? decode(v.get<std::string>()) : std::nullopt;
    if (!key || !val) {
      error = file.string() + ": corrupt entry " + k;
      return nullptr;
    }
    map->entries_[*key] = *val;
  }
  return map;
}

std::optional<std::string> DurableMap::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void DurableMap::for_each(
    const std::function<void(const std::string&, const std::string&)>& fn) const {
  std::map<std::string, std::string> copy;
  {
    std::lock_guard lock(mu_);
    copy = entries_;
  }
  for (const auto& [k, v] : copy) fn(k, v);
}

std::optional<std::string> DurableMap::update(
    const std::map<std::string, std::optional<std::string>>& changes) {
  std::lock_guard lock(mu_);
  auto next = entries_;
  for (const auto& [k, v] : changes) {
    if (v)
      next[k] = *v;
    else
      next.erase(k);
  }
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [k, v] : next) entries[encode(k)] = encode(v);
  nlohmann::json doc = {{"format", 1}, {"entries", std::move(entries)}};
  if (auto err = write_file_atomically(file_, doc.dump(1))) return err;
  entries_ = std::move(next);
  return std::nullopt;
}

}  // namespace ferry::runtime
