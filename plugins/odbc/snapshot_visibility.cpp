#include "snapshot_visibility.hpp"

#include <algorithm>
#include <charconv>

namespace ferry::odbc {
namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::optional<SnapshotVisibility> SnapshotVisibility::parse(std::string_view snapshot,
                                                            uint64_t until) {
  SnapshotVisibility v;
  size_t a = snapshot.find(':');
  size_t b = a == std::string_view::npos ? a : snapshot.find(':', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  if (!parse_u64(snapshot.substr(0, a), v.xmin_) ||
      !parse_u64(snapshot.substr(a + 1, b - a - 1), v.xmax_) || v.xmin_ > v.xmax_)
    return std::nullopt;
  std::string_view rest = snapshot.substr(b + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    uint64_t x = 0;
    if (!parse_u64(rest.substr(0, comma), x)) return std::nullopt;
    v.xip_.push_back(x);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  v.until_ = until;
  v.text_ = std::string(snapshot);
  return v;
}

bool SnapshotVisibility::saw(uint32_t xid, uint64_t commit_lsn) const {
  if (commit_lsn >= until_) return false;
  // pgoutput carries 32-bit xids, the snapshot 64-bit ones (epoch << 32 | xid). A
  // transaction the snapshot could have seen is close to xmax: take the epoch that puts
  // xid nearest to it.
  const uint64_t epoch = xmax_ >> 32;
  uint64_t full = (epoch << 32) | xid;
  if (full > xmax_ && full - xmax_ > (1ULL << 31) && epoch > 0)
    full -= 1ULL << 32;
  else if (full < xmax_ && xmax_ - full > (1ULL << 31))
    full += 1ULL << 32;
  if (full < xmin_) return true;
  if (full >= xmax_) return false;
  return std::find(xip_.begin(), xip_.end(), full) == xip_.end();
}

}  // namespace ferry::odbc
