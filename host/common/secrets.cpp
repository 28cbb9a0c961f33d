#include "common/secrets.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

namespace ferry::secrets {
namespace {

std::mutex g_mu;
std::atomic<bool> g_any{false};

// Longest first, so a secret containing another is masked whole.
struct LongerFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
};
std::set<std::string, LongerFirst>& values() {
  static std::set<std::string, LongerFirst> v;
  return v;
}

}  // namespace

void remember(std::string_view value) {
  // A secret file usually ends in a newline that is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
  if (value.size() < kMinLength) return;
  std::lock_guard lock(g_mu);
  values().emplace(value);
  g_any = true;
}

std::string scrub(std::string_view text) {
  std::string out(text);
  if (!g_any.load(std::memory_order_relaxed)) return out;
  std::lock_guard lock(g_mu);
  for (const auto& s : values()) {
    for (size_t at = out.find(s); at != std::string::npos; at = out.find(s, at + kMask.size()))
      out.replace(at, s.size(), kMask);
  }
  return out;
}

}  // namespace ferry::secrets
