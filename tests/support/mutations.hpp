// Variations of a valid input for tests that a parser fails cleanly on anything: every
// truncation, then random byte changes, insertions and deletions. The generator has a
// fixed seed, so a failing input comes back on every run and can be printed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::test {

inline std::vector<std::string> mutations(const std::string& valid, size_t random_count,
                                          uint32_t seed = 1) {
  std::vector<std::string> out;
  for (size_t n = 0; n < valid.size(); ++n) out.push_back(valid.substr(0, n));
  // Bytes that sit on the edges of length fields and of JSON's grammar.
  static constexpr char kEdges[] = {'\x00', '\x01', '\x7f', '\x80', '\xff', '"', '{', '}',
                                    '[',    ']',    ':',    ',',    '\\',   '9', '-', 'e'};
  std::mt19937 rng(seed);
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (size_t i = 0; i < random_count; ++i) {
    std::string m = valid;
    for (size_t edits = 1 + below(3); edits > 0; --edits) {
      size_t pos = m.empty() ? 0 : below(m.size());
      switch (below(4)) {
        case 0:
          if (!m.empty()) m[pos] = static_cast<char>(rng());
          break;
        case 1:
          if (!m.empty()) m[pos] = kEdges[below(sizeof kEdges)];
          break;
        case 2:
          m.insert(pos, 1, kEdges[below(sizeof kEdges)]);
          break;
        default:
          if (!m.empty()) m.erase(pos, 1 + below(std::min<size_t>(8, m.size() - pos)));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

// Whether `part` lies inside `whole` (a view a parser returned into its input).
inline bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  auto b = reinterpret_cast<uintptr_t>(whole.data());
  auto p = reinterpret_cast<uintptr_t>(part.data());
  return p >= b && p + part.size() <= b + whole.size();
}

// `input` with bytes outside printable ASCII as \xNN, for failure messages.
inline std::string printable(std::string_view input) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : input) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace ferry::test
