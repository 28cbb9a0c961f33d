// Crash-safe replacement of a small file: write a temp file, fsync it, rename it over
// the target, fsync the directory. A reader sees the old or the new content, never a
// mix, even after power loss.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/status.hpp"

namespace ferry {

// Retriable on failure (a full disk, a vanished directory): the old content stays.
[[nodiscard]] Status write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content);
// Reads `fd` to its end, appending to `out`. False on a read error (errno says which)
// or, with `too_large` set, once more than `max_bytes` arrived.
bool read_to_end(int fd, std::string& out, size_t max_bytes, bool& too_large);
// nullopt when the file does not exist; throws nothing.
std::optional<std::string> read_whole_file(const std::filesystem::path& path,
                                           std::string* error = nullptr);

}  // namespace ferry
