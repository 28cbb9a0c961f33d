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
// files is byte-identical even across crashes and redelivery.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/sdk.hpp"
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
};

struct OutFile {
  std::string path;
  int fd = -1;
  std::string buffer;
  uint64_t size = 0;
  bool dirty = false;  // written since the last fsync
  Clock::time_point opened = Clock::now();
  ~OutFile() {
    if (fd >= 0) ::close(fd);
  }
};

struct SpanFile {
  OutFile out;  // out.path is the temporary file
  std::string final_path;
  uint64_t last_seq = 0;  // highest ferry.span.seq written
  bool done = false;      // finished in an earlier run: its records are redelivered copies
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
        done_retention_s_(cfg.duration("span_done_retention").count() / 1000) {}

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
      if (f->buffer.size() >= write_buffer_)
        if (Status s = write_out(*f); !s.ok()) return s;
      if (needs_rotation(*f))
        if (Status s = rotate(f->path); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status flush() override {
    for (auto& [path, f] : files_) {
      if (Status s = write_out(*f); !s.ok()) return s;
      if (fsync_ && f->dirty) {
        if (::fsync(f->fd) != 0)
          return Status::Retriable("fsync " + path + ": " + std::strerror(errno));
        f->dirty = false;
      }
    }
    for (auto& [id, sf] : spans_) {
      if (sf->done || sf->out.fd < 0) continue;
      if (Status s = write_out(sf->out); !s.ok()) return s;
      if (sf->out.dirty) {
        if (::fsync(sf->out.fd) != 0)
          return Status::Retriable("fsync " + sf->out.path + ": " + std::strerror(errno));
        sf->out.dirty = false;
      }
      if (!sf->saved) {
        // What a restart resumes from: bytes and records of the span safely on disk.
        std::string state = "open\n" + std::to_string(sf->out.size) + "\n" +
                            std::to_string(sf->last_seq) + "\n" + sf->out.path + "\n" +
                            sf->final_path;
        if (Status s = host_.put_state("span:" + id, state); !s.ok()) return s;
        sf->saved = true;
      }
    }
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
      } else if (parts[0] == "open" && parts.size() == 5) {
        // Resume after a restart: drop bytes written after the last flush (their
        // records come again) and go on from the last record known to be on disk.
        uint64_t size = std::strtoull(parts[1].c_str(), nullptr, 10);
        int fd = ::open(parts[3].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0 ||
            ::lseek(fd, 0, SEEK_END) < 0) {
          if (fd >= 0) ::close(fd);
          return Status::Retriable("cannot resume " + parts[3] + ": " + std::strerror(errno));
        }
        sf->out.fd = fd;
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
    if (!sf.done && sf.out.fd >= 0) {
      if (Status s = write_out(sf.out); !s.ok()) return s;
      if (::fsync(sf.out.fd) != 0)
        return Status::Retriable("fsync " + sf.out.path + ": " + std::strerror(errno));
      if (::rename(sf.out.path.c_str(), sf.final_path.c_str()) != 0)
        return Status::Retriable("rename " + sf.out.path + " to " + sf.final_path + ": " +
                                 std::strerror(errno));
      sync_dir(sf.final_path);
      host_.info("span " + id + " complete: " + sf.final_path + " (" + std::to_string(sf.out.size) +
                 " bytes, " + std::to_string(sf.last_seq) + " records)");
      host_.count("span_files");
    }
    if (!sf.done) {
      if (Status s = host_.put_state("span:" + id, "done\n" + std::to_string(epoch_seconds()));
          !s.ok())
        return s;
    }
    span_state_.erase(id);
    spans_.erase(it);
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
    if (sf.done) return Status::Ok();
    uint64_t seq = r.span_seq();
    if (seq != 0 && seq <= sf.last_seq) return Status::Ok();  // a copy we already have
    if (seq > sf.last_seq + 1 && sf.last_seq > 0)
      host_.warn("span " + id + ": record " + std::to_string(seq) + " follows " +
                 std::to_string(sf.last_seq) + "; records are missing from the span");
    if (sf.out.fd < 0) {
      TemplateValues tv{r.topic(), r.partition(), r.span(), r.timestamp_ms(), r.key().value_or("")};
      sf.final_path = expand_path(template_, tv);
      std::filesystem::path fp(sf.final_path);
      std::error_code ec;
      if (fp.has_parent_path()) std::filesystem::create_directories(fp.parent_path(), ec);
      std::filesystem::path tmp =
          fp.parent_path() / ("." + fp.filename().string() + "." + id + ".ferry-tmp");
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        return Status::Retriable("cannot open " + tmp.string() + ": " + std::strerror(errno));
      sf.out.fd = fd;
      sf.out.path = tmp.string();
      sf.out.size = 0;
    }
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
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
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
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::Retriable("cannot open " + path + ": " + std::strerror(errno));
    auto f = std::make_unique<OutFile>();
    f->path = path;
    f->fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) == 0) f->size = static_cast<uint64_t>(st.st_size);
    out = f.get();
    files_.emplace(path, std::move(f));
    return Status::Ok();
  }

  Status write_out(OutFile& f) {
    size_t done = 0;
    while (done < f.buffer.size()) {
      ssize_t n = ::write(f.fd, f.buffer.data() + done, f.buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        // Keep what was not written; the host retries flush. Bytes already written stay
        // (a retry after a partial write may duplicate a line, never lose one).
        f.buffer.erase(0, done);
        return Status::Retriable("write " + f.path + ": " + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    if (done > 0 && fsync_) {
      // Start writeback now, without waiting, so the fsync in flush() finds little
      // left to write and the consumer is not stalled behind a large flush.
      ::sync_file_range(f.fd, static_cast<off_t>(f.size), static_cast<off_t>(done),
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
    if (fsync_ && ::fsync(f.fd) != 0)
      return Status::Retriable("fsync " + path + ": " + std::strerror(errno));
    std::string target;
    for (int n = 1;; ++n) {
      target = path + "." + std::to_string(n);
      if (::access(target.c_str(), F_OK) != 0) break;
    }
    if (::rename(path.c_str(), target.c_str()) != 0)
      return Status::Retriable("rotate " + path + ": " + std::strerror(errno));
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
};

}  // namespace
}  // namespace ferry::file

FERRY_PLUGIN(ferry::file::FileSink, "file-sink", "0.1.0",
             "Writes record values as lines to files named by a path template",
             ferry::file::kSinkOptions)
