// file-source: reads lines from files matching glob patterns and emits one record per
// line. Tail mode follows growing files through rename and copytruncate rotation and
// deletion; batch mode reads each file once and then keeps, deletes or moves it after
// all of its lines are in Kafka. Checkpoints (byte offsets) are committed by the host
// only after delivery, so a crash re-reads at most the unacknowledged lines.
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
                  "Tail mode: keep reading a rotated or deleted file this long after it is gone"),
    opt::size("max_line_bytes", "512KiB", "Longest line emitted as one record", 16, 64 << 20),
    opt::one_of("max_line_policy", "split|truncate|skip", "split",
                "Longer lines: split into pieces, truncate, or skip (with a warning)"),
    opt::string("on_done", "keep",
                "Batch mode, after a file is delivered: keep, delete, or move:DIR"),
    opt::one_of("key", "path|none", "path", "Record key: the file path (keeps a file in order)"),
    opt::size("fingerprint_bytes", "256", "Bytes hashed to recognise a file", 16, 65536),
    opt::size("read_buffer", "256KiB", "Bytes read per system call", 4096, 16 << 20),
    opt::duration("forget_after", "1h",
                  "How long a file's position is kept once the file is gone from the paths "
                  "(deleted, or moved where they do not match); one that comes back later is "
                  "read again from the start",
                  0, 365LL * 24 * 3'600'000),
};

constexpr const char* kEolHeader = "ferry.eol";
constexpr size_t kForgetPerPass = 64;

struct Tracked {
  FileKey key;
  std::string partition;
  std::string path;
  int fd = -1;
  LineSplitter splitter;
  uint64_t read_pos = 0;
  Fingerprint fp;
  Clock::time_point last_data = Clock::now();
  bool gone = false;  // renamed away or deleted: read what is left, then close
  Clock::time_point gone_since{};
  Clock::time_point next_verify{};
  bool span_open = false;

  Tracked(size_t max_line, LongLinePolicy policy, uint64_t start)
      : splitter(max_line, policy, start), read_pos(start) {}
  ~Tracked() {
    if (fd >= 0) ::close(fd);
  }
};

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
      if (auto r = parse_file_record(v)) known_[std::string(k)] = *r;
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
      scan(now);
      next_scan_ = now + scan_interval_;
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
    finish_batch_file(it->second.first, it->second.second);
    awaiting_done_.erase(it);
  }

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  void scan(Clock::time_point now) {
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
    bool collect = now >= next_collect_;
    std::set<std::string> present;
    for (const auto& path : seen) {
      auto key = consider(path);
      if (collect && key) present.insert(key->partition());
    }
    if (!batch_) detect_gone(now);
    if (collect) {
      forget_gone(now, std::move(present));
      next_collect_ =
          now + std::min<std::chrono::milliseconds>(std::max(forget_after_ / 4, scan_interval_),
                                                    std::chrono::minutes(1));
    }
    first_scan_ = false;
  }

  // Returns the identity of what `path` is now, if it is a regular file.
  std::optional<FileKey> consider(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    FileKey key = FileKey::of(st);
    if (files_.contains(key) || done_.contains(key)) return key;
    if (awaiting_done_.contains(key.partition())) return key;
    open_file(path, st, key);
    return key;
  }

  // A file that is no longer under any watched path (tail mode: rotated away and later
  // deleted; batch mode: removed by someone else) would otherwise keep its position in
  // the offsets and state files for good, and those are rewritten on every commit.
  void forget_gone(Clock::time_point now, std::set<std::string> live) {
    for (const auto& [key, f] : files_) live.insert(f->partition);
    for (const auto& [p, pending] : awaiting_done_) live.insert(p);
    std::vector<std::string> expired;
    auto visit = [&](const std::string& p) {
      if (live.contains(p)) {
        unseen_since_.erase(p);
        return;
      }
      auto since = unseen_since_.try_emplace(p, now).first->second;
      if (now - since >= forget_after_) expired.push_back(p);
    };
    for (const auto& [p, record] : known_) visit(p);
    for (const auto& [p, offset] : committed_)
      if (!known_.contains(p)) visit(p);
    // Each forgotten file with state costs a state write; a few per pass keep a scan
    // short when many files left at once (the rest go in the next passes).
    if (expired.size() > kForgetPerPass) expired.resize(kForgetPerPass);
    for (const auto& p : expired) {
      auto k = known_.find(p);
      host_.info("forgetting " + (k != known_.end() ? k->second.path : "file " + p) +
                 ": not under the watched paths for forget_after");
      forget(p);
    }
  }

  std::optional<Fingerprint> head_fingerprint(int fd, uint32_t len) {
    std::string head(len, '\0');
    ssize_t n = ::pread(fd, head.data(), len, 0);
    if (n < 0) return std::nullopt;
    head.resize(static_cast<size_t>(n));
    return Fingerprint{fingerprint(head), static_cast<uint32_t>(n)};
  }

  void open_file(const std::string& path, const struct stat& st, const FileKey& key) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (warned_.insert(path).second) {
        host_.warn("cannot open " + path + ": " + std::strerror(errno) + " (will retry)");
        host_.count("file_open_errors");
      }
      return;
    }
    warned_.erase(path);
    std::string partition = key.partition();
    uint64_t start = 0;
    bool resumed = false;
    auto known = known_.find(partition);
    if (known != known_.end()) {
      // Same inode as a file we read before: the same file only if its head still hashes
      // the same (inodes are reused after deletion).
      auto now_fp = head_fingerprint(fd, known->second.fp.len);
      if (now_fp && *now_fp == known->second.fp) {
        auto c = committed_.find(partition);
        if (c != committed_.end()) {
          if (c->second.done && batch_) {
            ::close(fd);
            done_.insert(key);
            return;
          }
          start = c->second.pos;
          resumed = true;
        }
      }
    }
    if (!resumed && !batch_ && first_scan_ && start_at_end_)
      start = static_cast<uint64_t>(st.st_size);
    if (start > static_cast<uint64_t>(st.st_size)) {
      host_.warn(path +
                 " is shorter than its checkpoint (truncated while ferry was stopped); "
                 "reading it from the start");
      start = 0;
    }
    auto f = std::make_unique<Tracked>(max_line_, policy_, start);
    f->key = key;
    f->partition = partition;
    f->path = path;
    f->fd = fd;
    auto fp = head_fingerprint(fd, fp_bytes_);
    f->fp = fp.value_or(Fingerprint{});
    remember(*f);
    host_.info((resumed ? "resuming " : "reading ") + path + " at byte " + std::to_string(start));
    files_.emplace(key, std::move(f));
    host_.gauge("files_open", static_cast<double>(files_.size()));
  }

  void remember(const Tracked& f) {
    FileRecord r{f.fp, f.path};
    known_[f.partition] = r;
    (void)host_.put_state(f.partition, format_file_record(r));
  }

  void detect_gone(Clock::time_point now) {
    for (auto& [key, f] : files_) {
      if (f->gone) continue;
      struct stat st {};
      struct stat own {};
      bool moved = ::stat(f->path.c_str(), &st) != 0 || !(FileKey::of(st) == key);
      bool deleted = ::fstat(f->fd, &own) == 0 && own.st_nlink == 0;
      if (moved || deleted) {
        f->gone = true;
        f->gone_since = now;
        host_.info(f->path + (deleted ? " was deleted" : " was rotated away") +
                   "; reading what is left");
      }
    }
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
    if (key_path_) r.key = f.path;
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

  // One span per file: opened with its first line (or at the end of an empty file in
  // batch mode), closed at EOF in batch mode, and in tail mode when the file is gone,
  // rewritten, or idle for span.idle_close. The key is the file's identity, so after a
  // restart the host resumes the span that was open.
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
      if (auto line = f.splitter.next()) {
        if (line->oversized && line->offset_only && policy_ == LongLinePolicy::kSkip)
          host_.warn("skipped a line longer than max_line_bytes in " + f.path);
        if (Status s = emit_line(f, *line); !s.ok()) return s;
        --budget;
        continue;
      }
      if (buffer_.size() < chunk_size()) buffer_.resize(chunk_size());
      ssize_t n = ::pread(f.fd, buffer_.data(), buffer_.size(), static_cast<off_t>(f.read_pos));
      if (n > 0) {
        f.splitter.feed(std::string_view(buffer_.data(), static_cast<size_t>(n)));
        f.read_pos += static_cast<uint64_t>(n);
        f.last_data = now;
        if (f.fp.len < fp_bytes_ && f.read_pos > f.fp.len) {
          if (auto fp = head_fingerprint(f.fd, fp_bytes_)) {
            f.fp = *fp;
            remember(f);
          }
        }
        continue;
      }
      if (n < 0) {
        host_.warn("read error on " + f.path + ": " + std::strerror(errno) + "; reopening later");
        close = true;
        return Status::Ok();
      }
      return at_eof(f, budget, now, close);
    }
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
    if (::fstat(f.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < f.read_pos) {
      // copytruncate: the file was emptied under us.
      return read_from_start(f, " was truncated");
    }
    if (f.fp.len > 0 && now >= f.next_verify) {
      // copytruncate followed by new writes can leave the file as long as before; a
      // changed head is how we notice it was rewritten.
      f.next_verify = now + scan_interval_;
      auto head = head_fingerprint(f.fd, f.fp.len);
      if (head && !(*head == f.fp)) return read_from_start(f, " was truncated and rewritten");
    }
    bool idle = now - f.last_data >= eof_timeout_;
    if (f.splitter.pending_bytes() > 0 && (idle || f.gone)) {
      if (f.gone && now - f.gone_since < rotate_wait_ && !idle) return Status::Ok();
      if (auto rest = f.splitter.take_rest()) {
        if (Status s = emit_line(f, *rest); !s.ok()) return s;
        --budget;
      }
    }
    if (f.gone && now - f.gone_since >= rotate_wait_) {
      host_.info("closing " + f.path + " (" + std::to_string(f.read_pos) + " bytes read)");
      close = true;
      return close_span(f);
    }
    if (f.span_open && f.splitter.pending_bytes() == 0 && now - f.last_data >= idle_close_)
      return close_span(f);
    return Status::Ok();
  }

  // The file now holds new content from byte 0. A partial line we still hold was the
  // old content's end, so it goes out as an unterminated line first.
  Status read_from_start(Tracked& f, const char* what) {
    if (auto rest = f.splitter.take_rest())
      if (Status s = emit_line(f, *rest); !s.ok()) return s;
    if (Status s = close_span(f); !s.ok()) return s;  // new content, new span
    host_.info(f.path + what + "; reading it from the start");
    f.splitter = LineSplitter(max_line_, policy_, 0);
    f.read_pos = 0;
    f.fp = head_fingerprint(f.fd, fp_bytes_).value_or(Fingerprint{});
    remember(f);
    return Status::Ok();
  }

  void finish_batch_file(const FileKey& key, const std::string& path) {
    done_.insert(key);
    struct stat st {};
    // Act only on the same file we read; it may have been replaced meanwhile.
    if (::stat(path.c_str(), &st) != 0 || !(FileKey::of(st) == key)) return;
    if (on_done_ == "delete") {
      if (::unlink(path.c_str()) != 0) {
        host_.warn("cannot delete " + path + ": " + std::strerror(errno));
      } else {
        host_.info("delivered and deleted " + path);
        forget(key.partition());
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
        if (!watched(target.string())) forget(key.partition());
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
    if (auto key = FileKey::parse(partition)) done_.erase(*key);
    bool had_state = known_.erase(partition) > 0;
    committed_.erase(partition);
    unseen_since_.erase(partition);
    if (had_state) (void)host_.put_state(partition, std::nullopt);
    (void)host_.forget_offset(partition);  // saved with the next offset commit, batched
  }

  bool watched(const std::string& path) const {
    return std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& p) {
      return ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
    });
  }

  size_t chunk_size() const { return buffer_size_; }

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
  std::set<FileKey> done_;
  std::map<std::string, std::pair<FileKey, std::string>> awaiting_done_;
  std::map<std::string, Offset> committed_;
  std::map<std::string, FileRecord> known_;
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
