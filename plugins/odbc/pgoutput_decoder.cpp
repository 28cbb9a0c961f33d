#include "pgoutput_decoder.hpp"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace ferry::odbc::pg {

namespace {

// PostgreSQL's epoch (2000-01-01) in microseconds after the Unix epoch.
constexpr int64_t kPgEpochUs = 946'684'800'000'000;

// A commit time on the wire (microseconds since 2000-01-01, signed) as microseconds
// since 1970, saturated: the bytes come from the server, and a value near the end of
// int64 must not overflow.
int64_t unix_us(uint64_t wire) {
  int64_t pg = static_cast<int64_t>(wire);
  int64_t out = 0;
  if (__builtin_add_overflow(pg, kPgEpochUs, &out)) return INT64_MAX;
  return out;
}

// Reads big-endian network-order fields; any overrun sets `bad` and yields zeros.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool bad() const { return bad_; }
  bool done() const { return pos_ >= d_.size(); }

  uint64_t uint(int bytes) {
    if (pos_ + static_cast<size_t>(bytes) > d_.size()) {
      bad_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_++]);
    return v;
  }
  char byte() { return static_cast<char>(uint(1)); }
  std::string_view cstring() {
    size_t end = d_.find('\0', pos_);
    if (end == std::string_view::npos) {
      bad_ = true;
      return {};
    }
    std::string_view s = d_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  std::string_view bytes(size_t n) {
    if (pos_ + n > d_.size()) {
      bad_ = true;
      return {};
    }
    std::string_view s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
  bool bad_ = false;
};

bool read_tuple(Reader& r, Tuple& t) {
  auto n = static_cast<size_t>(r.uint(2));
  t.resize(n);
  for (size_t i = 0; i < n && !r.bad(); ++i) {
    char kind = r.byte();
    t[i].kind = kind;
    t[i].text = {};
    if (kind == 't' || kind == 'b') {
      auto len = static_cast<size_t>(r.uint(4));
      t[i].text = r.bytes(len);
      t[i].kind = 't';
    } else if (kind != 'n' && kind != 'u') {
      return false;
    }
  }
  return !r.bad();
}

}  // namespace

std::string Decoder::decode(std::string_view data, Message& m) {
  Reader r(data);
  m.tag = r.byte();
  m.old_kind = 0;
  m.old_tuple.clear();
  m.new_tuple.clear();
  switch (m.tag) {
    case 'B':
      m.lsn = r.uint(8);
      m.commit_us = unix_us(r.uint(8));
      m.xid = static_cast<uint32_t>(r.uint(4));
      break;
    case 'C':
      (void)r.uint(1);  // flags, unused
      m.lsn = r.uint(8);
      m.end_lsn = r.uint(8);
      m.commit_us = unix_us(r.uint(8));
      break;
    case 'R': {
      Relation rel;
      rel.id = static_cast<uint32_t>(r.uint(4));
      rel.schema = r.cstring();
      if (rel.schema.empty()) rel.schema = "pg_catalog";
      rel.table = r.cstring();
      rel.replica_identity = r.byte();
      auto n = static_cast<size_t>(r.uint(2));
      for (size_t i = 0; i < n && !r.bad(); ++i) {
        Column c;
        c.key = (r.uint(1) & 1u) != 0;
        c.name = r.cstring();
        c.type = static_cast<uint32_t>(r.uint(4));
        c.typmod = static_cast<int32_t>(r.uint(4));
        rel.columns.push_back(std::move(c));
      }
      m.relation = rel.id;
      if (!r.bad()) relations_[rel.id] = std::move(rel);
      break;
    }
    case 'I':
      m.relation = static_cast<uint32_t>(r.uint(4));
      if (r.byte() != 'N' || !read_tuple(r, m.new_tuple)) return "malformed Insert message";
      break;
    case 'U': {
      m.relation = static_cast<uint32_t>(r.uint(4));
      char k = r.byte();
      if (k == 'K' || k == 'O') {
        m.old_kind = k;
        if (!read_tuple(r, m.old_tuple)) return "malformed Update message";
        k = r.byte();
      }
      if (k != 'N' || !read_tuple(r, m.new_tuple)) return "malformed Update message";
      break;
    }
    case 'D': {
      m.relation = static_cast<uint32_t>(r.uint(4));
      char k = r.byte();
      if ((k != 'K' && k != 'O') || !read_tuple(r, m.old_tuple)) return "malformed Delete message";
      m.old_kind = k;
      break;
    }
    case 'T': {
      auto n = static_cast<size_t>(r.uint(4));
      m.truncate_options = static_cast<uint8_t>(r.uint(1));
      m.truncated.clear();
      for (size_t i = 0; i < n && !r.bad(); ++i)
        m.truncated.push_back(static_cast<uint32_t>(r.uint(4)));
      break;
    }
    case 'O':  // origin, type and logical messages carry nothing ferry emits
    case 'Y':
    case 'M':
      return {};
    default:
      return std::string("unknown pgoutput message type '") + (m.tag ? m.tag : '?') + "'";
  }
  if (r.bad()) return std::string("truncated pgoutput message of type '") + m.tag + "'";
  if ((m.tag == 'I' || m.tag == 'U' || m.tag == 'D') && relation(m.relation) == nullptr)
    return "row for relation " + std::to_string(m.relation) + " before its Relation message";
  if (const Relation* rel =
          (m.tag == 'I' || m.tag == 'U' || m.tag == 'D') ? relation(m.relation) : nullptr) {
    size_t want = rel->columns.size();
    if (m.new_tuple.size() > want || m.old_tuple.size() > want)
      return "row of " + rel->schema + "." + rel->table + " has more columns than its relation";
  }
  return {};
}

const Relation* Decoder::relation(uint32_t id) const {
  auto it = relations_.find(id);
  return it == relations_.end() ? nullptr : &it->second;
}

std::string format_lsn(uint64_t lsn) {
  std::string s;
  append_lsn(s, lsn);
  return s;
}

void append_lsn(std::string& out, uint64_t lsn) {
  // Hot: every record's offset holds LSNs. Upper-case hex, as PostgreSQL prints them.
  char buf[24];
  auto hi = std::to_chars(buf, buf + 8, static_cast<uint32_t>(lsn >> 32), 16).ptr;
  *hi++ = '/';
  auto end = std::to_chars(hi, buf + sizeof buf, static_cast<uint32_t>(lsn & 0xffffffffu), 16).ptr;
  for (char* p = buf; p != end; ++p)
    if (*p >= 'a' && *p <= 'f') *p = static_cast<char>(*p - 'a' + 'A');
  out.append(buf, end);
}

bool parse_lsn(std::string_view text, uint64_t& out) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) return false;
  uint32_t hi = 0, lo = 0;
  auto a = std::from_chars(text.data(), text.data() + slash, hi, 16);
  auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), lo, 16);
  if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() ||
      b.ptr != text.data() + text.size())
    return false;
  out = (static_cast<uint64_t>(hi) << 32) | lo;
  return true;
}

}  // namespace ferry::odbc::pg
