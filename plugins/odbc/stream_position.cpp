#include "stream_position.hpp"

#include <cstdlib>

#include "pgoutput_decoder.hpp"

namespace ferry::odbc {

std::string format_position(const StreamPosition& p) {
  std::string s = p.snapshot ? "snapshot;lsn=" : "lsn=";
  s += pg::format_lsn(p.lsn);
  if (p.txn != 0) s += ";txn=" + pg::format_lsn(p.txn) + ";n=" + std::to_string(p.n);
  return s;
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
    } else {
      return false;
    }
  }
  return have_lsn;
}

}  // namespace ferry::odbc
