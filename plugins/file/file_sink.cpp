// file-sink: appends each record's value plus "\n" to a file chosen by a path
// template. Writes are buffered; flush writes and fsyncs every touched file before the
// host commits consumer offsets, so an acknowledged offset always means bytes on disk.
// Files rotate by size or age; a rotated file is fsynced and renamed to
// "<path>.<N>", N counting up from 1.
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
        static_path_(!uses_span_ && template_.find("{date}") == std::string::npos) {}

  static Status validate(const Config& cfg) {
    std::string field;
    if (template_has_unknown_field(cfg.str("path"), field))
      return Status::Config("path template has unknown field {" + field +
                            "} (known: {topic}, {partition}, {span}, {date})");
    return Status::Ok();
  }

  Status put(std::span<const RecordView> records) override {
    for (const RecordView& r : records) {
      auto value = r.value();
      if (!value && skip_tombstones_) continue;
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
    return Status::Ok();
  }

 private:
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
                      r.timestamp_ms()};
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
};

}  // namespace
}  // namespace ferry::file

FERRY_PLUGIN(ferry::file::FileSink, "file-sink", "0.1.0",
             "Writes record values as lines to files named by a path template",
             ferry::file::kSinkOptions)
