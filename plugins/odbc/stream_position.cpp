#include "stream_position.hpp"

#include <charconv>
#include <cstdlib>

#include "pgoutput_decoder.hpp"

namespace ferry::odbc {

std::string format_position(const StreamPosition& p) {
  std::string s;
  format_position(p, s);
  return s;
}

void format_position(const StreamPosition& p, std::string& out) {
  out.assign(p.snapshot ? "snapshot;lsn=" : "lsn=");
  pg::append_lsn(out, p.lsn);
  if (p.txn != 0) {
    out += ";txn=";
    pg::append_lsn(out, p.txn);
    out += ";n=";
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, p.n).ptr);
  }
  if (!p.vis.empty()) {
    out += ";vis=";
    out += p.vis;
    out += ";until=";
    pg::append_lsn(out, p.until);
  }
}

bool parse_position(std::string_view text, StreamPosition& out) {
  out = {};
  bool have_lsn = false;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (part == "snapshot") {
      out.snapshot = true;
    } else if (part.starts_with("lsn=")) {
      have_lsn = pg::parse_lsn(part.substr(4), out.lsn);
      if (!have_lsn) return false;
    } else if (part.starts_with("txn=")) {
      if (!pg::parse_lsn(part.substr(4), out.txn)) return false;
    } else if (part.starts_with("n=")) {
      out.n = std::strtoull(std::string(part.substr(2)).c_str(), nullptr, 10);
    } else if (part.starts_with("vis=")) {
      out.vis = std::string(part.substr(4));
    } else if (part.starts_with("until=")) {
      if (!pg::parse_lsn(part.substr(6), out.until)) return false;
    } else {
      return false;
    }
  }
  return have_lsn && out.vis.empty() == (out.until == 0);
}

}  // namespace ferry::odbc
