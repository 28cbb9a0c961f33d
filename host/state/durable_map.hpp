// A string→bytes map persisted in two files: a snapshot (`offsets.json`, one JSON
// document, replaced atomically) and a journal beside it (`offsets.json.journal`) to
// which each update appends one checksummed line and fdatasyncs. An update therefore
// costs what it changes, not what the map holds (file-source keeps a key per file and
// saves several times a second); once the journal outgrows the snapshot it is folded
// into a new snapshot and emptied. Backs committed source offsets and plugin state in
// standalone mode. Thread-safe: a connector's tasks share one instance.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "ferry/status.hpp"
#include "ferry/unique_fd.hpp"

namespace ferry::state {

class DurableMap {
 public:
  // Loads the snapshot and replays the journal. A journal whose end is not a whole,
  // checksummed line (a write cut short by a crash or a full disk; such an update was
  // never reported as saved) is cut back to its last good line. A snapshot that cannot
  // be read or parsed is an error: we refuse to start rather than lose positions.
  static Expected<std::unique_ptr<DurableMap>> open(const std::filesystem::path& file);

  // What the files hold, read without changing them (ferry may be writing them): for
  // inspection by an operator's tool or a test.
  struct Contents {
    std::map<std::string, std::string> entries;
    uint64_t journal_bytes = 0;  // whole, checksummed lines
    uint64_t dropped = 0;        // bytes after them: an unfinished write
  };
  static Expected<Contents> load(const std::filesystem::path& file);

  std::optional<std::string> get(const std::string& key) const;
  void for_each(const std::function<void(const std::string&, const std::string&)>& fn) const;
  // Applies the updates (nullopt value = erase) and persists them before returning. On
  // failure (retriable) the in-memory map is unchanged.
  [[nodiscard]] Status update(const std::map<std::string, std::optional<std::string>>& changes);

  const std::filesystem::path& file() const { return file_; }
  std::filesystem::path journal_file() const;
  // Bytes of an unfinished journal write dropped at open (0 normally): for the log.
  uint64_t dropped_at_open() const { return dropped_at_open_; }

  // The journal is folded into the snapshot once it is larger than the snapshot and
  // than this. Small, so a map's files plateau soon even when it saves rarely (a fold
  // of a small map is a small write); a large map folds when its journal outgrows it.
  static constexpr uint64_t kMinJournalBytes = 4 * 1024;

 private:
  // An entry keeps its own snapshot line, so a snapshot re-serialises nothing.
  struct Entry {
    std::string value;
    std::string line;  // `  "key": "value"`, both encoded and JSON-escaped
  };
  static Entry make_entry(const std::string& key, std::string value);

  explicit DurableMap(std::filesystem::path file) : file_(std::move(file)) {}
  Status append_to_journal(const std::string& line);
  Status write_snapshot() const;
  void apply(const std::string& key, std::optional<Entry> e);
  void compact_if_due();

  std::filesystem::path file_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  size_t line_bytes_ = 0;  // sum of entries_' line sizes: the snapshot's size, roughly
  UniqueFd journal_;
  uint64_t journal_bytes_ = 0;  // good lines in the journal; the next one goes here
  uint64_t dropped_at_open_ = 0;
  bool snapshot_due_ = false;  // the journal was recreated: the snapshot must hold it all
};

}  // namespace ferry::state
