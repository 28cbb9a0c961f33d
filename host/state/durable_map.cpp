#include "state/durable_map.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "ferry/base64.hpp"
#include "ferry/json_text.hpp"

namespace ferry::state {
namespace {

// Offsets are opaque bytes; keep them readable in the files when they are text.
std::string encode(const std::string& s) {
  if (is_utf8(s) && s.rfind("base64:", 0) != 0) return s;
  return "base64:" + base64_encode(s);
}
std::optional<std::string> decode(const std::string& s) {
  if (s.rfind("base64:", 0) == 0) return base64_decode(std::string_view(s).substr(7));
  return s;
}

uint32_t checksum(std::string_view s) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string errno_text(const std::string& what, const std::filesystem::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

// One journal line: eight hex digits of the CRC-32 of the JSON text, a space, the JSON
// object of changes ({"key": "value" or null}), a newline.
std::string journal_line(const std::string& json) {
  char crc[10];
  std::snprintf(crc, sizeof crc, "%08x ", checksum(json));
  return std::string(crc, 9) + json + "\n";
}

using Changes = std::map<std::string, std::optional<std::string>>;

// The changes of one journal line, or nullopt when the line is not one we wrote whole.
std::optional<Changes> parse_journal_line(std::string_view line) {
  if (line.size() < 11 || line[8] != ' ') return std::nullopt;
  uint32_t want = 0;
  for (char c : line.substr(0, 8)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    want = want << 4 | static_cast<uint32_t>(d);
  }
  std::string_view json = line.substr(9);
  if (checksum(json) != want) return std::nullopt;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Changes out;
  for (auto& [k, v] : j.items()) {
    auto key = decode(k);
    if (!key) return std::nullopt;
    if (v.is_null()) {
      out[*key] = std::nullopt;
      continue;
    }
    auto val = v.is_string() ? decode(v.get<std::string>()) : std::nullopt;
    if (!val) return std::nullopt;
    out[*key] = std::move(*val);
  }
  return out;
}

}  // namespace

std::filesystem::path DurableMap::journal_file() const {
  auto p = file_;
  p += ".journal";
  return p;
}

Expected<DurableMap::Contents> DurableMap::load(const std::filesystem::path& file) {
  Contents out;
  std::string read_error;
  if (auto content = read_whole_file(file, &read_error)) {
    auto j = nlohmann::json::parse(*content, nullptr, false);
    if (j.is_discarded() || !j.contains("entries") || !j["entries"].is_object())
      return Status::Config(file.string() +
                            " is not a valid ferry state file; move it away to start afresh");
    for (auto& [k, v] : j["entries"].items()) {
      auto key = decode(k);
      auto val = v.is_string() ? decode(v.get<std::string>()) : std::nullopt;
      if (!key || !val) return Status::Config(file.string() + ": corrupt entry " + k);
      out.entries[*key] = std::move(*val);
    }
  } else if (!read_error.empty()) {
    return Status::Retriable(read_error);
  }
  auto journal = file;
  journal += ".journal";
  auto text = read_whole_file(journal, &read_error);
  if (!text) {
    if (!read_error.empty()) return Status::Retriable(read_error);
    return out;  // no journal yet: the first update creates it
  }
  size_t good = 0;
  for (size_t nl; (nl = text->find('\n', good)) != std::string::npos; good = nl + 1) {
    auto changes = parse_journal_line(std::string_view(*text).substr(good, nl - good));
    if (!changes) break;
    for (auto& [k, v] : *changes) {
      if (v)
        out.entries[k] = std::move(*v);
      else
        out.entries.erase(k);
    }
  }
  out.journal_bytes = good;
  out.dropped = text->size() - good;
  return out;
}

Expected<std::unique_ptr<DurableMap>> DurableMap::open(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    return Status::Retriable("cannot create " + file.parent_path().string() + ": " + ec.message());
  auto loaded = load(file);
  if (!loaded) return loaded.status();
  std::unique_ptr<DurableMap> map(new DurableMap(file));
  for (auto& [k, v] : loaded->entries) map->apply(k, make_entry(k, std::move(v)));
  map->journal_bytes_ = loaded->journal_bytes;
  map->dropped_at_open_ = loaded->dropped;
  auto path = map->journal_file();
  map->journal_.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!map->journal_) {
    if (errno == ENOENT && loaded->journal_bytes + loaded->dropped == 0) return map;
    return Status::Retriable(errno_text("cannot open", path));
  }
  // Later lines append after the good ones; a cut-short line is not left in between.
  if (map->dropped_at_open_ > 0 &&
      (::ftruncate(map->journal_.get(), static_cast<off_t>(map->journal_bytes_)) != 0 ||
       ::fsync(map->journal_.get()) != 0))
    return Status::Retriable(errno_text("cannot cut the unfinished write off", path));
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

void DurableMap::apply(const std::string& key, std::optional<Entry> e) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    line_bytes_ -= it->second.line.size();
    if (!e) {
      entries_.erase(it);
      return;
    }
    line_bytes_ += e->line.size();
    it->second = std::move(*e);
  } else if (e) {
    line_bytes_ += e->line.size();
    entries_.emplace(key, std::move(*e));
  }
}

Status DurableMap::update(const std::map<std::string, std::optional<std::string>>& changes) {
  std::lock_guard lock(mu_);
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : changes) {
    auto it = entries_.find(k);
    // Erasing what is not there, or writing what is, changes nothing on disk.
    if (it == entries_.end() ? !v : v && it->second.value == *v) continue;
    j[encode(k)] = v ? nlohmann::json(encode(*v)) : nlohmann::json(nullptr);
  }
  if (j.empty()) return Status::Ok();
  if (Status s = append_to_journal(journal_line(j.dump())); !s.ok()) return s;
  for (const auto& [k, v] : changes)
    apply(k, v ? std::optional<Entry>(make_entry(k, *v)) : std::nullopt);
  compact_if_due();
  return Status::Ok();
}

Status DurableMap::append_to_journal(const std::string& line) {
  auto path = journal_file();
  struct stat st {};
  if (journal_ && ::fstat(journal_.get(), &st) == 0 && st.st_nlink == 0) {
    // Removed under us (an operator cleaning the state directory): appending to the
    // unlinked file would save nothing. Start a new journal and snapshot everything.
    journal_.reset();
    journal_bytes_ = 0;
    snapshot_due_ = true;
  }
  if (!journal_) {
    journal_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
    if (!journal_) return Status::Retriable(errno_text("cannot create", path));
    // The new file's name must survive a power loss as well as its lines.
    UniqueFd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::fsync(dir.get()) != 0) {
      journal_.reset();
      return Status::Retriable(errno_text("cannot fsync directory of", path));
    }
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::pwrite(journal_.get(), line.data() + done, line.size() - done,
                         static_cast<off_t>(journal_bytes_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  if (done < line.size() || ::fdatasync(journal_.get()) != 0) {
    std::string error = errno_text(done < line.size() ? "cannot write" : "cannot fdatasync", path);
    // Best effort: a cut-short line left here is overwritten by the next append, and
    // dropped at open if there is none, so a failed cut needs nothing more.
    if (::ftruncate(journal_.get(), static_cast<off_t>(journal_bytes_)) != 0) {
    }
    return Status::Retriable(error);
  }
  journal_bytes_ += line.size();
  return Status::Ok();
}

// The document {"entries": {...}, "format": 1}, one entry per line, as nlohmann's
// dump(1) lays it out.
Status DurableMap::write_snapshot() const {
  std::string doc;
  doc.reserve(line_bytes_ + 2 * entries_.size() + 64);
  doc += "{\n \"entries\": {";
  bool first = true;
  for (const auto& [k, e] : entries_) {
    doc += first ? "\n" : ",\n";
    doc += e.line;
    first = false;
  }
  doc += first ? "}" : "\n }";
  doc += ",\n \"format\": 1\n}";
  return write_file_atomically(file_, doc);
}

// Folds the journal into a new snapshot once the journal is the larger, so the bytes
// written per update stay proportional to the update, and the files to about twice the
// map. Failure is not an update's failure (its line is saved): the next update retries.
void DurableMap::compact_if_due() {
  if (!snapshot_due_ && (journal_bytes_ <= kMinJournalBytes || journal_bytes_ <= line_bytes_))
    return;
  if (!write_snapshot().ok()) return;
  snapshot_due_ = false;
  // A crash before the journal is emptied replays it over the new snapshot: every key
  // it touches ends at its last value, which is the snapshot's, so nothing changes.
  if (::ftruncate(journal_.get(), 0) == 0 && ::fdatasync(journal_.get()) == 0) journal_bytes_ = 0;
}

}  // namespace ferry::state
