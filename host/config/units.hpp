// Parsing of human-written durations ("250ms", "5s", "15m", "1h", "2d") and sizes
// ("512", "64KiB", "1MiB", "10MB") used across all config files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::config {

std::optional<int64_t> parse_duration_ms(std::string_view text);
std::optional<uint64_t> parse_size_bytes(std::string_view text);

}  // namespace ferry::config
