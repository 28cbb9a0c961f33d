// file-sink: appends each record's value plus "\n" to a file chosen by a path
// template. Writes are buffered; flush writes and fsyncs every touched file before the
// host commits consumer offsets, so an acknowledged offset always means bytes on disk.
// Files rotate by size or age; a rotated file is fsynced and renamed to
// "<path>.<N>", N counting up from 1.
//
// With per_span = true, each span's records go to a hidden temporary file next to their
// target, which is fsynced and renamed into place at span_end, so downstream never sees
// half a span. Line endings are restored from file-source's ferry.eol header and
// records the span already has (same ferry.span.seq) are skipped, so files -> Kafka ->
// files is byte-identical even across crashes and redelivery. A published span file is
// never replaced: a second span for the same path is published as "<path>.<N>".
//
// Record data picks the paths, so the number of outputs is unbounded: at most
// max_open_files descriptors are held (the least recently written is written out,
// fsynced and closed to make room) and a file idle for idle_close is closed at the next
// flush. A closed output is reopened for append when written again.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/sdk.hpp"
#include "ferry/unique_fd.hpp"
#include "path_template.hpp"

namespace ferry::file {
namespace {

using Clock = std::chrono::steady_clock;

constexpr ferry_option kSinkOptions[] = {
    opt::string("path", nullptr,
                "Output path template: {topic}, {partition}, {span}, {date} (UTC day)",
                opt::kRequired),
    opt::size("rotate_bytes", "0", "Rotate a file when it reaches this size (0 = never)"),
    opt::duration("rotate_interval", "0s",
                  "Rotate a file this long after it was opened (0 = never)"),
    opt::boolean("fsync", "true", "fsync files before offsets are committed"),
    opt::boolean("skip_tombstones", "true", "Records with a null value write nothing"),
    opt::size("write_buffer", "1MiB", "Bytes buffered per file before a write()", 4096, 64 << 20),
    opt::boolean("per_span", "false",
                 "Write each span to a temporary file renamed into place when the span ends"),
    opt::duration("span_done_retention", "7d",
                  "per_span: how long finished spans are remembered to ignore redelivery"),
    opt::integer("max_open_files", "128",
                 "Output files held open at once; the least recently written is closed first", 1,
                 100000),
    opt::duration("idle_close", "30s", "Close an output file not written for this long", 0),
};

struct OutFile {
  std::string path;
  UniqueFd fd;
  std::string buffer;
  uint64_t size = 0;
  bool dirty = false;  // written since the last fsync
  Clock::time_point opened = Clock::now();
  Clock::time_point last_write = Clock::now();
  OutFile() = default;
};

struct SpanFile {
  OutFile out;  // out.path is the temporary file
  std::string final_path;
  uint64_t last_seq = 0;  // highest ferry.span.seq written
  bool done = false;      // published: its records up to done_seq are redelivered copies
  uint64_t done_seq = 0;  // the last record published (all of them, for older state)
  bool saved = true;      // state matches what was flushed
};

int64_t epoch_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

class FileSink final : public SinkTask {
 public:
  FileSink(const Host& host, const Config& cfg)
      : host_(host),
        template_(cfg.str("path")),
        rotate_bytes_(cfg.size("rotate_bytes")),
        rotate_interval_(cfg.duration("rotate_interval")),
        fsync_(cfg.boolean("fsync")),
        skip_tombstones_(cfg.boolean("skip_tombstones")),
        write_buffer_(cfg.size("write_buffer")),
        uses_span_(template_.find("{span}") != std::string::npos),
        static_path_(!uses_span_ && template_.find("{date}") == std::string::npos &&
                     template_.find("{filename}") == std::string::npos),
        per_span_(cfg.boolean("per_span")),
        done_retention_s_(cfg.duration("span_done_retention").count() / 1000),
        max_open_(static_cast<size_t>(cfg.integer("max_open_files"))),
        idle_close_(cfg.duration("idle_close")) {}

  Status start() override {
    if (!per_span_) return Status::Ok();
    std::vector<std::string> expired;
    host_.state([&](std::string_view k, std::string_view v) {
      if (!k.starts_with("span:")) return;
      if (v.starts_with("done\n") &&
          epoch_seconds() - std::atoll(std::string(v.substr(5)).c_str()) > done_retention_s_) {
        expired.emplace_back(k);
        return;
      }
      span_state_[std::string(k.substr(5))] = std::string(v);
    });
    for (const auto& k : expired) (void)host_.put_state(k, std::nullopt);
    return Status::Ok();
  }

  static Status validate(const Config& cfg) {
    std::string field;
    if (template_has_unknown_field(cfg.str("path"), field))
      return Status::Config("path template has unknown field {" + field +
                            "} (known: {topic}, {partition}, {span}, {date}, {filename})");
    return Status::Ok();
  }

  Status put(std::span<const RecordView> records) override {
    for (const RecordView& r : records) {
      auto value = r.value();
      if (!value && skip_tombstones_) continue;
      if (per_span_ && !r.span().empty()) {
        if (Status s = put_span_record(r, value); !s.ok()) return s;
        continue;
      }
      OutFile* f = nullptr;
      if (Status s = file_for(r, f); !s.ok()) return s;
      if (value) f->buffer.append(*value);
      f->buffer.push_back('\n');
      f->last_write = Clock::now();
      if (f->buffer.size() >= write_buffer_)
        if (Status s = write_out(*f); !s.ok()) return s;
      if (needs_rotation(*f))
        if (Status s = rotate(f->path); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status flush() override {
    for (auto& [path, f] : files_)
      if (Status s = sync_out(*f); !s.ok()) return s;
    for (auto& [id, sf] : spans_) {
      if (sf->done || sf->out.path.empty()) continue;
      // Always fsynced: the state saved below says these bytes are on disk.
      if (Status s = sync_out(sf->out, /*force=*/true); !s.ok()) return s;
      if (!sf->saved) {
        // What a restart resumes from: bytes and records of the span safely on disk.
        std::string state = "open\n" + std::to_string(sf->out.size) + "\n" +
                            std::to_string(sf->last_seq) + "\n" + sf->out.path + "\n" +
                            sf->final_path;
        if (Status s = host_.put_state("span:" + id, state); !s.ok()) return s;
        sf->saved = true;
      }
    }
    close_idle();
    forget_old_spans();
    return Status::Ok();
  }

  Status span_begin(std::string_view id) override {
    if (!per_span_ || spans_.contains(std::string(id))) return Status::Ok();
    auto sf = std::make_unique<SpanFile>();
    auto st = span_state_.find(std::string(id));
    if (st != span_state_.end()) {
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t nl; (nl = st->second.find('\n', start)) != std::string::npos; start = nl + 1)
        parts.push_back(st->second.substr(start, nl - start));
      parts.push_back(st->second.substr(start));
      if (parts[0] == "done") {
        sf->done = true;
        sf->done_seq =
            parts.size() >= 3 ? std::strtoull(parts[2].c_str(), nullptr, 10) : UINT64_MAX;
      } else if (parts[0] == "open" && parts.size() == 5) {
        // Resume after a restart: drop bytes written after the last flush (their
        // records come again) and go on from the last record known to be on disk.
        uint64_t size = std::strtoull(parts[1].c_str(), nullptr, 10);
        // Reopened for append when the span's next record comes.
        UniqueFd fd(::open(parts[3].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (!fd || ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
          return Status::Retriable("cannot resume " + parts[3] + ": " + std::strerror(errno));
        sf->out.path = parts[3];
        sf->out.size = size;
        sf->last_seq = std::strtoull(parts[2].c_str(), nullptr, 10);
        sf->final_path = parts[4];
        host_.info("resuming span " + std::string(id) + " in " + sf->out.path + " at byte " +
                   parts[1]);
      }
    }
    spans_.emplace(std::string(id), std::move(sf));
    return Status::Ok();
  }

  Status span_end(std::string_view span_id) override {
    std::string id(span_id);
    auto it = spans_.find(id);
    if (!per_span_ || it == spans_.end()) return Status::Ok();
    SpanFile& sf = *it->second;
    if (!sf.done && !sf.out.path.empty()) {
      if (Status s = sync_out(sf.out, /*force=*/true); !s.ok()) return s;
      std::string target;
      if (Status s = publish(sf.out.path, sf.final_path, target); !s.ok()) return s;
      close_out(sf.out);
      host_.info("span " + id + " complete: " + target + " (" + std::to_string(sf.out.size) +
                 " bytes, " + std::to_string(sf.last_seq) + " records)");
      host_.count("span_files");
    }
    if (!sf.done) {
      std::string done =
          "done\n" + std::to_string(epoch_seconds()) + "\n" + std::to_string(sf.last_seq);
      if (Status s = host_.put_state("span:" + id, done); !s.ok()) return s;
      // Remembered in this run too: a copy redelivered after a rebalance is recognised.
      span_state_[id] = std::move(done);
    }
    spans_.erase(it);
    return Status::Ok();
  }

  // An empty file (a span with no record): published empty under the name its template
  // gives, the fields a record would give coming from the span (its source path as the
  // key, its opening time as the timestamp), so a directory arrives whole.
  Status span_empty(const EmptySpan& span) override {
    if (!per_span_) return Status::Ok();
    std::string id(span.id);
    if (auto st = span_state_.find(id); st != span_state_.end() && st->second.starts_with("done"))
      return Status::Ok();
    TemplateValues tv{span.topic, span.partition, span.id, span.opened_at_ms,
                      span.attr("path").value_or("")};
    std::string final_path = expand_path(template_, tv);
    std::filesystem::path fp(final_path);
    std::error_code ec;
    if (fp.has_parent_path()) std::filesystem::create_directories(fp.parent_path(), ec);
    std::filesystem::path tmp = fp.parent_path() / ("." + sanitize_segment(fp.filename().string()) +
                                                    "." + sanitize_segment(id) + ".ferry-tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd)
      return Status::Retriable("cannot create " + tmp.string() + ": " + std::strerror(errno));
    if (fsync_ && ::fsync(fd.get()) != 0)
      return Status::Retriable("fsync " + tmp.string() + ": " + std::strerror(errno));
    std::string target;
    if (Status s = publish(tmp.string(), final_path, target); !s.ok()) return s;
    host_.info("span " + id + " complete: " + target + " (empty)");
    host_.count("span_files");
    std::string done = "done\n" + std::to_string(epoch_seconds()) + "\n0";
    if (Status s = host_.put_state("span:" + id, done); !s.ok()) return s;
    span_state_[id] = std::move(done);
    return Status::Ok();
  }

 private:
  Status put_span_record(const RecordView& r, std::optional<std::string_view> value) {
    std::string id(r.span());
    auto it = spans_.find(id);
    if (it == spans_.end()) {
      if (Status s = span_begin(id); !s.ok()) return s;
      it = spans_.find(id);
    }
    SpanFile& sf = *it->second;
    uint64_t seq = r.span_seq();
    if (sf.done) {
      if (seq == 0 || seq <= sf.done_seq) return Status::Ok();  // a copy of a published record
      // Records past what was published: the span ended early (a forged or wrong
      // span.delivered). They are kept, in a file published beside the first.
      host_.warn("span " + id + ": record " + std::to_string(seq) + " arrived after the span was " +
                 "published with " + std::to_string(sf.done_seq) + " record(s); writing the rest " +
                 "to another file");
      sf.done = false;
      sf.last_seq = sf.done_seq;
    }
    if (seq != 0 && seq <= sf.last_seq) return Status::Ok();  // a copy we already have
    if (seq > sf.last_seq + 1 && sf.last_seq > 0)
      host_.warn("span " + id + ": record " + std::to_string(seq) + " follows " +
                 std::to_string(sf.last_seq) + "; records are missing from the span");
    if (sf.out.path.empty()) {
      TemplateValues tv{r.topic(), r.partition(), r.span(), r.timestamp_ms(), r.key().value_or("")};
      sf.final_path = expand_path(template_, tv);
      std::filesystem::path fp(sf.final_path);
      std::error_code ec;
      if (fp.has_parent_path()) std::filesystem::create_directories(fp.parent_path(), ec);
      // The span id is record data: sanitised like any template field.
      std::filesystem::path tmp =
          fp.parent_path() / ("." + sanitize_segment(fp.filename().string()) + "." +
                              sanitize_segment(id) + ".ferry-tmp");
      if (Status s = reopen(sf.out, tmp.string(), O_TRUNC); !s.ok()) return s;
      sf.out.size = 0;
    } else if (!sf.out.fd) {
      if (Status s = reopen(sf.out, sf.out.path, O_APPEND); !s.ok()) return s;
    }
    sf.out.last_write = Clock::now();
    if (value) sf.out.buffer.append(*value);
    auto eol = r.header("ferry.eol");
    if (!eol)
      sf.out.buffer.push_back('\n');
    else if (*eol == "crlf")
      sf.out.buffer.append("\r\n");
    // "none": the source file ended without a newline
    sf.last_seq = seq;
    sf.saved = false;
    if (sf.out.buffer.size() >= write_buffer_) return write_out(sf.out);
    return Status::Ok();
  }

  static void sync_dir(const std::string& file) {
    std::filesystem::path dir = std::filesystem::path(file).parent_path();
    UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
  }

  // The file for a record. Without {date} or {span} the path depends on topic and
  // partition only, so consecutive records of one partition skip the template.
  Status file_for(const RecordView& r, OutFile*& out) {
    if (last_file_ != nullptr && static_path_ && r.partition() == last_partition_ &&
        r.topic() == last_topic_) {
      out = last_file_;
      return Status::Ok();
    }
    TemplateValues tv{r.topic(), r.partition(),
                      uses_span_ ? r.header("ferry.span").value_or("") : std::string_view(),
                      r.timestamp_ms(), r.key().value_or("")};
    if (Status s = open_file(expand_path(template_, tv), out); !s.ok()) return s;
    last_file_ = out;
    last_topic_ = r.topic();
    last_partition_ = r.partition();
    return Status::Ok();
  }

  Status open_file(const std::string& path, OutFile*& out) {
    auto it = files_.find(path);
    if (it != files_.end()) {
      out = it->second.get();
      return Status::Ok();
    }
    std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) return Status::Retriable("cannot create directory for " + path + ": " + ec.message());
    auto f = std::make_unique<OutFile>();
    if (Status s = reopen(*f, path, O_APPEND); !s.ok()) return s;
    struct stat st {};
    if (::fstat(f->fd.get(), &st) == 0) f->size = static_cast<uint64_t>(st.st_size);
    if (Status s = drop_partial_line(*f); !s.ok()) {
      close_out(*f);
      return s;
    }
    out = f.get();
    files_.emplace(path, std::move(f));
    return Status::Ok();
  }

  // Every record ends in "\n" and a flush writes whole records, so a file ending inside
  // a line was cut by a write that failed (a full disk) before a crash. That record was
  // not committed and comes again: cut the fragment off rather than glue the record to it.
  Status drop_partial_line(OutFile& f) {
    if (f.size == 0) return Status::Ok();
    UniqueFd in(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) return Status::Retriable("cannot read " + f.path + ": " + std::strerror(errno));
    uint64_t end = f.size;
    char buf[4096];
    while (end > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(end, sizeof buf));
      ssize_t n = ::pread(in.get(), buf, want, static_cast<off_t>(end - want));
      if (n != static_cast<ssize_t>(want))
        return Status::Retriable("cannot read " + f.path + ": " + std::strerror(errno));
      const char* nl = static_cast<const char*>(::memrchr(buf, '\n', want));
      if (nl != nullptr) {
        end -= want - static_cast<size_t>(nl - buf) - 1;
        break;
      }
      end -= want;
    }
    if (end == f.size) return Status::Ok();
    if (::ftruncate(f.fd.get(), static_cast<off_t>(end)) != 0)
      return Status::Retriable("cannot cut the partial line off " + f.path + ": " +
                               std::strerror(errno));
    host_.warn(f.path + " ended in a partial line of " + std::to_string(f.size - end) +
               " bytes (a write cut short before a crash); removed it, its record comes again");
    f.size = end;
    return Status::Ok();
  }

  // Opens `path` for writing into `f`, first closing the least recently written output
  // when max_open_files are open. A closed file_ entry is erased; a span's is kept
  // (path, size, sequence) and reopened on its next record.
  Status reopen(OutFile& f, const std::string& path, int mode) {
    while (open_count_ >= max_open_) {
      if (Status s = close_least_recent(&f); !s.ok()) return s;
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644));
    if (!fd) return Status::Retriable("cannot open " + path + ": " + std::strerror(errno));
    f.fd = std::move(fd);
    f.path = path;
    ++open_count_;
    return Status::Ok();
  }

  void close_out(OutFile& f) {
    if (!f.fd) return;
    f.fd.reset();
    --open_count_;
  }

  // Writes out and fsyncs `f` (when fsync is on, or `force`).
  Status sync_out(OutFile& f, bool force = false) {
    if (!f.fd) return Status::Ok();
    if (Status s = write_out(f); !s.ok()) return s;
    if ((fsync_ || force) && f.dirty) {
      if (::fsync(f.fd.get()) != 0)
        return Status::Retriable("fsync " + f.path + ": " + std::strerror(errno));
      f.dirty = false;
    }
    return Status::Ok();
  }

  Status close_least_recent(const OutFile* keep) {
    OutFile* oldest = nullptr;
    for (auto& [p, f] : files_)
      if (f->fd && f.get() != keep && (!oldest || f->last_write < oldest->last_write))
        oldest = f.get();
    for (auto& [id, sf] : spans_)
      if (sf->out.fd && &sf->out != keep && (!oldest || sf->out.last_write < oldest->last_write))
        oldest = &sf->out;
    if (oldest == nullptr) return Status::Retriable("no output file can be closed");
    // Closed only once its bytes are on disk: the next flush cannot fsync it any more.
    if (Status s = sync_out(*oldest, /*force=*/true); !s.ok()) return s;
    close_out(*oldest);
    drop_closed_files();
    host_.count("files_closed");
    return Status::Ok();
  }

  // Runs at the end of flush(): every buffer is written out, and fsynced unless fsync is
  // off, so an idle file can simply be closed.
  void close_idle() {
    if (idle_close_.count() <= 0) return;
    auto cutoff = Clock::now() - idle_close_;
    auto idle = [&](const OutFile& f) {
      return f.fd && f.last_write < cutoff && f.buffer.empty() && (!f.dirty || !fsync_);
    };
    for (auto& [p, f] : files_)
      if (idle(*f)) close_out(*f);
    for (auto& [id, sf] : spans_)
      if (idle(sf->out)) close_out(sf->out);
    drop_closed_files();
  }

  // Published spans are remembered for span_done_retention, in memory as in the state.
  void forget_old_spans() {
    int64_t now = epoch_seconds();
    if (now < next_forget_s_) return;
    next_forget_s_ = now + 60;
    std::vector<std::string> old;
    for (const auto& [id, v] : span_state_)
      if (v.starts_with("done\n") && now - std::atoll(v.c_str() + 5) > done_retention_s_ &&
          !spans_.contains(id))
        old.push_back(id);
    for (const auto& id : old) {
      if (!host_.put_state("span:" + id, std::nullopt).ok()) return;  // next time
      span_state_.erase(id);
    }
  }

  void drop_closed_files() {
    for (auto it = files_.begin(); it != files_.end();) {
      if (it->second->fd) {
        ++it;
        continue;
      }
      if (last_file_ == it->second.get()) last_file_ = nullptr;
      it = files_.erase(it);
    }
  }

  // Renames a finished span file to `final_path`, or to "<final_path>.<N>" when that
  // name is taken: a published file is never replaced (another span of the same name,
  // or a span forged onto the span topic, would otherwise destroy it).
  Status publish(const std::string& tmp, const std::string& final_path, std::string& target) {
    target = final_path;
    for (int n = 1;; ++n) {
      if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0)
        break;
      if (errno != EEXIST || n > 100000)
        return Status::Retriable("rename " + tmp + " to " + target + ": " + std::strerror(errno));
      target = final_path + "." + std::to_string(n);
    }
    if (target != final_path)
      host_.warn(final_path + " exists already; published the span as " + target);
    sync_dir(target);
    return Status::Ok();
  }

  Status write_out(OutFile& f) {
    size_t done = 0;
    while (done < f.buffer.size()) {
      ssize_t n = ::write(f.fd.get(), f.buffer.data() + done, f.buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        // Keep what was not written; the host retries the flush, which goes on exactly
        // where this write stopped (a full disk: when space returns).
        f.buffer.erase(0, done);
        f.size += done;
        if (done > 0) f.dirty = true;
        return Status::Retriable("write " + f.path + ": " + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    if (done > 0 && fsync_) {
      // Start writeback now, without waiting, so the fsync in flush() finds little
      // left to write and the consumer is not stalled behind a large flush.
      ::sync_file_range(f.fd.get(), static_cast<off_t>(f.size), static_cast<off_t>(done),
                        SYNC_FILE_RANGE_WRITE);
    }
    f.size += done;
    if (done > 0) f.dirty = true;
    f.buffer.clear();
    return Status::Ok();
  }

  bool needs_rotation(const OutFile& f) const {
    if (rotate_bytes_ > 0 && f.size + f.buffer.size() >= rotate_bytes_) return true;
    return rotate_interval_.count() > 0 && Clock::now() - f.opened >= rotate_interval_;
  }

  Status rotate(std::string path) {  // by value: the OutFile holding it is erased below
    OutFile& f = *files_.at(path);
    if (Status s = write_out(f); !s.ok()) return s;
    if (fsync_ && ::fsync(f.fd.get()) != 0)
      return Status::Retriable("fsync " + path + ": " + std::strerror(errno));
    std::string target;
    for (int n = 1;; ++n) {
      target = path + "." + std::to_string(n);
      if (::access(target.c_str(), F_OK) != 0) break;
    }
    if (::rename(path.c_str(), target.c_str()) != 0)
      return Status::Retriable("rotate " + path + ": " + std::strerror(errno));
    close_out(f);
    files_.erase(path);
    last_file_ = nullptr;
    host_.debug("rotated " + path + " to " + target);
    host_.count("files_rotated");
    return Status::Ok();
  }

  Host host_;
  std::string template_;
  uint64_t rotate_bytes_;
  std::chrono::milliseconds rotate_interval_;
  bool fsync_;
  bool skip_tombstones_;
  size_t write_buffer_;
  bool uses_span_;
  bool static_path_;
  std::map<std::string, std::unique_ptr<OutFile>> files_;
  OutFile* last_file_ = nullptr;  // cache of the previous record's file
  std::string last_topic_;
  int32_t last_partition_ = -1;
  bool per_span_;
  int64_t done_retention_s_;
  std::map<std::string, std::unique_ptr<SpanFile>> spans_;
  std::map<std::string, std::string> span_state_;  // saved state by span id, from start
  size_t max_open_;
  std::chrono::milliseconds idle_close_;
  size_t open_count_ = 0;  // descriptors held by files_ and spans_
  int64_t next_forget_s_ = 0;
};

}  // namespace
}  // namespace ferry::file

FERRY_PLUGIN(ferry::file::FileSink, "file-sink", "0.1.0",
             "Writes record values as lines to files named by a path template",
             ferry::file::kSinkOptions)
