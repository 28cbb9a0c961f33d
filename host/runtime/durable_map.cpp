#include "runtime/durable_map.hpp"

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/base64.hpp"
#include "ferry/json_text.hpp"

namespace ferry::runtime {
namespace {

// Offsets are opaque bytes; keep them readable in the file when they are text.
std::string encode(const std::string& s) {
  if (is_utf8(s) && s.rfind("base64:", 0) != 0) return s;
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
    Entry e = make_entry(*key, std::move(*val));
    map->line_bytes_ += e.line.size();
    map->entries_[*key] = std::move(e);
  }
  return map;
}

std::optional<std::string> DurableMap::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.value;
}

void DurableMap::for_each(
    const std::function<void(const std::string&, const std::string&)>& fn) const {
  std::map<std::string, std::string> copy;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, e] : entries_) copy.emplace(k, e.value);
  }
  for (const auto& [k, v] : copy) fn(k, v);
}

DurableMap::Entry DurableMap::make_entry(const std::string& key, std::string value) {
  Entry e;
  e.line = "  " + nlohmann::json(encode(key)).dump() + ": " + nlohmann::json(encode(value)).dump();
  e.value = std::move(value);
  return e;
}

// The document {"entries": {...}, "format": 1}, one entry per line, as nlohmann's
// dump(1) laid it out when each write re-encoded every entry.
std::optional<std::string> DurableMap::update(
    const std::map<std::string, std::optional<std::string>>& changes) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::optional<Entry>> staged;
  size_t bytes = line_bytes_;
  for (const auto& [k, v] : changes) {
    auto it = entries_.find(k);
    // Erasing what is not there, or writing what is, changes nothing on disk.
    if (it == entries_.end() ? !v : v && it->second.value == *v) continue;
    if (it != entries_.end()) bytes -= it->second.line.size();
    if (v) {
      Entry e = make_entry(k, *v);
      bytes += e.line.size();
      staged.emplace(k, std::move(e));
    } else {
      staged.emplace(k, std::nullopt);
    }
  }
  if (staged.empty()) return std::nullopt;
  std::string doc;
  doc.reserve(bytes + 2 * (entries_.size() + staged.size()) + 64);
  doc += "{\n \"entries\": {";
  bool first = true;
  auto add = [&](const std::string& line) {
    doc += first ? "\n" : ",\n";
    doc += line;
    first = false;
  };
  // Both maps are sorted by key: walk them together, the staged change winning.
  auto e = entries_.begin();
  auto c = staged.begin();
  while (e != entries_.end() || c != staged.end()) {
    if (c == staged.end() || (e != entries_.end() && e->first < c->first)) {
      add(e->second.line);
      ++e;
      continue;
    }
    if (e != entries_.end() && e->first == c->first) ++e;
    if (c->second) add(c->second->line);
    ++c;
  }
  doc += first ? "}" : "\n }";
  doc += ",\n \"format\": 1\n}";
  if (auto err = write_file_atomically(file_, doc)) return err;
  for (auto& [k, v] : staged) {
    if (v)
      entries_[k] = std::move(*v);
    else
      entries_.erase(k);
  }
  line_bytes_ = bytes;
  return std::nullopt;
}

}  // namespace ferry::runtime
