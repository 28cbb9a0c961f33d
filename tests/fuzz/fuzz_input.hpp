// Helpers for fuzz targets: cutting one input into several fields, and a scratch file
// for the parsers that read files.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace ferry::fuzz {

// Takes the bytes before the next `sep` (or all that is left) off the front of `in`.
inline std::string_view take_field(std::string_view& in, char sep = '\n') {
  size_t at = in.find(sep);
  std::string_view field = in.substr(0, at);
  in.remove_prefix(at == std::string_view::npos ? in.size() : at + 1);
  return field;
}

// A file of this process in the temp directory, rewritten for each input.
inline std::filesystem::path scratch_file(std::string_view content, const char* name) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("ferry-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  auto path = dir / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

}  // namespace ferry::fuzz
