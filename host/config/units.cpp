#include "config/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace ferry::config {
namespace {

// Splits "12.5ms" into 12.5 and "ms"; fails on empty or negative numbers.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(number)) return false;
  unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else if (unit == "d")
    factor = 86'400'000;
  else
    return std::nullopt;  // a bare number is ambiguous for a duration: require a unit
  double ms = n * factor;
  if (ms > 9e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(ms));
}

std::optional<uint64_t> parse_size_bytes(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double factor = 0;
  if (unit.empty() || unit == "B")
    factor = 1;
  else if (unit == "KB" || unit == "kB")
    factor = 1e3;
  else if (unit == "MB")
    factor = 1e6;
  else if (unit == "GB")
    factor = 1e9;
  else if (unit == "KiB")
    factor = 1024.0;
  else if (unit == "MiB")
    factor = 1024.0 * 1024;
  else if (unit == "GiB")
    factor = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  double bytes = n * factor;
  if (bytes > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace ferry::config
