// file-source: reads lines from files matching glob patterns and emits one record per
// line. Tail mode follows growing files through rename and copytruncate rotation and
// deletion; batch mode reads each file once and then keeps, deletes or moves it after
// all of its lines are in Kafka. Checkpoints (byte offsets per lineage, see
// file_identity.hpp) are committed by the host only after delivery, so a crash re-reads
// at most the unacknowledged lines.
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkpoint_codec.hpp"
#include "ferry/sdk.hpp"
#include "ferry/unique_fd.hpp"
#include "file_identity.hpp"
#include "line_splitter.hpp"

namespace ferry::file {
namespace {

using Clock = std::chrono::steady_clock;

constexpr ferry_option kOptions[] = {
    opt::list("paths", nullptr, "Glob patterns of files to read, e.g. /var/log/app/*.log",
              opt::kRequired),
    opt::one_of("mode", "tail|batch", "tail",
                "tail: follow growing files; batch: read each file once, then on_done"),
    opt::one_of("start_at", "beginning|end", "beginning",
                "Tail mode: where to start in files found at first start without a checkpoint"),
    opt::duration("scan_interval", "1s", "How often globs are re-evaluated", 10, 3'600'000),
    opt::duration("eof_timeout", "5s",
                  "Tail mode: emit a final line without newline after the file is idle this long"),
    opt::duration("rotate_wait", "5s",
                  "Tail mode: a file renamed away from the paths or deleted is read through "
                  "its open descriptor until it has been idle this long"),
    opt::size("max_line_bytes", "512KiB", "Longest line emitted as one record", 16, 64 << 20),
    opt::one_of("max_line_policy", "split|truncate|skip", "split",
                "Longer lines: split into pieces, truncate, or skip (with a warning)"),
    opt::string("on_done", "keep",
                "Batch mode, after a file is delivered: keep, delete, or move:DIR"),
    opt::one_of("key", "path|none", "path", "Record key: the file path (keeps a file in order)"),
    opt::size("fingerprint_bytes", "256",
              "Bytes hashed to recognise a file's content (all of a shorter file)", 16, 65536),
    opt::size("read_buffer", "256KiB", "Bytes read per system call", 4096, 16 << 20),
    opt::duration("forget_after", "1h",
                  "How long a file's position is kept once the file is gone from the paths "
                  "(deleted, or moved where they do not match); one that comes back later is "
                  "read again from the start",
                  0, 365LL * 24 * 3'600'000),
};

constexpr const char* kEolHeader = "ferry.eol";
constexpr size_t kForgetPerPass = 64;

// A file being read.
struct Tracked {
  Tracked(size_t max_line, LongLinePolicy policy, uint64_t start)
      : splitter(max_line, policy, start), read_pos(start) {}

  FileKey key;
  std::string partition;   // the lineage it carries
  std::string path;        // where it is now
  std::string record_key;  // where it was found: its records' key while it is read
  UniqueFd fd;
  LineSplitter splitter;
  uint64_t read_pos = 0;
  Fingerprint fp;
  int64_t btime_ns = 0;
  Clock::time_point last_data = Clock::now();
  // At the last scan: a file that did not change is not checked again.
  off_t last_size = -1;
  struct timespec last_mtime {};
  bool gone = false;  // away from the watched paths or deleted: read the rest, then close
  bool deleted = false;
  bool rewritten = false;  // truncated (and maybe written again): its content starts over
  Clock::time_point gone_since{};
  bool span_open = false;
};

// A file a scan found that nothing reads yet.
struct Candidate {
  std::string path;
  struct stat st {};
  FileKey key;
  UniqueFd fd;
  std::string head;  // its first fingerprint_bytes (fewer when it is shorter)
  int64_t btime_ns = 0;
};

// The inode's birth time where the filesystem records one (ext4, xfs, btrfs): an inode
// number handed to a new file gets a new birth time.
int64_t birth_time_ns(int fd) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0 || (sx.stx_mask & STATX_BTIME) == 0)
    return 0;
  return static_cast<int64_t>(sx.stx_btime.tv_sec) * 1'000'000'000 + sx.stx_btime.tv_nsec;
}

class FileSource final : public SourceTask {
 public:
  FileSource(const Host& host, const Config& cfg)
      : host_(host),
        patterns_(cfg.list("paths")),
        batch_(cfg.str("mode") == "batch"),
        start_at_end_(cfg.str("start_at") == "end"),
        scan_interval_(cfg.duration("scan_interval")),
        eof_timeout_(cfg.duration("eof_timeout")),
        rotate_wait_(cfg.duration("rotate_wait")),
        max_line_(cfg.size("max_line_bytes")),
        policy_(cfg.str("max_line_policy") == "truncate" ? LongLinePolicy::kTruncate
                : cfg.str("max_line_policy") == "skip"   ? LongLinePolicy::kSkip
                                                         : LongLinePolicy::kSplit),
        on_done_(cfg.str("on_done")),
        key_path_(cfg.str("key") == "path"),
        fp_bytes_(static_cast<uint32_t>(cfg.size("fingerprint_bytes"))),
        buffer_size_(cfg.size("read_buffer")),
        forget_after_(cfg.duration("forget_after")),
        spans_(cfg.boolean("span.enabled")),
        idle_close_(cfg.duration("span.idle_close")) {}

  static Status validate(const Config& cfg) {
    std::string d = cfg.str("on_done");
    if (d != "keep" && d != "delete" && !(d.rfind("move:", 0) == 0 && d.size() > 5))
      return Status::Config("on_done must be \"keep\", \"delete\" or \"move:DIR\", not \"" + d +
                            "\"");
    if (d != "keep" && cfg.str("mode") != "batch")
      return Status::Config("on_done applies to mode = \"batch\" only");
    return Status::Ok();
  }

  Status start() override {
    host_.committed_offsets([&](std::string_view p, std::string_view o) {
      if (auto off = parse_offset(o)) committed_[std::string(p)] = *off;
    });
    host_.state([&](std::string_view k, std::string_view v) {
      if (auto l = parse_lineage(k, v)) lineages_[std::string(k)] = *l;
    });
    if (on_done_.rfind("move:", 0) == 0) {
      std::error_code ec;
      std::filesystem::create_directories(on_done_.substr(5), ec);
      if (ec)
        return Status::Config("on_done directory " + on_done_.substr(5) + ": " + ec.message());
    }
    host_.info("watching " + join(patterns_) + (batch_ ? " (batch)" : " (tail)"));
    return Status::Ok();
  }

  // Lines still on disk need no hand-over: the next start reads them from the
  // committed offset. Reading on would only delay the stop (and move records while a
  // paused connector shuts down).
  void stop() override { stopping_ = true; }

  Status poll(uint32_t max_records) override {
    if (stopping_) return Status::Ok();
    auto now = Clock::now();
    if (now >= next_scan_) {
      next_scan_ = now + scan_interval_;
      if (Status s = scan(now); !s.ok()) return s;
    }
    uint32_t budget = max_records;
    std::vector<FileKey> finished;
    for (auto& [key, f] : files_) {
      if (budget == 0) break;
      bool close = false;
      if (Status s = read_file(*f, budget, now, close); !s.ok()) return s;
      if (close) finished.push_back(key);
    }
    for (const auto& k : finished) files_.erase(k);
    if (!finished.empty()) host_.gauge("files_open", static_cast<double>(files_.size()));
    return Status::Ok();
  }

  void committed(std::string_view partition, std::string_view offset) override {
    auto off = parse_offset(offset);
    if (!off) return;
    std::string p(partition);
    committed_[p] = *off;
    if (!off->done) return;
    auto it = awaiting_done_.find(p);
    if (it == awaiting_done_.end()) return;
    finish_batch_file(p, it->second.first, it->second.second);
    awaiting_done_.erase(it);
  }

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  std::set<std::string> expand_patterns() {
    std::set<std::string> seen;
    for (const auto& pattern : patterns_) {
      glob_t g{};
      int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) seen.insert(g.gl_pathv[i]);
      } else if (rc != GLOB_NOMATCH && !warned_.contains(pattern)) {
        host_.warn("cannot expand " + pattern + ": " + std::strerror(errno));
        warned_.insert(pattern);
      }
      ::globfree(&g);
    }
    if (!seen.empty()) ever_matched_ = true;
    if (seen.empty() && !ever_matched_ && !warned_empty_) {
      host_.warn("no file matches " + join(patterns_) + " yet; will keep looking");
      warned_empty_ = true;
    }
    return seen;
  }

  Status scan(Clock::time_point now) {
    std::set<FileKey> present;
    std::vector<Candidate> fresh;
    for (const auto& path : expand_patterns()) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      FileKey key = FileKey::of(st);
      if (!present.insert(key).second) continue;  // another name of a file seen already
      if (auto it = files_.find(key); it != files_.end()) {
        // Renamed within the watched paths: still read through the same descriptor.
        it->second->path = path;
        continue;
      }
      if (auto d = deferred_.find(key); d != deferred_.end()) {
        d->second.candidate.path = path;
        continue;
      }
      if (done_.contains(key) || awaiting(key)) continue;
      if (auto c = open_candidate(path, st)) fresh.push_back(std::move(*c));
    }
    for (auto pending = unsaved_; const auto& p : pending) save_lineage(p);
    if (!batch_) {
      if (Status s = check_tracked(now, present); !s.ok()) return s;
      retry_deferred(present);
    }
    if (!fresh.empty()) {
      // Files that are the same as before first: a copy is never taken for content a
      // file still on disk carries.
      LineageIndex index = index_lineages();
      std::vector<Candidate> unmatched;
      for (auto& c : fresh)
        if (!resume_same_file(c, index)) unmatched.push_back(std::move(c));
      for (auto& c : unmatched) adopt_copy_or_start(c, index);
    }
    if (now >= next_collect_) {
      forget_gone(now, present);
      next_collect_ =
          now + std::min<std::chrono::milliseconds>(std::max(forget_after_ / 4, scan_interval_),
                                                    std::chrono::minutes(1));
    }
    first_scan_ = false;
    return Status::Ok();
  }

  bool awaiting(const FileKey& key) const {
    return std::any_of(awaiting_done_.begin(), awaiting_done_.end(),
                       [&](const auto& a) { return a.second.first == key; });
  }

  std::optional<Candidate> open_candidate(const std::string& path, const struct stat& st) {
    Candidate c;
    c.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!c.fd) {
      if (warned_.insert(path).second) {
        host_.warn("cannot open " + path + ": " + std::strerror(errno) + " (will retry)");
        host_.count("file_open_errors");
      }
      return std::nullopt;
    }
    warned_.erase(path);
    // The descriptor's own stat: the path may name another file by now.
    if (::fstat(c.fd.get(), &c.st) != 0) return std::nullopt;
    c.key = FileKey::of(c.st);
    if (!(c.key == FileKey::of(st)) && (files_.contains(c.key) || done_.contains(c.key)))
      return std::nullopt;
    c.path = path;
    auto head = read_head(c.fd.get());
    if (!head) return std::nullopt;
    c.head = std::move(*head);
    c.btime_ns = birth_time_ns(c.fd.get());
    return c;
  }

  // The first `len` bytes of the file (fewer when it is shorter); fingerprint_bytes by
  // default.
  std::optional<std::string> read_head(int fd, size_t len = 0) const {
    std::string head(len == 0 ? fp_bytes_ : len, '\0');
    size_t got = 0;
    while (got < head.size()) {
      ssize_t n = ::pread(fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    head.resize(got);
    return head;
  }

  struct LineageIndex {
    std::multimap<FileKey, std::string> by_inode;
    std::map<std::pair<uint32_t, uint64_t>, std::vector<std::string>> by_fingerprint;
    std::set<uint32_t> lengths;
  };

  LineageIndex index_lineages() const {
    LineageIndex index;
    for (const auto& [p, l] : lineages_) {
      index.by_inode.emplace(l.inode, p);
      if (l.fp.len > 0) {
        index.by_fingerprint[{l.fp.len, l.fp.hash}].push_back(p);
        index.lengths.insert(l.fp.len);
      }
    }
    return index;
  }

  uint64_t position_of(const std::string& partition) const {
    if (auto o = orphan_pos_.find(partition); o != orphan_pos_.end()) return o->second;
    auto c = committed_.find(partition);
    return c == committed_.end() ? 0 : c->second.pos;
  }

  // Resumes `c` where it was left when it is the file a lineage was read from. A lineage
  // whose inode now holds other content (inode reuse, or truncated while ferry was
  // stopped) is detached from it.
  bool resume_same_file(Candidate& c, const LineageIndex& index) {
    auto [from, to] = index.by_inode.equal_range(c.key);
    for (auto it = from; it != to; ++it) {
      const std::string& p = it->second;
      Lineage& l = lineages_.at(p);
      if (l.detached) continue;
      uint64_t pos = position_of(p);
      if (l.carried_by(c.key, c.btime_ns, c.head) && pos <= static_cast<uint64_t>(c.st.st_size)) {
        if (batch_) {
          if (auto d = committed_.find(p); d != committed_.end() && d->second.done) {
            done_[c.key] = p;
            return true;
          }
        }
        track(c, p, pos, "resuming ");
        return true;
      }
      host_.info(c.path + " is not the file read before under its inode number (" +
                 (l.carried_by(c.key, c.btime_ns, c.head)
                      ? "shorter than its checkpoint: truncated while ferry was stopped"
                      : "new content") +
                 ")");
      detach(p);
    }
    return false;
  }

  // A file that carries no lineage: a copy of content nobody carries any more
  // (copytruncate) goes on from that content's position; anything else is new.
  void adopt_copy_or_start(Candidate& c, const LineageIndex& index) {
    if (!batch_) {
      for (uint32_t len : index.lengths) {
        if (len > c.head.size()) break;
        auto hit =
            index.by_fingerprint.find({len, fingerprint(std::string_view(c.head).substr(0, len))});
        if (hit == index.by_fingerprint.end()) continue;
        for (const std::string& p : hit->second) {
          Lineage& l = lineages_.at(p);
          if (!l.copied_to(c.key, c.head)) continue;
          if (carried_now(p)) {
            // copytruncate copies before it truncates: the copy is read once the
            // original is truncated or gone, from where the original was left. It is
            // held open meanwhile, so that deleting it does not lose what only it has.
            host_.info(c.path + " starts like " + l.path +
                       ", which is being read: taking it for a copy (read once " + l.path +
                       " is truncated or closed)");
            FileKey key = c.key;
            deferred_.insert_or_assign(key, Deferred{std::move(c), p});
            return;
          }
          uint64_t pos = position_of(p);
          if (pos > static_cast<uint64_t>(c.st.st_size)) continue;
          host_.info(c.path + " is a copy of " + l.path + " (copytruncate)");
          l.detached = false;
          track(c, p, pos, "reading on in ");
          orphan_pos_.erase(p);
          return;
        }
      }
    }
    std::string p = unused_partition(c.key);
    uint64_t start =
        !batch_ && first_scan_ && start_at_end_ ? static_cast<uint64_t>(c.st.st_size) : 0;
    track(c, p, start, "reading ");
  }

  // Whether a file being read carries `partition` (one found truncated carries it no
  // more, although it switches to its new lineage only at its next read).
  bool carried_now(const std::string& partition) const {
    return std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
      return f.second->partition == partition && !f.second->rewritten;
    });
  }

  // Copies held back while their original was read: taken on once it is not (truncated,
  // or closed after it went away), even if deleted meanwhile (they are read through the
  // descriptor held); dropped when they went away while the original is still read
  // (a plain copy, deleted again).
  void retry_deferred(const std::set<FileKey>& present) {
    if (deferred_.empty()) return;
    LineageIndex index = index_lineages();
    std::vector<Candidate> ready;
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      Deferred& d = it->second;
      if (carried_now(d.lineage)) {
        struct stat st {};
        bool away = ::fstat(d.candidate.fd.get(), &st) != 0 || st.st_nlink == 0 ||
                    !present.contains(it->first);
        if (away) host_.info("dropping " + d.candidate.path + ": a copy that went away");
        it = away ? deferred_.erase(it) : std::next(it);
        continue;
      }
      ready.push_back(std::move(d.candidate));
      it = deferred_.erase(it);
    }
    for (auto& c : ready) {
      if (::fstat(c.fd.get(), &c.st) != 0) continue;
      adopt_copy_or_start(c, index);
    }
  }

  std::string unused_partition(const FileKey& key) const {
    for (uint32_t n = 0;; ++n) {
      std::string p = lineage_partition(key, n);
      if (!lineages_.contains(p) && !committed_.contains(p)) return p;
    }
  }

  void track(Candidate& c, const std::string& partition, uint64_t start, const char* verb) {
    auto f = std::make_unique<Tracked>(max_line_, policy_, start);
    f->key = c.key;
    f->partition = partition;
    f->path = c.path;
    f->record_key = c.path;
    f->fd = std::move(c.fd);
    f->btime_ns = c.btime_ns;
    f->fp = Fingerprint::of(c.head);
    f->last_size = c.st.st_size;
    f->last_mtime = c.st.st_mtim;
    remember(*f);
    host_.info(verb + c.path + " at byte " + std::to_string(start) + " (lineage " + partition +
               ")");
    files_.emplace(c.key, std::move(f));
    host_.gauge("files_open", static_cast<double>(files_.size()));
  }

  // Writes the lineage `f` carries to plugin state when it changed.
  void remember(const Tracked& f) {
    Lineage l{f.fp, f.key, f.btime_ns, false, f.path};
    auto it = lineages_.find(f.partition);
    if (it != lineages_.end() && format_lineage(it->second) == format_lineage(l)) return;
    lineages_[f.partition] = l;
    save_lineage(f.partition);
  }

  // Writes a lineage (or its removal) to plugin state; one that cannot be written now
  // (state_dir full) is written at a later scan, or a restart would not know the file
  // its offset belongs to.
  void save_lineage(const std::string& partition) {
    auto it = lineages_.find(partition);
    Status s = it == lineages_.end() ? host_.put_state(partition, std::nullopt)
                                     : host_.put_state(partition, format_lineage(it->second));
    if (s.ok()) {
      unsaved_.erase(partition);
    } else if (unsaved_.insert(partition).second) {
      host_.warn("cannot save what identifies " + partition + " (will retry): " + s.message());
    }
  }

  void detach(const std::string& partition) {
    auto it = lineages_.find(partition);
    if (it == lineages_.end() || it->second.detached) return;
    it->second.detached = true;
    save_lineage(partition);
  }

  // A file that is no longer under any watched path (tail mode: rotated away and later
  // deleted; batch mode: removed by someone else) would otherwise keep its position in
  // the offsets and state files for good, and those are rewritten on every commit.
  void forget_gone(Clock::time_point now, const std::set<FileKey>& present) {
    std::set<std::string> live;
    for (const auto& [key, f] : files_) live.insert(f->partition);
    for (const auto& [p, pending] : awaiting_done_) live.insert(p);
    for (const auto& [key, p] : done_)
      if (present.contains(key)) live.insert(p);
    std::vector<std::string> expired;
    auto visit = [&](const std::string& p) {
      if (live.contains(p)) {
        unseen_since_.erase(p);
        return;
      }
      auto since = unseen_since_.try_emplace(p, now).first->second;
      if (now - since >= forget_after_) expired.push_back(p);
    };
    for (const auto& [p, lineage] : lineages_) visit(p);
    for (const auto& [p, offset] : committed_)
      if (!lineages_.contains(p)) visit(p);
    // Each forgotten file with state costs a state write; a few per pass keep a scan
    // short when many files left at once (the rest go in the next passes).
    if (expired.size() > kForgetPerPass) expired.resize(kForgetPerPass);
    for (const auto& p : expired) {
      auto l = lineages_.find(p);
      host_.info("forgetting " + (l != lineages_.end() ? l->second.path : "file " + p) +
                 ": not under the watched paths for forget_after");
      forget(p);
    }
  }

  // Once per scan, for each file being read: deleted, moved away from the paths (or
  // back), truncated or rewritten. A file whose size did not change is not re-read.
  Status check_tracked(Clock::time_point now, const std::set<FileKey>& present) {
    for (auto& [key, f] : files_) {
      struct stat own {};
      if (::fstat(f->fd.get(), &own) != 0) continue;
      f->deleted = own.st_nlink == 0;
      bool away = f->deleted || !present.contains(key);
      if (away && !f->gone) {
        f->gone = true;
        f->gone_since = now;
        host_.info(f->path + (f->deleted ? " was deleted" : " left the watched paths") +
                   "; reading what is left");
      } else if (!away && f->gone) {
        f->gone = false;
        host_.info(f->path + " is under the watched paths again");
      }
      // A truncation followed by as many bytes as before changes only the times.
      if (own.st_size == f->last_size && own.st_mtim.tv_sec == f->last_mtime.tv_sec &&
          own.st_mtim.tv_nsec == f->last_mtime.tv_nsec)
        continue;
      f->last_size = own.st_size;
      f->last_mtime = own.st_mtim;
      bool rewritten = static_cast<uint64_t>(own.st_size) < f->read_pos;
      if (!rewritten && f->fp.len > 0) {
        auto head = read_head(f->fd.get());
        rewritten = head && !f->fp.matches(*head);
      }
      if (rewritten) {
        if (Status s = mark_rewritten(*f); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  // The content `f` was read from is gone from its file: a copy may carry it on from
  // the last whole line read (a partial line held here is left to it). The file itself
  // switches to a new lineage at its next read (start_over).
  [[nodiscard]] Status mark_rewritten(Tracked& f) {
    if (f.rewritten) return Status::Ok();
    f.rewritten = true;
    orphan_pos_[f.partition] = f.splitter.offset();
    detach(f.partition);
    return close_span(f);  // a copy may go on with this lineage, and its span
  }

  Status emit_line(Tracked& f, const Line& line) {
    // The same text as format_offset(pos, false), without a string per line.
    std::array<char, 24> offset{};
    auto [end, ec] = std::to_chars(offset.data(), offset.data() + offset.size(), line.end_offset);
    SourceRecord r;
    r.source_partition = f.partition;
    r.source_offset = std::string_view(offset.data(), static_cast<size_t>(end - offset.data()));
    if (line.offset_only) {
      r.offset_only = true;
      return host_.emit(r);
    }
    if (line.oversized) {
      host_.count("lines_truncated");
    }
    if (key_path_) r.key = f.record_key;
    r.value = line.text;
    if (spans_) {
      if (Status s = open_span(f); !s.ok()) return s;
      r.span = f.partition;
    }
    if (line.eol == Eol::kCrlf)
      r.add_header(kEolHeader, "crlf");
    else if (line.eol == Eol::kNone)
      r.add_header(kEolHeader, "none");
    return host_.emit(r);
  }

  // One span per lineage: opened with its first line (or at the end of an empty file in
  // batch mode), closed at EOF in batch mode, and in tail mode when the file is gone,
  // rewritten, or idle for span.idle_close. The key is the lineage, so after a restart
  // the host resumes the span that was open.
  Status open_span(Tracked& f) {
    if (f.span_open) return Status::Ok();
    f.span_open = true;
    return host_.span_open(f.partition, {{"path", f.path}, {"file", f.partition}});
  }
  Status close_span(Tracked& f) {
    if (!f.span_open) return Status::Ok();
    f.span_open = false;
    return host_.span_close(f.partition);
  }

  // Reads and emits from one file until the budget is spent or it has no more data.
  Status read_file(Tracked& f, uint32_t& budget, Clock::time_point now, bool& close) {
    while (budget > 0) {
      if (f.rewritten) {
        if (Status s = start_over(f); !s.ok()) return s;
      }
      if (auto line = f.splitter.next()) {
        if (line->oversized && line->offset_only && policy_ == LongLinePolicy::kSkip)
          host_.warn("skipped a line longer than max_line_bytes in " + f.path);
        if (Status s = emit_line(f, *line); !s.ok()) return s;
        --budget;
        continue;
      }
      if (buffer_.size() < buffer_size_) buffer_.resize(buffer_size_);
      ssize_t n =
          ::pread(f.fd.get(), buffer_.data(), buffer_.size(), static_cast<off_t>(f.read_pos));
      if (n > 0) {
        // The file's beginning must still be what it was: after a truncation the next
        // write can make it as long as before at once, and these bytes would be the
        // middle of new content. (Checked after the read: bytes read before a
        // truncation are then in the copy, if one was made.)
        if (f.fp.len > 0) {
          auto head = read_head(f.fd.get(), f.fp.len);
          if (!head || !f.fp.matches(*head)) {
            if (Status s = mark_rewritten(f); !s.ok()) return s;
            continue;
          }
        }
        f.splitter.feed(std::string_view(buffer_.data(), static_cast<size_t>(n)));
        f.read_pos += static_cast<uint64_t>(n);
        f.last_data = now;
        if (f.fp.len < fp_bytes_ && f.read_pos > f.fp.len) {
          if (Status s = extend_fingerprint(f); !s.ok()) return s;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        host_.warn("read error on " + f.path + ": " + std::strerror(errno) + "; reopening later");
        close = true;
        return Status::Ok();
      }
      return at_eof(f, budget, now, close);
    }
    return Status::Ok();
  }

  // A file shorter than fingerprint_bytes is known by all of its content: as it grows
  // the fingerprint grows with it, unless its beginning changed (rewritten).
  Status extend_fingerprint(Tracked& f) {
    auto head = read_head(f.fd.get());
    if (!head) return Status::Ok();
    if (!f.fp.matches(*head)) return mark_rewritten(f);
    f.fp = Fingerprint::of(*head);
    remember(f);
    return Status::Ok();
  }

  Status at_eof(Tracked& f, uint32_t& budget, Clock::time_point now, bool& close) {
    if (batch_) {
      if (auto rest = f.splitter.take_rest()) {
        if (Status s = emit_line(f, *rest); !s.ok()) return s;
        --budget;
      }
      if (spans_) {
        // An empty file is an empty span: opened, closed and delivered with count 0.
        if (Status s = open_span(f); !s.ok()) return s;
        if (Status s = close_span(f); !s.ok()) return s;
      }
      // The marker commits "done" once every line before it is delivered.
      std::string offset = format_offset(f.splitter.offset(), true);
      SourceRecord marker;
      marker.source_partition = f.partition;
      marker.source_offset = offset;
      marker.offset_only = true;
      if (Status s = host_.emit(marker); !s.ok()) return s;
      awaiting_done_[f.partition] = {f.key, f.path};
      close = true;
      return Status::Ok();
    }
    struct stat st {};
    if (::fstat(f.fd.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < f.read_pos) {
      // copytruncate: the file was emptied under us.
      return mark_rewritten(f);
    }
    bool idle = now - f.last_data >= eof_timeout_;
    bool finished = f.gone && now - std::max(f.last_data, f.gone_since) >= rotate_wait_;
    if (f.splitter.pending_bytes() > 0 && (idle || finished)) {
      if (auto rest = f.splitter.take_rest()) {
        if (Status s = emit_line(f, *rest); !s.ok()) return s;
        --budget;
      }
    }
    if (finished) {
      host_.info("closing " + f.path + " (" + std::to_string(f.read_pos) + " bytes read)");
      // A deleted file's inode number may be handed to a new file at once.
      if (f.deleted) detach(f.partition);
      // A copy found later goes on from here (the committed offset may still lag).
      orphan_pos_[f.partition] = f.splitter.offset();
      close = true;
      return close_span(f);
    }
    if (f.span_open && f.splitter.pending_bytes() == 0 && now - f.last_data >= idle_close_)
      return close_span(f);
    return Status::Ok();
  }

  // The file was truncated (and maybe written again): what it held is now only in a copy,
  // if one was made, which carries the lineage on from the last whole line read (a
  // partial line held here is left to it). The file itself starts a new lineage.
  Status start_over(Tracked& f) {
    f.rewritten = false;
    host_.info(f.path + " was truncated; reading it from the start");
    f.partition = unused_partition(f.key);
    f.splitter = LineSplitter(max_line_, policy_, 0);
    f.read_pos = 0;
    f.fp = Fingerprint::of(read_head(f.fd.get()).value_or(""));
    remember(f);
    return Status::Ok();
  }

  void finish_batch_file(const std::string& partition, const FileKey& key,
                         const std::string& path) {
    done_[key] = partition;
    struct stat st {};
    // Act only on the same file we read; it may have been replaced meanwhile.
    if (::stat(path.c_str(), &st) != 0 || !(FileKey::of(st) == key)) return;
    if (on_done_ == "delete") {
      if (::unlink(path.c_str()) != 0) {
        host_.warn("cannot delete " + path + ": " + std::strerror(errno));
      } else {
        host_.info("delivered and deleted " + path);
        forget(partition);
      }
    } else if (on_done_.rfind("move:", 0) == 0) {
      // Never over an earlier file of the same name: it becomes "<name>.<N>".
      auto base =
          std::filesystem::path(on_done_.substr(5)) / std::filesystem::path(path).filename();
      auto target = base;
      int rc = -1;
      for (int n = 1; n <= 100000; ++n) {
        rc = ::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
        if (rc == 0 || errno != EEXIST) break;
        target = base.string() + "." + std::to_string(n);
      }
      if (rc != 0) {
        host_.warn("cannot move " + path + " to " + target.string() + ": " + std::strerror(errno));
      } else {
        host_.info("delivered and moved " + path + " to " + target.string());
        if (!watched(target.string())) forget(partition);
      }
    } else {
      host_.info("delivered " + path);
    }
    host_.count("files_done");
  }

  // A delivered file that left the watched paths: its inode may be reused at once (ext4
  // hands a deleted file's inode to the next file created), and a new file under a
  // remembered identity would be taken for the finished one and never read.
  void forget(const std::string& partition) {
    std::erase_if(done_, [&](const auto& d) { return d.second == partition; });
    bool had_state = lineages_.erase(partition) > 0;
    committed_.erase(partition);
    orphan_pos_.erase(partition);
    unseen_since_.erase(partition);
    if (had_state) save_lineage(partition);
    (void)host_.forget_offset(partition);  // saved with the next offset commit, batched
  }

  bool watched(const std::string& path) const {
    return std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& p) {
      return ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
    });
  }

  Host host_;
  std::vector<std::string> patterns_;
  bool batch_;
  bool start_at_end_;
  std::chrono::milliseconds scan_interval_, eof_timeout_, rotate_wait_;
  size_t max_line_;
  LongLinePolicy policy_;
  std::string on_done_;
  bool key_path_;
  uint32_t fp_bytes_;
  size_t buffer_size_ = 0;
  std::chrono::milliseconds forget_after_;
  bool spans_;
  std::chrono::milliseconds idle_close_;
  std::vector<char> buffer_;

  std::map<FileKey, std::unique_ptr<Tracked>> files_;
  std::map<FileKey, std::string> done_;  // batch files delivered, with their lineage
  std::map<std::string, std::pair<FileKey, std::string>> awaiting_done_;
  std::map<std::string, Offset> committed_;
  std::map<std::string, Lineage> lineages_;
  std::set<std::string> unsaved_;  // lineages whose last change is not in state yet
  // Lineages whose file was truncated while read here: where a copy goes on (the last
  // whole line read; the committed offset may still lag behind it).
  std::map<std::string, uint64_t> orphan_pos_;
  struct Deferred {
    Candidate candidate;
    std::string lineage;  // the content it is a copy of
  };
  std::map<FileKey, Deferred> deferred_;  // copies waiting for their original to let go
  std::map<std::string, Clock::time_point> unseen_since_;  // known, but under no watched path
  Clock::time_point next_collect_{};
  std::set<std::string> warned_;
  bool warned_empty_ = false;
  bool ever_matched_ = false;
  bool first_scan_ = true;
  bool stopping_ = false;
  Clock::time_point next_scan_{};
};

}  // namespace
}  // namespace ferry::file

FERRY_PLUGIN(ferry::file::FileSource, "file-source", "0.1.0",
             "Reads lines from files (tail or batch); one record per line", ferry::file::kOptions)
